// Go's text forms of durations and booleans, so values written for SPIKE's Go
// binaries (time.ParseDuration, Duration.String, strconv.ParseBool) read the
// same here.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/go_values.h"
#include "spike_bootstrap/config/config.h"

namespace spike_bootstrap::config {
namespace {

// Go keeps a duration in an int64 of nanoseconds. Magnitudes are summed as
// unsigned values up to 2^63, which only a negative duration can reach.
constexpr std::uint64_t kMagnitudeLimit = std::uint64_t{1} << 63;

struct DurationUnit {
  std::string_view name;
  std::uint64_t nanoseconds;
};

// The units of time.ParseDuration. Microseconds have three spellings: "us",
// U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU, both in UTF-8.
constexpr std::array<DurationUnit, 8> kUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},
    {"\xCE\xBCs", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
}};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

Status durationProblem(std::string reason) {
  return Status(StatusCode::kInvalidArgument, std::move(reason));
}

Status outOfRange() {
  return durationProblem("out of range, the limit is 2562047h47m16.854775807s (about 292 years)");
}

// One "<number><unit>" term, such as "1.5h", taken from the front of text.
struct Term {
  std::uint64_t whole = 0;     // digits before the '.'
  std::uint64_t fraction = 0;  // digits after the '.', as an integer
  double scale = 1;            // fraction / scale is the fractional part
  std::uint64_t unit = 0;      // nanoseconds per unit
};

// Reads digits before the '.', failing when they exceed 2^63.
bool readWhole(std::string_view& text, std::uint64_t& value, bool& sawDigit) {
  while (!text.empty() && isDigit(text.front())) {
    sawDigit = true;
    if (value > kMagnitudeLimit / 10) {
      return false;
    }
    value = value * 10 + static_cast<std::uint64_t>(text.front() - '0');
    if (value > kMagnitudeLimit) {
      return false;
    }
    text.remove_prefix(1);
  }
  return true;
}

// Reads digits after the '.'. Digits beyond what 63 bits can carry are
// skipped, because they are far below a nanosecond.
void readFraction(std::string_view& text, Term& term, bool& sawDigit) {
  bool full = false;
  while (!text.empty() && isDigit(text.front())) {
    sawDigit = true;
    std::uint64_t digit = static_cast<std::uint64_t>(text.front() - '0');
    text.remove_prefix(1);
    if (full || term.fraction > (kMagnitudeLimit - 1) / 10) {
      full = true;
      continue;
    }
    std::uint64_t next = term.fraction * 10 + digit;
    if (next > kMagnitudeLimit) {
      full = true;
      continue;
    }
    term.fraction = next;
    term.scale *= 10;
  }
}

Status readUnit(std::string_view& text, Term& term) {
  std::size_t length = 0;
  while (length < text.size() && text[length] != '.' && !isDigit(text[length])) {
    ++length;
  }
  if (length == 0) {
    return durationProblem("missing unit after a number (units: ns, us, ms, s, m, h)");
  }
  std::string_view name = text.substr(0, length);
  text.remove_prefix(length);
  for (const DurationUnit& unit : kUnits) {
    if (unit.name == name) {
      term.unit = unit.nanoseconds;
      return okStatus();
    }
  }
  return durationProblem("unknown unit \"" + std::string(name) + "\" (units: ns, us, ms, s, m, h)");
}

// Reads one term and returns its magnitude in nanoseconds.
Result<std::uint64_t> readTerm(std::string_view& text) {
  if (!isDigit(text.front()) && text.front() != '.') {
    return durationProblem("expected a number at \"" + std::string(text) + "\"");
  }
  Term term;
  bool sawDigit = false;
  if (!readWhole(text, term.whole, sawDigit)) {
    return outOfRange();
  }
  if (!text.empty() && text.front() == '.') {
    text.remove_prefix(1);
    readFraction(text, term, sawDigit);
  }
  if (!sawDigit) {
    return durationProblem("a number has no digits");
  }
  if (Status unit = readUnit(text, term); !unit.ok()) {
    return unit;
  }

  if (term.whole > kMagnitudeLimit / term.unit) {
    return outOfRange();
  }
  std::uint64_t magnitude = term.whole * term.unit;
  if (term.fraction > 0) {
    // A double carries the fraction of an hour to the nanosecond.
    magnitude += static_cast<std::uint64_t>(static_cast<double>(term.fraction) *
                                            (static_cast<double>(term.unit) / term.scale));
    if (magnitude > kMagnitudeLimit) {
      return outOfRange();
    }
  }
  return magnitude;
}

