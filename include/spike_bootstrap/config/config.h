// Config: every setting of a run, read once from the environment.
//
// Names and defaults follow SPIKE's. Unlike SPIKE, which falls back to a
// default when a value does not parse, loadConfig() rejects bad values with a
// message naming the variable, the value and what is accepted.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::config {

using Duration = std::chrono::nanoseconds;

// Looks up one environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Returns a lookup over the process environment.
EnvLookup processEnvironment();

enum class BackendStore { kMemory, kSqlite, kLite };

std::string_view backendStoreName(BackendStore store);

// One SPIKE Keeper: entry i (1-based) of SPIKE_NEXUS_KEEPER_PEERS is keeper i
// and receives share i.
struct KeeperPeer {
  int id = 0;
  std::string url;  // base URL as given, trimmed
};

// Trust domains each role's SPIFFE ID may come from.
struct TrustRoots {
  std::vector<std::string> bootstrap;
  std::vector<std::string> keeper;
  std::vector<std::string> nexus;
};

struct Config {
  // Workload API socket path with any unix:// prefix removed.
  std::string spiffeEndpointSocket;
  std::vector<KeeperPeer> keeperPeers;
  int shamirShares = 3;
  int shamirThreshold = 2;
  std::string nexusApiUrl = "https://localhost:8553";
  TrustRoots trustRoots;
  BackendStore backendStore = BackendStore::kSqlite;
  bool force = false;
  std::string configMapName = "spike-bootstrap-state";

  // A zero duration means "no limit" where the variable allows it.
  Duration bootstrapTimeout{};
  Duration keeperTimeout{};
  int keeperMaxRetries = 5;
  Duration keeperRetryInitialInterval{};
  Duration keeperRetryMaxInterval{};
  Duration initVerificationTimeout{};
  Duration spiffeSourceTimeout{};
  Duration leaseDuration{};

  logging::Level logLevel = logging::Level::kWarn;
  std::string hostname;
  std::string serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

  // Kubernetes: in a cluster when both service variables are set.
  std::optional<std::string> kubernetesServiceHost;
  std::optional<std::string> kubernetesServicePort;
  // Downward-API values used to attach Events to our pod.
  std::optional<std::string> podName;
  std::optional<std::string> podNamespace;

  bool inCluster() const { return kubernetesServiceHost && kubernetesServicePort; }
};

// Builds a Config from the environment, or returns InvalidArgument with one
// readable line naming the variable, its value and what is accepted.
// Warnings worth logging (such as threshold 1) are appended to warnings.
Result<Config> loadConfig(const EnvLookup& env, std::vector<std::string>* warnings = nullptr);

// Parses a Go duration ("300ms", "1.5s", "1m30s", "2h", "0").
Result<Duration> parseGoDuration(std::string_view text);

// Formats a duration the way Go prints it ("1m30s", "300ms", "0s").
std::string formatGoDuration(Duration duration);

}  // namespace spike_bootstrap::config
