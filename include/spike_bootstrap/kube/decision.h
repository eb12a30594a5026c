// The decision a run makes before it generates a key: skip, claim the state
// ConfigMap, wait for another run, refuse or fail. Pure logic over the
// configuration and what the ConfigMap GET returned; the run does the I/O.
//
// The order extends SPIKE's (memory backend, force, not in a cluster,
// completed, otherwise run). Unlike SPIKE, only a clear NotFound leads to a
// new key. Every other read error fails the run before any keeper is called,
// because a Job retried without RBAC would otherwise re-key and orphan the
// data encrypted under the old key.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/config/config.h"
#include "spike_bootstrap/kube/api_client.h"
#include "spike_bootstrap/kube/configmap.h"
#include "spike_bootstrap/kube/state_record.h"

namespace spike_bootstrap::kube {

enum class Action {
  kSkipMemoryBackend,  // exit 0 at once: no Kubernetes or keeper traffic
  kRunWithoutState,    // not in a cluster: run with no record, as SPIKE does
  kSkipCompleted,      // exit 0: the record marks the bootstrap completed
  kCreateClaim,        // no ConfigMap: claim it with an atomic create
  kTakeOver,           // claim the existing ConfigMap with a guarded update
  kWait,               // another run has a live claim: read again after waitFor
  kRefuse,             // exit 3: an operator must look
  kFail,               // exit 1: the record could not be read; safe to retry
};

// Returns the process exit code for actions that end the run (0, 1 or 3),
// or nullopt for actions after which the run goes on.
std::optional<int> exitCodeFor(Action action);

// The settings the decision depends on.
struct DecisionInputs {
  config::BackendStore backendStore = config::BackendStore::kSqlite;
  bool inCluster = false;
  bool force = false;
  std::string configMapName;
  Deployment deployment;
  // Our lease. A claim in the record is judged by its own lease-duration, and
  // by this one only when the record has none.
  config::Duration leaseDuration = std::chrono::seconds(15);

  static DecisionInputs fromConfig(const config::Config& config);
};

// Tracks another run's claim on this process's monotonic clock. A claim is
// stale when its ConfigMap has not changed (same resourceVersion) for a whole
// lease duration as seen here. Like client-go's leader election
// (tools/leaderelection), this uses only timestamps taken locally and never
// compares the holder's wall-clock renewed-at with ours, so clock skew between
// nodes cannot make a live claim look stale.
class ClaimWatch {
 public:
  // Returns how long the object with this resourceVersion has been seen
  // unchanged: zero on the first call and whenever the version changed.
  std::chrono::steady_clock::duration observe(const std::string& resourceVersion,
                                              std::chrono::steady_clock::time_point now);

 private:
  std::string resourceVersion_;
  std::chrono::steady_clock::time_point since_{};
};

struct Decision {
  Action action = Action::kFail;
  // One line for the log and the pod Event: what was found and what happens.
  std::string summary;
  // Cause of kFail or kRefuse; OK for the other actions.
  Status status;
  // The record as read, when a ConfigMap was found and parsed.
  std::optional<StateRecord> record;
  // The version to guard the claim update with (kTakeOver).
  std::string resourceVersion;
  // kSkipCompleted: the settings that differ from the recorded deployment.
  std::vector<DeploymentChange> drift;
  // kWait: when to read the ConfigMap again.
  std::chrono::steady_clock::duration waitFor{};
  // kTakeOver: true when force or a stale claim past the threshold is
  // overridden, so the run can log it as a warning.
  bool forced = false;
};

// Decides what the run does next. read is the result of getting the state
// ConfigMap, or nullptr when nothing was read (memory backend, not in a
// cluster). watch must be the same object across the polls of one run.
Decision decideBootstrap(const DecisionInputs& inputs, const ApiResult<ConfigMap>* read,
                         ClaimWatch& watch, std::chrono::steady_clock::time_point now);

// Returns the threshold a takeover is judged by: the lower of the recorded
// and the current one, because either may be what the keepers' shares follow.
int effectiveThreshold(const StateRecord& record, const Deployment& current);

}  // namespace spike_bootstrap::kube