// Appends value / 10^digits with its fractional digits, dropping trailing
// zeros and the '.' when nothing follows it.
void appendDecimal(std::string& out, std::uint64_t value, int digits) {
  std::uint64_t divisor = 1;
  for (int i = 0; i < digits; ++i) {
    divisor *= 10;
  }
  out += std::to_string(value / divisor);
  std::uint64_t fraction = value % divisor;
  if (fraction == 0) {
    return;
  }
  std::string fractionText = std::to_string(fraction);
  fractionText.insert(0, static_cast<std::size_t>(digits) - fractionText.size(), '0');
  while (fractionText.back() == '0') {
    fractionText.pop_back();
  }
  out += '.';
  out += fractionText;
}

}  // namespace

Result<Duration> parseDurationValue(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  // Go accepts a bare "0", with or without a sign, as the only unitless value.
  if (rest == "0") {
    return Duration::zero();
  }
  if (rest.empty()) {
    return durationProblem(text.empty() ? "empty value" : "missing number after the sign");
  }

  std::uint64_t total = 0;
  while (!rest.empty()) {
    Result<std::uint64_t> term = readTerm(rest);
    if (!term.ok()) {
      return term.status();
    }
    total += *term;
    if (total > kMagnitudeLimit) {
      return outOfRange();
    }
  }

  if (negative) {
    // 2^63 itself is representable as the most negative int64.
    return Duration(static_cast<Duration::rep>(~total + 1));
  }
  if (total == kMagnitudeLimit) {
    return outOfRange();
  }
  return Duration(static_cast<Duration::rep>(total));
}

Result<Duration> parseGoDuration(std::string_view text) {
  Result<Duration> value = parseDurationValue(text);
  if (!value.ok()) {
    return Status(StatusCode::kInvalidArgument,
                  "invalid duration \"" + std::string(text) + "\": " + value.status().message());
  }
  return value;
}

std::string formatGoDuration(Duration duration) {
  std::int64_t count = duration.count();
  std::uint64_t magnitude =
      count < 0 ? ~static_cast<std::uint64_t>(count) + 1 : static_cast<std::uint64_t>(count);
  std::string out = count < 0 ? "-" : "";

  if (magnitude == 0) {
    return "0s";
  }
  if (magnitude < 1'000) {
    return out + std::to_string(magnitude) + "ns";
  }
  if (magnitude < 1'000'000) {
    appendDecimal(out, magnitude, 3);
    return out + "\xC2\xB5s";
  }
  if (magnitude < 1'000'000'000) {
    appendDecimal(out, magnitude, 6);
    return out + "ms";
  }

  // From one second up Go adds minutes once the value reaches a minute and
  // hours once it reaches an hour, zeros included, so two hours read "2h0m0s".
  std::uint64_t seconds = magnitude / 1'000'000'000;
  std::uint64_t minutes = seconds / 60;
  std::uint64_t hours = minutes / 60;
  if (hours > 0) {
    out += std::to_string(hours) + "h";
  }
  if (minutes > 0) {
    out += std::to_string(minutes % 60) + "m";
  }
  appendDecimal(out, (seconds % 60) * 1'000'000'000 + magnitude % 1'000'000'000, 9);
  return out + "s";
}

std::optional<bool> parseGoBool(std::string_view text) {
  for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == yes) {
      return true;
    }
  }
  for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == no) {
      return false;
    }
  }
  return std::nullopt;
}

}  // namespace spike_bootstrap::config
