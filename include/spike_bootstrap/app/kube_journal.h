// The RunJournal of a run inside Kubernetes: the state ConfigMap, through
// kube::StateJournal, plus the pod Event that reports the outcome.
#pragma once

#include <memory>

#include "spike_bootstrap/app/run_journal.h"
#include "spike_bootstrap/app/summary.h"
#include "spike_bootstrap/config/config.h"

namespace spike_bootstrap::app {

// Builds the journal for config: NoStateJournal outside a cluster, the state
// ConfigMap inside one. Returns FailedPrecondition when the run is in a
// cluster but the ServiceAccount token or CA cannot be read (the message
// names automountServiceAccountToken). deadline bounds every API call.
Result<std::unique_ptr<RunJournal>> makeRunJournal(
    const config::Config& config, std::chrono::steady_clock::time_point deadline);

}  // namespace spike_bootstrap::app
