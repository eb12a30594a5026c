// RFC 3339 timestamps in UTC, as Kubernetes and SPIKE write them in ConfigMaps
// and Events ("2024-05-01T12:34:56Z").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::kube {

using TimePoint = std::chrono::system_clock::time_point;

// Formats time in UTC as "YYYY-MM-DDTHH:MM:SSZ", or with milliseconds
// ("...:56.789Z") when withMilliseconds is set. Sub-second digits below the
// chosen precision are truncated, not rounded.
std::string formatRfc3339(TimePoint time, bool withMilliseconds = false);

// Parses an RFC 3339 date-time with any number of fraction digits and a "Z" or
// numeric ("+02:00") offset, and returns the UTC instant. Returns
// InvalidArgument naming the text for anything else, including a leap second
// ("23:59:60"), which Go's time.Parse rejects too.
Result<TimePoint> parseRfc3339(std::string_view text);

}  // namespace spike_bootstrap::kube
