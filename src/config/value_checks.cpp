// Checks and text helpers behind loadConfig(): quoting values in errors,
// splitting lists, integers as Go reads them, trust domain and object names.
#include "config/value_checks.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <utility>

namespace spike_bootstrap::config {
namespace {

// How much of a bad value an error message shows.
constexpr std::size_t kMaxQuotedBytes = 200;

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) {
      return parts;
    }
    start = end + 1;
  }
}

}  // namespace

std::string quote(std::string_view value) {
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < kMaxQuotedBytes; ++i) {
    char c = value[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
  if (value.size() > kMaxQuotedBytes) {
    out += " (first " + std::to_string(kMaxQuotedBytes) + " of " + std::to_string(value.size()) +
           " bytes)";
  }
  return out;
}

Status invalidValue(std::string_view name, std::string_view value, std::string_view reason,
                    std::string_view expected) {
  std::string message = "invalid " + std::string(name) + " " + quote(value) + ": ";
  message += reason;
  message += ". Expected ";
  message += expected;
  message += '.';
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

Status invalidConfig(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  std::size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> splitCommas(std::string_view text) { return split(text, ','); }

std::string lowerCase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out += out.empty() ? "" : ",";
    out += item;
  }
  return out;
}

std::optional<long long> parseInteger(std::string_view text) {
  std::string_view digits = text;
  bool plus = digits.starts_with('+');
  if (plus) {
    digits.remove_prefix(1);
  }
  if (digits.empty() || (plus && digits.front() == '-')) {
    return std::nullopt;
  }
  long long value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  if (error == std::errc::result_out_of_range) {
    return digits.front() == '-' ? std::numeric_limits<long long>::min()
                                 : std::numeric_limits<long long>::max();
  }
  if (error != std::errc()) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> trustDomainProblem(std::string_view name) {
  if (name.starts_with("spiffe://")) {
    return "write the trust domain name without spiffe://";
  }
  if (name.size() > 255) {
    return "a trust domain name is at most 255 bytes";
  }
  for (char c : name) {
    bool allowed =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!allowed) {
      return "a trust domain name contains only lowercase letters, digits, '.', '-' and '_'";
    }
  }
  return std::nullopt;
}

bool isDnsSubdomainName(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  auto alphanumeric = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (std::string_view label : split(name, '.')) {
    if (label.empty() || !alphanumeric(label.front()) || !alphanumeric(label.back())) {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(),
                     [&](char c) { return alphanumeric(c) || c == '-'; })) {
      return false;
    }
  }
  return true;
}

}  // namespace spike_bootstrap::config
