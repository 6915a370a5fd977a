#include "cli/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/date.h"

namespace paperboy::cli {
namespace {

class JsonLineFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override {
    nlohmann::ordered_json line;
    const auto since_epoch = message.time.time_since_epoch();
    const auto seconds = std::chrono::floor<std::chrono::seconds>(message.time);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
    std::string time = format_instant(seconds);
    time.insert(time.size() - 1, fmt::format(".{:03}", millis));
    line["time"] = time;
    const auto level = spdlog::level::to_string_view(message.level);
    line["level"] = std::string_view(level.data(), level.size());
    line["logger"] = std::string_view(message.logger_name.data(), message.logger_name.size());
    const std::string_view payload(message.payload.data(), message.payload.size());
    auto fields = payload.starts_with('{')
                      ? nlohmann::ordered_json::parse(payload, nullptr, /*allow_exceptions=*/false)
                      : nlohmann::ordered_json();
    if (fields.is_object()) {
      for (auto& [key, value] : fields.items()) line[key] = value;
    } else {
      line["msg"] = payload;
    }
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    out.append(text.data(), text.data() + text.size());
    out.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

}  // namespace

Result<void> configure_logging(std::string_view format, std::string_view level) {
  const auto parsed_level = spdlog::level::from_str(std::string(level));
  if (parsed_level == spdlog::level::off && level != "off") {
    return fail("--log-level: \"" + std::string(level) +
                "\" is not one of trace, debug, info, warn, error, off");
  }
  if (format != "text" && format != "json") {
    return fail("--log-format: \"" + std::string(format) + "\" is not text or json");
  }
  auto logger = std::make_shared<spdlog::logger>("paperboy",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == "json") logger->set_formatter(std::make_unique<JsonLineFormatter>());
  logger->set_level(parsed_level);
  spdlog::set_default_logger(std::move(logger));
  return {};
}

}  // namespace paperboy::cli
