// The bootstrap state record: the past and running bootstraps that the state
// ConfigMap's data describes, parsed strictly and written back key by key.
//
// SPIKE reads and writes three keys (bootstrap-completed, completed-at,
// completed-by-pod). The others belong to spike-bootstrap: the claim a run
// holds while it works (a lease renewed by its holder), how many keepers may
// already hold a share of the current attempt's key, and a fingerprint of the
// deployment that the completed key was made for. SPIKE ignores keys it does
// not know, so both can share one ConfigMap.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/config/config.h"
#include "spike_bootstrap/kube/configmap.h"
#include "spike_bootstrap/kube/rfc3339.h"

namespace spike_bootstrap::kube {

// Keys written by SPIKE and by spike-bootstrap.
inline constexpr std::string_view kBootstrapCompletedKey = "bootstrap-completed";
inline constexpr std::string_view kCompletedAtKey = "completed-at";
inline constexpr std::string_view kCompletedByPodKey = "completed-by-pod";

// Keys written only by spike-bootstrap.
inline constexpr std::string_view kPhaseKey = "phase";
inline constexpr std::string_view kAttemptIdKey = "attempt-id";
inline constexpr std::string_view kHolderKey = "holder";
inline constexpr std::string_view kClaimedAtKey = "claimed-at";
inline constexpr std::string_view kRenewedAtKey = "renewed-at";
inline constexpr std::string_view kLeaseDurationKey = "lease-duration";
inline constexpr std::string_view kSharesPossiblyDeliveredKey = "shares-possibly-delivered";
inline constexpr std::string_view kKeepersAcknowledgedKey = "keepers-acknowledged";
inline constexpr std::string_view kLastErrorKey = "last-error";
inline constexpr std::string_view kDeploymentFingerprintKey = "deployment-fingerprint";
inline constexpr std::string_view kDeploymentKeeperPeersKey = "deployment-keeper-peers";
inline constexpr std::string_view kDeploymentSharesKey = "deployment-shares";
inline constexpr std::string_view kDeploymentThresholdKey = "deployment-threshold";
inline constexpr std::string_view kDeploymentTrustRootsKey = "deployment-trust-roots";

inline constexpr std::size_t kMaxLastErrorBytes = 1024;

// Progress of the attempt named in the record.
enum class Phase {
  kNone,        // no attempt recorded (a fresh record, or one SPIKE wrote)
  kClaimed,     // claim taken, no share sent yet
  kDelivering,  // shares are being sent to keepers
  kVerifying,   // enough keepers acknowledged; waiting for Nexus to confirm the key
  kCompleted,   // Nexus confirmed the key
  kFailed,      // the holder gave up; the shares counts are final
};

// Returns the name stored in the record ("claimed", "delivering", ...), or
// "" for kNone.
std::string_view phaseName(Phase phase);

// Deployment settings a root key was made for: which keeper receives which
// share and which trust domains each role may come from. No secrets.
struct Deployment {
  std::vector<std::string> keeperPeers;  // keeper i is keeperPeers[i - 1]
  int shares = 0;
  int threshold = 0;
  config::TrustRoots trustRoots;

  static Deployment fromConfig(const config::Config& config);

  // Returns "sha256:<hex>" over a canonical text form. Keeper order counts
  // (keeper i receives share i); the order of trust domains does not.
  std::string fingerprint() const;

  // True when every setting matches, trust domains compared in any order.
  bool operator==(const Deployment& other) const;
};

// One setting that differs between the recorded and the current deployment.
struct DeploymentChange {
  std::string setting;  // "keeper peers", "shares", "threshold", "keeper trust roots", ...
  std::string recorded;
  std::string current;
};

// Lists the settings that differ, in a fixed order; empty when none do.
std::vector<DeploymentChange> diffDeployments(const Deployment& recorded,
                                              const Deployment& current);

struct StateRecord {
  // SPIKE's keys. completedAt keeps the text when it is not valid RFC 3339,
  // because SPIKE never reads it back and a completed record stays completed.
  bool completed = false;
  std::string completedAt;
  std::string completedByPod;

  // The current (or last) attempt. attemptId is empty when phase is kNone.
  Phase phase = Phase::kNone;
  std::string attemptId;
  std::string holder;  // pod name of the run that owns or owned the claim
  std::optional<TimePoint> claimedAt;
  std::optional<TimePoint> renewedAt;
  std::optional<config::Duration> leaseDuration;
  // Keeper IDs that may hold a share of this attempt's key: a keeper is added
  // before the first byte of its share is written.
  std::set<int> sharesPossiblyDelivered;
  std::set<int> keepersAcknowledged;  // keeper IDs that returned 200
  // One line, no secrets; applyStateRecord() replaces control characters
  // and keeps at most kMaxLastErrorBytes.
  std::string lastError;

  // The deployment the attempt was made for, and the fingerprint as written.
  std::optional<Deployment> deployment;
  std::string deploymentFingerprint;

  bool hasAttempt() const { return phase != Phase::kNone; }
};

// Parses a record from ConfigMap data, ignoring keys it does not know.
// Returns DataLoss ("corrupt state record", naming the key, its value and
// what is accepted) when:
//  - bootstrap-completed is present and not exactly "true";
//  - phase is not a known name, or is "completed" without
//    bootstrap-completed: "true";
//  - phase is set without attempt-id or holder, or a claim key (attempt-id,
//    holder, claimed-at, renewed-at, lease-duration, the keeper ID lists) is
//    set without phase;
//  - a timestamp, lease duration, keeper ID list or count does not parse, or
//    only some of the deployment keys are present.
// A corrupt record is never re-keyed over: the run refuses and an operator
// must look.
Result<StateRecord> parseStateRecord(const ConfigMapData& data);

// Returns data with the record's keys set. Keys of ours that the record leaves
// empty are removed, and keys it does not know are kept.
ConfigMapData applyStateRecord(const StateRecord& record, ConfigMapData data);

// Returns a merge patch that sets every key of the record and deletes the
// keys the record leaves empty.
DataPatch stateRecordPatch(const StateRecord& record);

// Formats keeper IDs as "1,3"; "" for none.
std::string formatKeeperIds(const std::set<int>& ids);

}  // namespace spike_bootstrap::kube
