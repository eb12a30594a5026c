// decideBootstrap: from configuration and the state ConfigMap to the run's
// next action.
#include "spike_bootstrap/kube/decision.h"

#include <algorithm>

namespace spike_bootstrap::kube {
namespace {

using SteadyDuration = std::chrono::steady_clock::duration;

// Readers poll a live claim this often at most, so a completion is noticed
// soon after it is written.
constexpr SteadyDuration kMaxPollInterval = std::chrono::seconds(2);

bool claimActive(Phase phase) {
  return phase == Phase::kClaimed || phase == Phase::kDelivering || phase == Phase::kVerifying;
}

std::string describeAttempt(const StateRecord& record) {
  return "attempt " + record.attemptId + " of pod " + record.holder + " (phase " +
         std::string(phaseName(record.phase)) + ")";
}

std::string describeDelivered(const StateRecord& record, int threshold) {
  std::string ids = formatKeeperIds(record.sharesPossiblyDelivered);
  return std::to_string(record.sharesPossiblyDelivered.size()) + " keeper(s) may hold a share" +
         (ids.empty() ? "" : " (keepers " + ids + ")") + ", threshold " + std::to_string(threshold);
}

Decision decideClaimed(const DecisionInputs& inputs, Decision decision, ClaimWatch& watch,
                       std::chrono::steady_clock::time_point now);

Decision finish(Action action, std::string summary, Status status = okStatus()) {
  Decision decision;
  decision.action = action;
  decision.summary = std::move(summary);
  decision.status = std::move(status);
  return decision;
}

Decision decideCompleted(const DecisionInputs& inputs, Decision decision, ClaimWatch& watch,
                         std::chrono::steady_clock::time_point now) {
  const StateRecord& record = *decision.record;
  std::string when = record.completedAt.empty() ? "an unknown time" : record.completedAt;
  std::string who = record.completedByPod.empty() ? "an unknown pod" : record.completedByPod;
  if (inputs.force && claimActive(record.phase)) {
    // Force never runs beside another run's live claim.
    return decideClaimed(inputs, std::move(decision), watch, now);
  }
  if (inputs.force) {
    decision.action = Action::kTakeOver;
    decision.forced = true;
    decision.summary = "SPIKE_BOOTSTRAP_FORCE=true: re-keying over the bootstrap completed at " +
                       when + " by pod " + who;
    return decision;
  }

  decision.action = Action::kSkipCompleted;
  decision.summary = "bootstrap already completed at " + when + " by pod " + who;
  if (record.deployment) {
    decision.drift = diffDeployments(*record.deployment, inputs.deployment);
  }
  if (!decision.drift.empty()) {
    decision.summary += "; the deployment changed since then (";
    for (std::size_t i = 0; i < decision.drift.size(); ++i) {
      const DeploymentChange& change = decision.drift[i];
      decision.summary +=
          (i == 0 ? "" : ", ") + change.setting + ": " + change.recorded + " -> " + change.current;
    }
    decision.summary += "), but the root key is kept";
  }
  return decision;
}

Decision decideClaimed(const DecisionInputs& inputs, Decision decision, ClaimWatch& watch,
                       std::chrono::steady_clock::time_point now) {
  const StateRecord& record = *decision.record;
  SteadyDuration lease = std::chrono::duration_cast<SteadyDuration>(
      record.leaseDuration.value_or(inputs.leaseDuration));
  SteadyDuration unchanged = watch.observe(decision.resourceVersion, now);
  bool live = claimActive(record.phase) && unchanged < lease;

  if (live) {
    decision.action = Action::kWait;
    decision.waitFor = std::min(lease - unchanged, kMaxPollInterval);
    decision.summary = describeAttempt(record) +
                       " has a live claim; waiting for it to complete "
                       "or for its lease to expire";
    return decision;
  }

  // A stale or failed claim. Each keeper in shares-possibly-delivered may
  // hold a share of that attempt's key. Once they reach the threshold, that
  // key may be recoverable and may already be Nexus's, so a new key could
  // leave the keepers with shares of two root keys.
  int threshold = effectiveThreshold(record, inputs.deployment);
  std::string state = record.phase == Phase::kFailed ? "failed" : "stale";
  std::string delivered = describeDelivered(record, threshold);
  bool pastThreshold =
      static_cast<int>(record.sharesPossiblyDelivered.size()) >= threshold && threshold > 0;
  if (pastThreshold && !inputs.force) {
    decision.action = Action::kRefuse;
    decision.summary = "refusing to re-key: the " + state + " " + describeAttempt(record) +
                       " may have delivered its key: " + delivered +
                       ". Check whether SPIKE Nexus recovered that key; set "
                       "SPIKE_BOOTSTRAP_FORCE=true only to replace it";
    decision.status = Status(StatusCode::kFailedPrecondition, decision.summary);
    return decision;
  }

  decision.action = Action::kTakeOver;
  decision.forced = pastThreshold;
  decision.summary = (pastThreshold ? "SPIKE_BOOTSTRAP_FORCE=true: " : "") +
                     std::string("taking over the ") + state + " " + describeAttempt(record) +
                     "; " + delivered;
  return decision;
}

}  // namespace

std::optional<int> exitCodeFor(Action action) {
  switch (action) {
    case Action::kSkipMemoryBackend:
    case Action::kSkipCompleted:
      return 0;
    case Action::kFail:
      return 1;
    case Action::kRefuse:
      return 3;
    case Action::kRunWithoutState:
    case Action::kCreateClaim:
    case Action::kTakeOver:
    case Action::kWait:
      return std::nullopt;
  }
  return 1;
}

DecisionInputs DecisionInputs::fromConfig(const config::Config& config) {
  DecisionInputs inputs;
  inputs.backendStore = config.backendStore;
  inputs.inCluster = config.inCluster();
  inputs.force = config.force;
  inputs.configMapName = config.configMapName;
  inputs.deployment = Deployment::fromConfig(config);
  if (config.leaseDuration > config::Duration::zero()) {
    inputs.leaseDuration = config.leaseDuration;
  }
  return inputs;
}

std::chrono::steady_clock::duration ClaimWatch::observe(const std::string& resourceVersion,
                                                        std::chrono::steady_clock::time_point now) {
  if (resourceVersion != resourceVersion_ || since_ == std::chrono::steady_clock::time_point{}) {
    resourceVersion_ = resourceVersion;
    since_ = now;
  }
  return now - since_;
}

int effectiveThreshold(const StateRecord& record, const Deployment& current) {
  if (record.deployment && record.deployment->threshold > 0) {
    return std::min(record.deployment->threshold, current.threshold);
  }
  return current.threshold;
}

Decision decideBootstrap(const DecisionInputs& inputs, const ApiResult<ConfigMap>* read,
                         ClaimWatch& watch, std::chrono::steady_clock::time_point now) {
  if (inputs.backendStore == config::BackendStore::kMemory) {
    return finish(Action::kSkipMemoryBackend,
                  "SPIKE_NEXUS_BACKEND_STORE is memory: SPIKE Nexus keeps no root key, nothing "
                  "to bootstrap");
  }
  if (!inputs.inCluster || read == nullptr) {
    return finish(Action::kRunWithoutState,
                  "not in a Kubernetes cluster: running without a state record, so nothing "
                  "stops a second run from re-keying");
  }

  std::string where = "state ConfigMap " + inputs.configMapName;
  if (!read->ok()) {
    const ApiError& error = read->error();
    if (error.notFound()) {
      return finish(Action::kCreateClaim, "no " + where + " yet: claiming it");
    }
    return finish(
        Action::kFail,
        "cannot read the " + where + ", so no keeper is contacted: " + error.status.message(),
        error.status);
  }

  Decision decision;
  decision.resourceVersion = (*read)->resourceVersion;
  Result<StateRecord> record = parseStateRecord((*read)->data);
  if (!record.ok()) {
    // Refused even with force, because the meaning of a corrupt record is
    // unknown. An operator must fix or delete it.
    decision.action = Action::kRefuse;
    decision.status = record.status();
    decision.summary = "refusing to run: " + record.status().message() + " in the " + where +
                       "; fix or delete it after checking what wrote it";
    return decision;
  }
  decision.record = std::move(*record);

  if (decision.record->completed) {
    return decideCompleted(inputs, std::move(decision), watch, now);
  }
  if (!decision.record->hasAttempt()) {
    decision.action = Action::kTakeOver;
    decision.summary = where + " exists without a completed bootstrap or a claim: claiming it";
    return decision;
  }
  return decideClaimed(inputs, std::move(decision), watch, now);
}

}  // namespace spike_bootstrap::kube
