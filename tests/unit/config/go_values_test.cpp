// Go durations and booleans: the parsing and printing rules of Go's time and
// strconv packages, checked with values from Go's own documentation and tests.
#include <chrono>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "spike_bootstrap/config/config.h"

namespace config = spike_bootstrap::config;
using config::Duration;
using namespace std::chrono_literals;

namespace {

constexpr Duration kMax = Duration::max();
constexpr Duration kMin = Duration::min();

}  // namespace

TEST_CASE("go duration parses valid values", "[config][duration]") {
  const std::pair<const char*, Duration> cases[] = {
      {"0", 0s},
      {"+0", 0s},
      {"-0", 0s},
      {"0s", 0s},
      {"5s", 5s},
      {"+5s", 5s},
      {"300ms", 300ms},
      {"1.5s", 1500ms},
      {"1m30s", 90s},
      {"2h", 2h},
      {"1h2m3.5s", 1h + 2min + 3500ms},
      {"1ns", 1ns},
      {"1us", 1us},
      {"1\xC2\xB5s", 1us},
      {"1\xCE\xBCs", 1us},
      {"1.s", 1s},
      {".5s", 500ms},
      {"1.000s", 1s},
      {"1s1s", 2s},
      {"0.000000001s", 1ns},
      {"1.0000000001s", 1s},
      {"0.100000000000000000000h", 6min},
      {"0.830103483285477580700h", 49min + 48s + 372539827ns},
      {"9223372036854775807ns", kMax},
      {"9223372036854775.807us", kMax},
      {"2562047h47m16.854775807s", kMax},
      {"-9223372036854775808ns", kMin},
      {"-2562047h47m16.854775808s", kMin},
  };
  for (const auto& [text, expected] : cases) {
    INFO("text: " << text);
    auto parsed = config::parseGoDuration(text);
    REQUIRE(parsed.ok());
    CHECK(*parsed == expected);
  }
}

TEST_CASE("go duration parses negative values", "[config][duration]") {
  auto parsed = config::parseGoDuration("-1.5h");
  REQUIRE(parsed.ok());
  CHECK(*parsed == -90min);
}

TEST_CASE("go duration rejects invalid values", "[config][duration]") {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty value"},
      {"-", "missing number after the sign"},
      {"+", "missing number after the sign"},
      {"1", "missing unit"},
      {"1.", "missing unit"},
      {"1s2", "missing unit"},
      {"1x", "unknown unit \"x\""},
      {"1S", "unknown unit \"S\""},
      {"1e3s", "unknown unit \"e\""},
      {"1s ", "unknown unit \"s \""},
      {"1 s", "unknown unit \" s\""},
      {"s", "expected a number at \"s\""},
      {" 1s", "expected a number at \" 1s\""},
      {"--1s", "expected a number at \"-1s\""},
      {".s", "a number has no digits"},
      {"-.s", "a number has no digits"},
      {"3000000h", "out of range"},
      {"9223372036854775808ns", "out of range"},
      {"9223372036854775.808us", "out of range"},
      {"-9223372036854775809ns", "out of range"},
      {"99999999999999999999999s", "out of range"},
      {"2562047h47m17s", "out of range"},
  };
  for (const auto& [text, problem] : cases) {
    INFO("text: \"" << text << "\"");
    auto parsed = config::parseGoDuration(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == spike_bootstrap::StatusCode::kInvalidArgument);
    CHECK_THAT(parsed.status().message(), Catch::Contains(problem));
    CHECK_THAT(parsed.status().message(),
               Catch::StartsWith("invalid duration \"" + std::string(text) + "\": "));
  }
}

TEST_CASE("go duration formats like Go", "[config][duration]") {
  const std::pair<Duration, const char*> cases[] = {
      {0s, "0s"},
      {1ns, "1ns"},
      {999ns, "999ns"},
      {1100ns, "1.1\xC2\xB5s"},
      {2200us, "2.2ms"},
      {300ms, "300ms"},
      {3300ms, "3.3s"},
      {1s, "1s"},
      {90s, "1m30s"},
      {4min + 5s, "4m5s"},
      {4min + 5001ms, "4m5.001s"},
      {5h + 6min + 7001ms, "5h6m7.001s"},
      {8min + 1ns, "8m0.000000001s"},
      {30min, "30m0s"},
      {2h, "2h0m0s"},
      {-1s, "-1s"},
      {-1500us, "-1.5ms"},
      {kMax, "2562047h47m16.854775807s"},
      {kMin, "-2562047h47m16.854775808s"},
  };
  for (const auto& [duration, expected] : cases) {
    CHECK(config::formatGoDuration(duration) == expected);
  }
}

TEST_CASE("go duration round trips", "[config][duration]") {
  for (const char* text :
       {"0s", "1ns", "1.5\xC2\xB5s", "300ms", "1.5s", "1m30s", "2h0m0s", "1h2m3.5s", "-4m5.001s"}) {
    auto parsed = config::parseGoDuration(text);
    REQUIRE(parsed.ok());
    CHECK(config::formatGoDuration(*parsed) == text);
  }
}

TEST_CASE("go bool accepts strconv values", "[config][bool]") {
  for (const char* text : {"1", "t", "T", "TRUE", "true", "True"}) {
    INFO("text: " << text);
    CHECK(config::parseGoBool(text) == true);
  }
  for (const char* text : {"0", "f", "F", "FALSE", "false", "False"}) {
    INFO("text: " << text);
    CHECK(config::parseGoBool(text) == false);
  }
}

TEST_CASE("go bool rejects other values", "[config][bool]") {
  for (const char* text : {"", "yes", "no", "on", "tRuE", "FaLsE", "true ", " 1", "2", "y"}) {
    INFO("text: \"" << text << "\"");
    CHECK_FALSE(config::parseGoBool(text).has_value());
  }
}
