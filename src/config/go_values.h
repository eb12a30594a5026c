// Helpers shared inside the config module; the public forms are in config.h.
#pragma once

#include <string_view>

#include "spike_bootstrap/config/config.h"

namespace spike_bootstrap::config {

// Parses a Go duration like parseGoDuration, but the failure message is only
// the problem (such as "unknown unit \"x\" ..."), so the caller can name the
// variable and the value itself.
Result<Duration> parseDurationValue(std::string_view text);

}  // namespace spike_bootstrap::config
