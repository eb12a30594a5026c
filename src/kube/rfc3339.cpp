// RFC 3339 formatting and parsing on std::chrono calendar types, so neither the
// process time zone nor the C locale can change the result.
#include "spike_bootstrap/kube/rfc3339.h"

#include <cstdio>

namespace spike_bootstrap::kube {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using std::chrono::sys_days;

// Reads exactly count decimal digits at text[pos], advancing pos.
bool readDigits(std::string_view text, std::size_t& pos, int count, int& value) {
  if (pos + count > text.size()) {
    return false;
  }
  value = 0;
  for (int i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool expectChar(std::string_view text, std::size_t& pos, char lower, char upper = 0) {
  if (pos >= text.size() || (text[pos] != lower && (upper == 0 || text[pos] != upper))) {
    return false;
  }
  ++pos;
  return true;
}

// Reads ".d+" into nanoseconds; digits beyond nine are accepted and dropped.
bool readFraction(std::string_view text, std::size_t& pos, nanoseconds& fraction) {
  fraction = nanoseconds(0);
  if (pos >= text.size() || text[pos] != '.') {
    return true;
  }
  ++pos;
  std::int64_t value = 0;
  int digits = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (digits < 9) {
      value = value * 10 + (text[pos] - '0');
    }
    ++digits;
    ++pos;
  }
  if (digits == 0) {
    return false;
  }
  for (int i = digits; i < 9; ++i) {
    value *= 10;
  }
  fraction = nanoseconds(value);
  return true;
}

// Reads "Z" or "+HH:MM"/"-HH:MM" and returns the offset east of UTC.
bool readOffset(std::string_view text, std::size_t& pos, minutes& offset) {
  if (expectChar(text, pos, 'Z', 'z')) {
    offset = minutes(0);
    return true;
  }
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) {
    return false;
  }
  int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  int offsetHours = 0;
  int offsetMinutes = 0;
  if (!readDigits(text, pos, 2, offsetHours) || !expectChar(text, pos, ':') ||
      !readDigits(text, pos, 2, offsetMinutes) || offsetHours > 23 || offsetMinutes > 59) {
    return false;
  }
  offset = minutes(sign * (offsetHours * 60 + offsetMinutes));
  return true;
}

}  // namespace

std::string formatRfc3339(TimePoint time, bool withMilliseconds) {
  sys_days day = floor<days>(time);
  std::chrono::year_month_day date{day};
  auto sinceMidnight = floor<milliseconds>(time - day);
  std::chrono::hh_mm_ss clock{sinceMidnight};

  char buffer[40];
  int length = std::snprintf(
      buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()));
  std::string text(buffer, static_cast<std::size_t>(length));
  if (withMilliseconds) {
    std::snprintf(buffer, sizeof(buffer), ".%03d", static_cast<int>(clock.subseconds().count()));
    text += buffer;
  }
  text += 'Z';
  return text;
}

Result<TimePoint> parseRfc3339(std::string_view text) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  nanoseconds fraction{0};
  minutes offset{0};
  bool shapeOk = readDigits(text, pos, 4, year) && expectChar(text, pos, '-') &&
                 readDigits(text, pos, 2, month) && expectChar(text, pos, '-') &&
                 readDigits(text, pos, 2, day) && expectChar(text, pos, 'T', 't') &&
                 readDigits(text, pos, 2, hour) && expectChar(text, pos, ':') &&
                 readDigits(text, pos, 2, minute) && expectChar(text, pos, ':') &&
                 readDigits(text, pos, 2, second) && readFraction(text, pos, fraction) &&
                 readOffset(text, pos, offset) && pos == text.size();

  std::chrono::year_month_day date{std::chrono::year(year),
                                   std::chrono::month(static_cast<unsigned>(month)),
                                   std::chrono::day(static_cast<unsigned>(day))};
  if (!shapeOk || !date.ok() || hour > 23 || minute > 59 || second > 59) {
    return Status(StatusCode::kInvalidArgument,
                  "invalid RFC 3339 timestamp \"" + std::string(text) +
                      "\": expected YYYY-MM-DDTHH:MM:SS[.fraction] followed by Z or +HH:MM");
  }

  auto local = sys_days(date) + hours(hour) + minutes(minute) + seconds(second) + fraction;
  return std::chrono::time_point_cast<TimePoint::duration>(local - offset);
}

}  // namespace spike_bootstrap::kube
