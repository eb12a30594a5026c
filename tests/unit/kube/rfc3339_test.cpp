#include <catch2/catch.hpp>

#include "spike_bootstrap/kube/rfc3339.h"

namespace kube = spike_bootstrap::kube;
using namespace std::chrono_literals;

namespace {

kube::TimePoint at(std::chrono::sys_days day, std::chrono::nanoseconds sinceMidnight) {
  return kube::TimePoint(day.time_since_epoch() + sinceMidnight);
}

constexpr std::chrono::sys_days kMay1 =
    std::chrono::year_month_day(std::chrono::year(2024), std::chrono::May, std::chrono::day(1));

}  // namespace

TEST_CASE("rfc3339 formats utc seconds", "[kube][rfc3339]") {
  CHECK(kube::formatRfc3339(kube::TimePoint{}) == "1970-01-01T00:00:00Z");
  CHECK(kube::formatRfc3339(at(kMay1, 12h + 34min + 56s + 789ms)) == "2024-05-01T12:34:56Z");
}

TEST_CASE("rfc3339 formats milliseconds when asked", "[kube][rfc3339]") {
  CHECK(kube::formatRfc3339(at(kMay1, 12h + 34min + 56s + 789ms + 999us), true) ==
        "2024-05-01T12:34:56.789Z");
  CHECK(kube::formatRfc3339(at(kMay1, 5ms), true) == "2024-05-01T00:00:00.005Z");
}

TEST_CASE("rfc3339 parses zulu offsets and fractions", "[kube][rfc3339]") {
  auto plain = kube::parseRfc3339("2024-05-01T12:34:56Z");
  REQUIRE(plain.ok());
  CHECK(*plain == at(kMay1, 12h + 34min + 56s));

  auto fraction = kube::parseRfc3339("2024-05-01T12:34:56.123456789Z");
  REQUIRE(fraction.ok());
  CHECK(*fraction == at(kMay1, 12h + 34min + 56s + 123456789ns));

  auto longFraction = kube::parseRfc3339("2024-05-01T12:34:56.1234567891234Z");
  REQUIRE(longFraction.ok());
  CHECK(*longFraction == at(kMay1, 12h + 34min + 56s + 123456789ns));

  auto lowerCase = kube::parseRfc3339("2024-05-01t12:34:56z");
  REQUIRE(lowerCase.ok());
  CHECK(*lowerCase == *plain);
}

TEST_CASE("rfc3339 converts offsets to utc", "[kube][rfc3339]") {
  auto east = kube::parseRfc3339("2024-05-01T14:34:56+02:00");
  auto west = kube::parseRfc3339("2024-05-01T07:04:56-05:30");
  REQUIRE(east.ok());
  REQUIRE(west.ok());
  CHECK(*east == at(kMay1, 12h + 34min + 56s));
  CHECK(*west == at(kMay1, 12h + 34min + 56s));

  auto pastMidnight = kube::parseRfc3339("2024-05-01T01:00:00+03:00");
  REQUIRE(pastMidnight.ok());
  CHECK(kube::formatRfc3339(*pastMidnight) == "2024-04-30T22:00:00Z");
}

TEST_CASE("rfc3339 round trips milliseconds", "[kube][rfc3339]") {
  kube::TimePoint time = at(kMay1, 23h + 59min + 59s + 999ms);
  auto parsed = kube::parseRfc3339(kube::formatRfc3339(time, true));
  REQUIRE(parsed.ok());
  CHECK(*parsed == time);
}

TEST_CASE("rfc3339 rejects malformed text", "[kube][rfc3339]") {
  const char* invalid[] = {
      "",
      "2024-05-01",
      "2024-05-01T12:34:56",        // no offset
      "2024-05-01 12:34:56Z",       // space instead of T
      "2024-5-01T12:34:56Z",        // one-digit month
      "2024-02-30T12:34:56Z",       // no such day
      "2023-02-29T00:00:00Z",       // not a leap year
      "2024-05-01T24:00:00Z",       // hour 24
      "2024-05-01T23:59:60Z",       // leap second
      "2024-05-01T12:34:56.Z",      // empty fraction
      "2024-05-01T12:34:56+0200",   // offset without colon
      "2024-05-01T12:34:56+24:00",  // offset hour out of range
      "2024-05-01T12:34:56Zjunk",   // trailing text
      "+2024-05-01T12:34:56Z",
  };
  for (const char* text : invalid) {
    INFO(text);
    auto parsed = kube::parseRfc3339(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == spike_bootstrap::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("rfc3339 accepts leap day", "[kube][rfc3339]") {
  auto parsed = kube::parseRfc3339("2024-02-29T00:00:00Z");
  REQUIRE(parsed.ok());
  CHECK(kube::formatRfc3339(*parsed) == "2024-02-29T00:00:00Z");
}
