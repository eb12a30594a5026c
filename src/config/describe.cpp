// describe(): the effective configuration as (variable, value) pairs for the log.
#include <string>
#include <utility>
#include <vector>

#include "config/value_checks.h"
#include "config/variables.h"
#include "spike_bootstrap/config/config.h"

namespace spike_bootstrap::config {

std::vector<std::pair<std::string, std::string>> describe(const Config& config) {
  std::vector<std::string> peers;
  for (const KeeperPeer& peer : config.keeperPeers) {
    peers.push_back(peer.url);
  }
  auto optional = [](const std::optional<std::string>& value) { return value.value_or(""); };

  std::vector<std::pair<std::string, std::string>> settings{
      {std::string(kSocketVar), config.spiffeEndpointSocket},
      {std::string(kKeeperPeersVar), joinList(peers)},
      {std::string(kSharesVar), std::to_string(config.shamirShares)},
      {std::string(kThresholdVar), std::to_string(config.shamirThreshold)},
      {std::string(kNexusUrlVar), config.nexusApiUrl},
      {std::string(kTrustRootBootstrapVar), joinList(config.trustRoots.bootstrap)},
      {std::string(kTrustRootKeeperVar), joinList(config.trustRoots.keeper)},
      {std::string(kTrustRootNexusVar), joinList(config.trustRoots.nexus)},
      {std::string(kBackendVar), std::string(backendStoreName(config.backendStore))},
      {std::string(kForceVar), config.force ? "true" : "false"},
      {std::string(kConfigMapNameVar), config.configMapName},
  };
  for (const DurationRule& rule : durationRules()) {
    settings.emplace_back(std::string(rule.name), formatGoDuration(config.*rule.field));
  }
  settings.emplace_back(std::string(kKeeperMaxRetriesVar), std::to_string(config.keeperMaxRetries));
  settings.emplace_back(std::string(kLogLevelVar), std::string(logLevelName(config.logLevel)));
  settings.emplace_back(std::string(kHostnameVar), config.hostname);
  settings.emplace_back(std::string(kServiceAccountDirVar), config.serviceAccountDir);
  settings.emplace_back(std::string(kServiceHostVar), optional(config.kubernetesServiceHost));
  settings.emplace_back(std::string(kServicePortVar), optional(config.kubernetesServicePort));
  settings.emplace_back(std::string(kPodNameVar), optional(config.podName));
  settings.emplace_back(std::string(kPodNamespaceVar), optional(config.podNamespace));
  return settings;
}

}  // namespace spike_bootstrap::config
