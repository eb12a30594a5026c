// Logger setup: one shared sink, a JSON or text pattern, per-module loggers.
#include "spike_bootstrap/common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace spike_bootstrap::logging {
namespace {

// Time in UTC so lines from different pods line up.
constexpr const char* kJsonPattern =
    R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n",%v})";
constexpr const char* kTextPattern = "%Y-%m-%d %H:%M:%S.%e %l [%n] %v";

struct LogState {
  std::mutex mutex;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  std::atomic<Format> format{Format::kText};
  spdlog::level::level_enum level = spdlog::level::info;
};

LogState& state() {
  static LogState instance;
  return instance;
}

spdlog::level::level_enum toSpdlog(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* patternFor(Format format) {
  return format == Format::kJson ? kJsonPattern : kTextPattern;
}

void applyPattern(spdlog::sinks::sink& sink, Format format) {
  sink.set_formatter(
      std::make_unique<spdlog::pattern_formatter>(patternFor(format), spdlog::pattern_time_type::utc));
}

// Quotes a text-mode value when it would not read back as one token.
void appendTextValue(std::string& out, std::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out += value;
  } else {
    appendJsonString(out, value);
  }
}

}  // namespace

Field::Field(std::string_view key, double value)
    : key_(key), value_(fmt::format("{:.3f}", value)), raw_(true) {}

void configure(Format format, Level level) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.format = format;
  s.level = toSpdlog(level);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
    logger->set_level(s.level);
  });
  applyPattern(*s.sink, format);
}

void setSink(spdlog::sink_ptr sink) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.sink = std::move(sink);
  applyPattern(*s.sink, s.format);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
    logger->sinks().assign(1, s.sink);
  });
}

void appendJsonString(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string formatPayload(Format format, std::string_view message, Fields fields) {
  std::string out;
  if (format == Format::kJson) {
    out += "\"message\":";
    appendJsonString(out, message);
    for (const Field& field : fields) {
      out += ',';
      appendJsonString(out, field.key());
      out += ':';
      if (field.raw()) {
        out += field.value();
      } else {
        appendJsonString(out, field.value());
      }
    }
    return out;
  }
  out += message;
  for (const Field& field : fields) {
    out += ' ';
    out += field.key();
    out += '=';
    appendTextValue(out, field.value());
  }
  return out;
}

Logger::Logger(std::string_view module) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  std::string name(module);
  logger_ = spdlog::get(name);
  if (!logger_) {
    applyPattern(*s.sink, s.format);
    logger_ = std::make_shared<spdlog::logger>(name, s.sink);
    logger_->set_level(s.level);
    // Flush every line: a Job's logs must survive an abrupt exit.
    logger_->flush_on(spdlog::level::trace);
    spdlog::register_logger(logger_);
  }
}

void Logger::debug(std::string_view message, Fields fields) const {
  write(spdlog::level::debug, message, fields);
}
void Logger::info(std::string_view message, Fields fields) const {
  write(spdlog::level::info, message, fields);
}
void Logger::warn(std::string_view message, Fields fields) const {
  write(spdlog::level::warn, message, fields);
}
void Logger::error(std::string_view message, Fields fields) const {
  write(spdlog::level::err, message, fields);
}

bool Logger::debugEnabled() const { return logger_->should_log(spdlog::level::debug); }

void Logger::write(spdlog::level::level_enum level, std::string_view message,
                   Fields fields) const {
  if (!logger_->should_log(level)) {
    return;
  }
  std::string payload = formatPayload(state().format.load(), message, fields);
  logger_->log(level, spdlog::string_view_t(payload.data(), payload.size()));
}

}  // namespace spike_bootstrap::logging
