// Structured logging on top of spdlog.
//
// Each module keeps one Logger named after it. A line carries a message and
// key=value fields; configure() chooses one JSON object per line (for log
// collectors) or readable text (for a terminal). Never pass a secret as a
// field: log lengths, IDs and fingerprints instead.
#pragma once

#include <concepts>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/common.h>

namespace spdlog {
class logger;
}

namespace spike_bootstrap::logging {

enum class Format { kJson, kText };
enum class Level { kDebug, kInfo, kWarn, kError };

// One key=value pair of a log line. Numbers and booleans stay unquoted in JSON.
class Field {
 public:
  Field(std::string_view key, std::string_view value) : key_(key), value_(value) {}
  Field(std::string_view key, const char* value) : key_(key), value_(value) {}
  Field(std::string_view key, const std::string& value) : key_(key), value_(value) {}
  Field(std::string_view key, bool value) : key_(key), value_(value ? "true" : "false"), raw_(true) {}
  template <std::integral Integer>
  Field(std::string_view key, Integer value)
      : key_(key), value_(std::to_string(value)), raw_(true) {}
  Field(std::string_view key, double value);

  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }
  // True when the value is a JSON number or boolean rather than a string.
  bool raw() const { return raw_; }

 private:
  std::string_view key_;
  std::string value_;
  bool raw_ = false;
};

using Fields = std::initializer_list<Field>;

// Sets format and level for every logger, existing and future. Call it at
// start-up, before other threads log.
void configure(Format format, Level level);

// Replaces the stderr sink of every logger (tests capture output this way).
void setSink(spdlog::sink_ptr sink);

// Appends value to out as a JSON string literal, quotes included.
void appendJsonString(std::string& out, std::string_view value);

// Returns the message and fields as they appear after the time and level:
// `"message":"...","key":"value"` in JSON, `message key=value` in text.
std::string formatPayload(Format format, std::string_view message, Fields fields);

class Logger {
 public:
  // Creates or reuses the logger of a module, such as "keeper" or "spiffe".
  explicit Logger(std::string_view module);

  void debug(std::string_view message, Fields fields = {}) const;
  void info(std::string_view message, Fields fields = {}) const;
  void warn(std::string_view message, Fields fields = {}) const;
  void error(std::string_view message, Fields fields = {}) const;

  bool debugEnabled() const;

 private:
  void write(spdlog::level::level_enum level, std::string_view message, Fields fields) const;

  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace spike_bootstrap::logging
