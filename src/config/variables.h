// Names of the environment variables the config module reads, and the rules
// for its duration variables. Shared by loadConfig() and describe().
#pragma once

#include <string_view>
#include <vector>

#include "spike_bootstrap/config/config.h"

namespace spike_bootstrap::config {

// Variable names, spelled as SPIKE spells them.
inline constexpr std::string_view kSocketVar = "SPIFFE_ENDPOINT_SOCKET";
inline constexpr std::string_view kKeeperPeersVar = "SPIKE_NEXUS_KEEPER_PEERS";
inline constexpr std::string_view kSharesVar = "SPIKE_NEXUS_SHAMIR_SHARES";
inline constexpr std::string_view kThresholdVar = "SPIKE_NEXUS_SHAMIR_THRESHOLD";
inline constexpr std::string_view kNexusUrlVar = "SPIKE_NEXUS_API_URL";
inline constexpr std::string_view kTrustRootVar = "SPIKE_TRUST_ROOT";
inline constexpr std::string_view kTrustRootBootstrapVar = "SPIKE_TRUST_ROOT_BOOTSTRAP";
inline constexpr std::string_view kTrustRootKeeperVar = "SPIKE_TRUST_ROOT_KEEPER";
inline constexpr std::string_view kTrustRootNexusVar = "SPIKE_TRUST_ROOT_NEXUS";
inline constexpr std::string_view kBackendVar = "SPIKE_NEXUS_BACKEND_STORE";
inline constexpr std::string_view kForceVar = "SPIKE_BOOTSTRAP_FORCE";
inline constexpr std::string_view kConfigMapNameVar = "SPIKE_BOOTSTRAP_CONFIGMAP_NAME";
inline constexpr std::string_view kBootstrapTimeoutVar = "SPIKE_BOOTSTRAP_TIMEOUT";
inline constexpr std::string_view kKeeperTimeoutVar = "SPIKE_BOOTSTRAP_KEEPER_TIMEOUT";
inline constexpr std::string_view kKeeperMaxRetriesVar = "SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES";
inline constexpr std::string_view kRetryInitialVar =
    "SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL";
inline constexpr std::string_view kRetryMaxVar = "SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL";
inline constexpr std::string_view kVerificationTimeoutVar =
    "SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT";
inline constexpr std::string_view kSourceTimeoutVar = "SPIKE_SPIFFE_SOURCE_TIMEOUT";
inline constexpr std::string_view kLeaseDurationVar = "SPIKE_BOOTSTRAP_LEASE_DURATION";
inline constexpr std::string_view kLogLevelVar = "SPIKE_SYSTEM_LOG_LEVEL";
inline constexpr std::string_view kHostnameVar = "HOSTNAME";
inline constexpr std::string_view kServiceAccountDirVar = "SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR";
inline constexpr std::string_view kServiceHostVar = "KUBERNETES_SERVICE_HOST";
inline constexpr std::string_view kServicePortVar = "KUBERNETES_SERVICE_PORT";
inline constexpr std::string_view kPodNameVar = "POD_NAME";
inline constexpr std::string_view kPodNamespaceVar = "POD_NAMESPACE";

// The checks applied to one duration variable.
struct DurationRule {
  std::string_view name;
  Duration Config::*field;
  Duration minimum;           // lowest accepted value, never below 0
  std::string_view expected;  // accepted values, as error messages describe them
};

// Returns the rules of every duration variable, in the order of the Config fields.
const std::vector<DurationRule>& durationRules();

}  // namespace spike_bootstrap::config
