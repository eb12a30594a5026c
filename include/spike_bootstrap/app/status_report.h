// The `status` command's view of the state record: what an operator wants to
// know before re-running or recovering a bootstrap.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "spike_bootstrap/kube/state_record.h"

namespace spike_bootstrap::app {

// Formats the record for a terminal: one "name: value" line per fact.
// now is used for the lease age.
std::string formatStatusText(const std::string& configMapName, const std::string& namespaceName,
                             const std::optional<kube::StateRecord>& record,
                             std::chrono::system_clock::time_point now);

// Formats the same facts as one JSON object; "exists" is false when the
// ConfigMap is not there.
std::string formatStatusJson(const std::string& configMapName, const std::string& namespaceName,
                             const std::optional<kube::StateRecord>& record,
                             std::chrono::system_clock::time_point now);

}  // namespace spike_bootstrap::app
