#include "cli/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
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

Result<void> configure_logging(std::string_view format, std::string_view level,
                               const std::filesystem::path& file) {
  const auto parsed_level = spdlog::level::from_str(std::string(level));
  if (parsed_level == spdlog::level::off && level != "off") {
    return fail("--log-level: \"" + std::string(level) +
                "\" is not one of trace, debug, info, warn, error, off");
  }
  if (format != "text" && format != "json") {
    return fail("--log-format: \"" + std::string(format) + "\" is not text or json");
  }
  std::shared_ptr<spdlog::sinks::sink> target;
  if (file.empty()) {
    target = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      target = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string());
    } catch (const spdlog::spdlog_ex& error) {
      return fail("--log-file: " + std::string(error.what()));
    }
  }
  if (format == "json") target->set_formatter(std::make_unique<JsonLineFormatter>());
  // Threads log through spdlog's default logger without holding a reference to it, so the logger
  // is made once and only its destination, level and format change afterwards.
  static std::mutex configuring;
  static std::shared_ptr<spdlog::sinks::dist_sink_mt> destination;
  std::lock_guard lock(configuring);
  if (!destination) {
    destination = std::make_shared<spdlog::sinks::dist_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("paperboy", destination);
    // Each line reaches the file at once: a crash loses nothing, and readers see it.
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
  }
  destination->set_sinks({std::move(target)});
  spdlog::default_logger_raw()->set_level(parsed_level);
  return {};
}

}  // namespace paperboy::cli
