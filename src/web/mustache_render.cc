#include "web/mustache_render.h"

#include <map>
#include <memory>
#include <utility>

namespace paperboy::web {

std::string render_template(std::string_view text, const kainjow::mustache::data& data) {
  // Per thread, not shared: rendering writes the template's error state, so one parsed template
  // rendered by two threads at once would be a data race.
  thread_local std::map<std::pair<const char*, size_t>,
                        std::unique_ptr<kainjow::mustache::mustache>>
      parsed;
  auto& slot = parsed[{text.data(), text.size()}];
  if (!slot) slot = std::make_unique<kainjow::mustache::mustache>(std::string(text));
  return slot->render(data);
}

}  // namespace paperboy::web
