// Config: every setting of a run, read once from the environment.
//
// Names and defaults follow SPIKE's (spiffe/spike-sdk-go config/env). Unlike
// SPIKE, which falls back to a default when a value does not parse, loadConfig()
// rejects bad values with a message naming the variable, the value and what is
// accepted. As in SPIKE, a variable set to the empty string counts as unset.
// Reading files (ServiceAccount token, CA) is left to the modules that use them.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/common/result.h"
#include "spike_bootstrap/net/url.h"

namespace spike_bootstrap::config {

using Duration = std::chrono::nanoseconds;

// Looks up one environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Returns a lookup over the process environment (getenv). Use it before other
// threads start, because getenv races with setenv.
EnvLookup processEnvironment();

enum class BackendStore { kMemory, kSqlite, kLite };

// Returns the value SPIKE_NEXUS_BACKEND_STORE uses for a store: "memory",
// "sqlite" or "lite".
std::string_view backendStoreName(BackendStore store);

// Returns the name SPIKE_SYSTEM_LOG_LEVEL uses for a level: "debug", "info",
// "warn" or "error".
std::string_view logLevelName(logging::Level level);

// One SPIKE Keeper: entry i (1-based) of SPIKE_NEXUS_KEEPER_PEERS is keeper i
// and receives share i.
struct KeeperPeer {
  int id = 0;
  std::string url;   // base URL as given, trimmed
  net::Url baseUrl;  // the parsed url: host lower-cased, trailing '/' removed
};

// Trust domains each role's SPIFFE ID may come from, such as "spike.ist".
struct TrustRoots {
  std::vector<std::string> bootstrap;
  std::vector<std::string> keeper;
  std::vector<std::string> nexus;
};

// The default trust domain of every role when no SPIKE_TRUST_ROOT* variable
// is set.
inline constexpr std::string_view kDefaultTrustRoot = "spike.ist";

// Member initializers are the defaults that apply when a variable is unset.
// A zero duration means "no limit" only where the field's comment states it.
struct Config {
  // SPIFFE_ENDPOINT_SOCKET: the Workload API socket path, with any unix://
  // prefix removed.
  std::string spiffeEndpointSocket = "/tmp/spire-agent/public/api.sock";
  // SPIKE_NEXUS_KEEPER_PEERS: required unless the backend is memory.
  std::vector<KeeperPeer> keeperPeers;
  // SPIKE_NEXUS_SHAMIR_SHARES and SPIKE_NEXUS_SHAMIR_THRESHOLD.
  int shamirShares = 3;
  int shamirThreshold = 2;
  // SPIKE_NEXUS_API_URL, as given (trimmed) and parsed.
  std::string nexusApiUrl = "https://localhost:8553";
  net::Url nexusUrl{"localhost", 8553, ""};
  // SPIKE_TRUST_ROOT_BOOTSTRAP, _KEEPER and _NEXUS, each falling back to
  // SPIKE_TRUST_ROOT and then to kDefaultTrustRoot.
  TrustRoots trustRoots{{std::string(kDefaultTrustRoot)},
                        {std::string(kDefaultTrustRoot)},
                        {std::string(kDefaultTrustRoot)}};
  // SPIKE_NEXUS_BACKEND_STORE.
  BackendStore backendStore = BackendStore::kSqlite;
  // SPIKE_BOOTSTRAP_FORCE: run even when the state ConfigMap records completion.
  bool force = false;
  // SPIKE_BOOTSTRAP_CONFIGMAP_NAME.
  std::string configMapName = "spike-bootstrap-state";

  // SPIKE_BOOTSTRAP_TIMEOUT: the whole run. 0 means no limit.
  Duration bootstrapTimeout{};
  // SPIKE_BOOTSTRAP_KEEPER_TIMEOUT: all attempts to one keeper. 0 means no limit.
  Duration keeperTimeout = std::chrono::seconds(30);
  // SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES: attempts per keeper, the first included.
  int keeperMaxRetries = 5;
  // SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL and _MAX_INTERVAL: backoff
  // between keeper attempts, before jitter.
  Duration keeperRetryInitialInterval = std::chrono::seconds(2);
  Duration keeperRetryMaxInterval = std::chrono::seconds(30);
  // SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT: retries of the Nexus check.
  // 0 means no limit.
  Duration initVerificationTimeout = std::chrono::minutes(30);
  // SPIKE_SPIFFE_SOURCE_TIMEOUT: waiting for the socket and the first SVID.
  Duration spiffeSourceTimeout = std::chrono::seconds(30);
  // SPIKE_BOOTSTRAP_LEASE_DURATION: how long a claim on the state ConfigMap
  // stays valid without renewal. Not a SPIKE variable.
  Duration leaseDuration = std::chrono::seconds(15);

  // SPIKE_SYSTEM_LOG_LEVEL. SPIKE's servers default to warn; a one-time job's
  // log is its record of what happened, so this one defaults to info.
  logging::Level logLevel = logging::Level::kInfo;
  // HOSTNAME: recorded as completed-by-pod. Empty when unset, and the caller
  // may then fall back to gethostname().
  std::string hostname;
  // SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR: token, ca.crt and namespace files.
  std::string serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

  // KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT: in a cluster when
  // both are set, as client-go's rest.InClusterConfig decides.
  std::optional<std::string> kubernetesServiceHost;
  std::optional<std::string> kubernetesServicePort;
  // POD_NAME and POD_NAMESPACE (Downward API), used to attach Events to our pod.
  std::optional<std::string> podName;
  std::optional<std::string> podNamespace;

  bool inCluster() const { return kubernetesServiceHost && kubernetesServicePort; }
  // False for the memory backend, where Nexus never reads the keepers.
  bool needsBootstrap() const { return backendStore != BackendStore::kMemory; }
};

// Builds a Config from the environment, or returns InvalidArgument with one
// readable line naming the variable, its value and what is accepted.
// Warnings worth logging (such as threshold 1) are appended to warnings.
Result<Config> loadConfig(const EnvLookup& env, std::vector<std::string>* warnings = nullptr);

// Lists every setting as (environment variable, effective value), for
// logging at start-up. Durations use Go's
// format and lists are comma-separated. Unset optional values are "".
// Config contains no secret, and a secret added later must be left out here.
std::vector<std::pair<std::string, std::string>> describe(const Config& config);

// Parses a Go duration such as "300ms", "1.5s", "1m30s", "2h" or "0", with
// Go's time.ParseDuration rules: an optional sign, then one or more decimal
// numbers each followed by a unit (ns, us, µs, μs, ms, s, m, h). Returns
// InvalidArgument naming the text and the problem, also for values beyond
// about 292 years. Negative values parse, so callers check the sign.
Result<Duration> parseGoDuration(std::string_view text);

// Formats a duration the way Go's Duration.String does ("1m30s", "300ms",
// "1.5µs", "2h0m0s", "0s").
std::string formatGoDuration(Duration duration);

// Parses a boolean with Go's strconv.ParseBool rules: 1, t, T, TRUE, true,
// True, 0, f, F, FALSE, false, False. Returns nullopt for anything else.
std::optional<bool> parseGoBool(std::string_view text);

}  // namespace spike_bootstrap::config
