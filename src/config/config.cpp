// loadConfig: reads SPIKE's environment variables into a Config, checks each
// value and the values against each other.
#include "spike_bootstrap/config/config.h"

#include <sys/un.h>

#include <cstdlib>
#include <limits>
#include <utility>

#include "config/go_values.h"
#include "config/value_checks.h"
#include "config/variables.h"

namespace spike_bootstrap::config {
namespace {

constexpr std::string_view kUnixScheme = "unix://";

constexpr std::string_view kNoLimitDuration =
    "a Go duration such as \"30s\" or \"1m30s\", or 0 for no limit";
constexpr std::string_view kPositiveDuration = "a Go duration above 0, such as \"2s\" or \"1m30s\"";

// Reads the environment into a Config, one group of variables at a time.
class Loader {
 public:
  Loader(const EnvLookup& env, std::vector<std::string>* warnings)
      : env_(env), warnings_(warnings) {}

  Result<Config> load();

 private:
  // Returns the value of a variable, or nullopt when it is unset or empty.
  std::optional<std::string> get(std::string_view name) const;
  void warn(std::string message);

  Status readBackend();
  Status readSocket();
  Status readKeeperPeers();
  Status readShamir();
  Status checkKeeperCounts();
  Status readNexusUrl();
  Result<std::vector<std::string>> readTrustDomains(std::string_view name) const;
  Status readTrustRoots();
  Status readForce();
  Status readConfigMapName();
  Status readDurations();
  Status readKeeperMaxRetries();
  Status readLogLevel();
  Status readServiceAccountDir();
  Status readKubernetes();

  const EnvLookup& env_;
  std::vector<std::string>* warnings_;
  Config config_;
};

std::optional<std::string> Loader::get(std::string_view name) const {
  std::optional<std::string> value = env_(name);
  if (value && value->empty()) {
    return std::nullopt;
  }
  return value;
}

void Loader::warn(std::string message) {
  if (warnings_ != nullptr) {
    warnings_->push_back(std::move(message));
  }
}

Result<Config> Loader::load() {
  // The backend comes first: it decides whether the keeper settings are required.
  for (Status (Loader::*step)() :
       {&Loader::readBackend, &Loader::readSocket, &Loader::readKeeperPeers, &Loader::readShamir,
        &Loader::checkKeeperCounts, &Loader::readNexusUrl, &Loader::readTrustRoots,
        &Loader::readForce, &Loader::readConfigMapName, &Loader::readDurations,
        &Loader::readKeeperMaxRetries, &Loader::readLogLevel, &Loader::readServiceAccountDir,
        &Loader::readKubernetes}) {
    if (Status status = (this->*step)(); !status.ok()) {
      return status;
    }
  }
  config_.hostname = get(kHostnameVar).value_or("");
  config_.podName = get(kPodNameVar);
  config_.podNamespace = get(kPodNamespaceVar);
  return std::move(config_);
}

Status Loader::readBackend() {
  std::optional<std::string> value = get(kBackendVar);
  if (!value) {
    return okStatus();
  }
  // SPIKE compares the value case-insensitively.
  std::string name = lowerCase(*value);
  for (BackendStore store : {BackendStore::kMemory, BackendStore::kSqlite, BackendStore::kLite}) {
    if (name == backendStoreName(store)) {
      config_.backendStore = store;
      return okStatus();
    }
  }
  return invalidValue(kBackendVar, *value, "unknown backend store", "memory, sqlite or lite");
}

Status Loader::readSocket() {
  std::optional<std::string> value = get(kSocketVar);
  if (!value) {
    return okStatus();
  }
  constexpr std::string_view kExpected =
      "unix:///path/to/socket or an absolute path, such as unix:///tmp/spire-agent/public/api.sock";

  std::string_view path = *value;
  if (path.starts_with(kUnixScheme)) {
    path.remove_prefix(kUnixScheme.size());
    if (!path.starts_with('/')) {
      return invalidValue(kSocketVar, *value, "a host after unix:// is not supported", kExpected);
    }
    // The URI form would need percent-decoding, queries and fragments make no
    // sense for a socket, so none of them is accepted.
    if (path.find_first_of("?#%") != std::string_view::npos) {
      return invalidValue(kSocketVar, *value, "'?', '#' and '%' are not supported", kExpected);
    }
  } else if (!path.starts_with('/')) {
    return invalidValue(kSocketVar, *value, "only Unix domain sockets are supported", kExpected);
  }
  if (path.ends_with('/')) {
    return invalidValue(kSocketVar, *value, "the path names a directory", kExpected);
  }
  // connect() takes the path in sockaddr_un::sun_path, which ends with a NUL.
  constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
  if (path.size() > kMaxPath) {
    return invalidValue(kSocketVar, *value,
                        "the path is " + std::to_string(path.size()) +
                            " bytes and a Unix socket path is at most " + std::to_string(kMaxPath),
                        kExpected);
  }
  config_.spiffeEndpointSocket = std::string(path);
  return okStatus();
}

Status Loader::readKeeperPeers() {
  constexpr std::string_view kExpected =
      "a comma-separated list of keeper URLs such as "
      "\"https://keeper-1:8443,https://keeper-2:8443,https://keeper-3:8443\"";
  std::optional<std::string> value = get(kKeeperPeersVar);
  if (!value) {
    if (!config_.needsBootstrap()) {
      return okStatus();
    }
    return invalidConfig(std::string(kKeeperPeersVar) + " is not set. Expected " +
                         std::string(kExpected) + ".");
  }

  std::vector<std::string_view> entries = splitCommas(*value);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    int id = static_cast<int>(i) + 1;
    std::string_view entry = trim(entries[i]);
    if (entry.empty()) {
      return invalidValue(kKeeperPeersVar, *value, "entry " + std::to_string(id) + " is empty",
                          kExpected);
    }
    Result<net::Url> url = net::parseHttpsUrl(entry);
    if (!url.ok()) {
      return invalidConfig(std::string(kKeeperPeersVar) + " entry " + std::to_string(id) + ": " +
                           url.status().message() + ". Expected https://host[:port][/path].");
    }
    // Compare parsed URLs, so "https://K1:443/" and "https://k1" are one keeper.
    for (const KeeperPeer& earlier : config_.keeperPeers) {
      if (earlier.baseUrl.toString() == url->toString()) {
        return invalidConfig(std::string(kKeeperPeersVar) + " entry " + std::to_string(id) + " " +
                             quote(entry) + " names the same keeper as entry " +
                             std::to_string(earlier.id) + " " + quote(earlier.url) +
                             ". List each keeper once.");
      }
    }
    config_.keeperPeers.push_back(KeeperPeer{id, std::string(entry), std::move(url).value()});
  }
  return okStatus();
}

constexpr long long kMaxShares = 1000;

Status Loader::readShamir() {
  if (std::optional<std::string> value = get(kSharesVar)) {
    std::optional<long long> shares = parseInteger(*value);
    // The upper bound is what the tests and benchmarks cover; OpenSSL's secure
    // heap, which holds the shares, is sized for it.
    if (!shares || *shares < 1 || *shares > kMaxShares) {
      return invalidValue(kSharesVar, *value, shares ? "out of range" : "not an integer",
                          "an integer from 1 to 1000, one share per keeper");
    }
    config_.shamirShares = static_cast<int>(*shares);
  }
  if (std::optional<std::string> value = get(kThresholdVar)) {
    std::optional<long long> threshold = parseInteger(*value);
    if (!threshold || *threshold < 1 || *threshold > std::numeric_limits<int>::max()) {
      return invalidValue(kThresholdVar, *value, threshold ? "out of range" : "not an integer",
                          "an integer from 1 to " + std::string(kSharesVar));
    }
    config_.shamirThreshold = static_cast<int>(*threshold);
  }
  return okStatus();
}

// With the memory backend the run stops before it splits a key, so as in
// SPIKE the keeper and Shamir settings are not checked against each other.
Status Loader::checkKeeperCounts() {
  if (!config_.needsBootstrap()) {
    return okStatus();
  }
  int shares = config_.shamirShares;
  int threshold = config_.shamirThreshold;
  if (threshold > shares) {
    return invalidConfig(std::string(kThresholdVar) + " (" + std::to_string(threshold) +
                         ") is greater than " + std::string(kSharesVar) + " (" +
                         std::to_string(shares) +
                         "). Set a threshold from 1 to the number of shares.");
  }
  if (static_cast<std::size_t>(shares) != config_.keeperPeers.size()) {
    return invalidConfig(std::string(kSharesVar) + " (" + std::to_string(shares) +
                         ") does not match the " + std::to_string(config_.keeperPeers.size()) +
                         " keepers in " + std::string(kKeeperPeersVar) +
                         ". Set one keeper URL per share.");
  }
  if (threshold == 1) {
    warn(std::string(kThresholdVar) +
         " is 1, so every keeper receives the whole root key and any one of them can reveal it."
         " Use a threshold of at least 2 unless that is intended.");
  }
  return okStatus();
}

Status Loader::readNexusUrl() {
  std::optional<std::string> value = get(kNexusUrlVar);
  if (!value) {
    return okStatus();
  }
  std::string_view text = trim(*value);
  Result<net::Url> url = net::parseHttpsUrl(text);
  if (!url.ok()) {
    return invalidConfig(std::string(kNexusUrlVar) + ": " + url.status().message() +
                         ". Expected https://host[:port][/path], such as https://localhost:8553.");
  }
  config_.nexusApiUrl = std::string(text);
  config_.nexusUrl = std::move(url).value();
  return okStatus();
}

// Returns the trust domains listed in a variable, trimmed and without empty
// entries. The list is empty when the variable is unset or lists nothing.
Result<std::vector<std::string>> Loader::readTrustDomains(std::string_view name) const {
  std::vector<std::string> domains;
  std::optional<std::string> value = get(name);
  if (!value) {
    return domains;
  }
  for (std::string_view entry : splitCommas(*value)) {
    entry = trim(entry);
    if (entry.empty()) {
      continue;
    }
    if (std::optional<std::string> problem = trustDomainProblem(entry)) {
      return invalidValue(name, *value, "entry " + quote(entry) + " is invalid because " + *problem,
                          "a comma-separated list of trust domain names such as "
                          "\"spike.ist,example.org\"");
    }
    domains.emplace_back(entry);
  }
  return domains;
}

Status Loader::readTrustRoots() {
  Result<std::vector<std::string>> common = readTrustDomains(kTrustRootVar);
  if (!common.ok()) {
    return common.status();
  }
  std::vector<std::string> fallback =
      common->empty() ? std::vector<std::string>{std::string(kDefaultTrustRoot)} : *common;

  std::pair<std::string_view, std::vector<std::string>*> roles[] = {
      {kTrustRootBootstrapVar, &config_.trustRoots.bootstrap},
      {kTrustRootKeeperVar, &config_.trustRoots.keeper},
      {kTrustRootNexusVar, &config_.trustRoots.nexus},
  };
  for (auto& [name, field] : roles) {
    Result<std::vector<std::string>> domains = readTrustDomains(name);
    if (!domains.ok()) {
      return domains.status();
    }
    *field = domains->empty() ? fallback : std::move(domains).value();
  }
  return okStatus();
}

Status Loader::readForce() {
  std::optional<std::string> value = get(kForceVar);
  if (!value) {
    return okStatus();
  }
  std::optional<bool> force = parseGoBool(*value);
  if (!force) {
    return invalidValue(kForceVar, *value, "not a boolean",
                        "true or false (1, t, T, TRUE, True, 0, f, F, FALSE and False also work)");
  }
  config_.force = *force;
  // SPIKE's own bootstrap forces only on the exact string "true" and ignores
  // every other value, so a value such as "1" behaves differently there.
  if (*force && *value != "true") {
    warn(std::string(kForceVar) + "=" + quote(*value) +
         " forces a new root key here, but SPIKE's bootstrap forces only on the exact value"
         " \"true\".");
  }
  return okStatus();
}

Status Loader::readConfigMapName() {
  std::optional<std::string> value = get(kConfigMapNameVar);
  if (!value) {
    return okStatus();
  }
  if (!isDnsSubdomainName(*value)) {
    return invalidValue(kConfigMapNameVar, *value, "not a valid Kubernetes object name",
                        "at most 253 lowercase letters, digits, '-' and '.', starting and ending "
                        "with a letter or digit");
  }
  config_.configMapName = *value;
  return okStatus();
}

Status Loader::readDurations() {
  for (const DurationRule& rule : durationRules()) {
    std::optional<std::string> value = get(rule.name);
    if (!value) {
      continue;
    }
    Result<Duration> duration = parseDurationValue(*value);
    if (!duration.ok()) {
      return invalidValue(rule.name, *value, duration.status().message(), rule.expected);
    }
    if (*duration < Duration::zero()) {
      return invalidValue(rule.name, *value, "a negative duration is not allowed", rule.expected);
    }
    if (*duration < rule.minimum) {
      std::string reason = rule.minimum == Duration(1)
                               ? std::string("0 is not allowed here")
                               : "below the minimum of " + formatGoDuration(rule.minimum);
      return invalidValue(rule.name, *value, reason, rule.expected);
    }
    config_.*rule.field = *duration;
  }

  if (config_.keeperRetryMaxInterval < config_.keeperRetryInitialInterval) {
    return invalidConfig(std::string(kRetryMaxVar) + " (" +
                         formatGoDuration(config_.keeperRetryMaxInterval) + ") is less than " +
                         std::string(kRetryInitialVar) + " (" +
                         formatGoDuration(config_.keeperRetryInitialInterval) +
                         "). Set the maximum to at least the initial interval.");
  }
  return okStatus();
}

Status Loader::readKeeperMaxRetries() {
  std::optional<std::string> value = get(kKeeperMaxRetriesVar);
  if (!value) {
    return okStatus();
  }
  std::optional<long long> retries = parseInteger(*value);
  if (!retries || *retries < 1 || *retries > std::numeric_limits<int>::max()) {
    return invalidValue(kKeeperMaxRetriesVar, *value, retries ? "out of range" : "not an integer",
                        "an integer of at least 1, counting the first attempt");
  }
  config_.keeperMaxRetries = static_cast<int>(*retries);
  return okStatus();
}

Status Loader::readLogLevel() {
  std::optional<std::string> value = get(kLogLevelVar);
  if (!value) {
    return okStatus();
  }
  // SPIKE accepts the four names in any case and uses warn for anything else,
  // so "warning" means warn there as well.
  std::string name = lowerCase(*value);
  if (name == "warning") {
    name = "warn";
  }
  for (logging::Level level : {logging::Level::kDebug, logging::Level::kInfo, logging::Level::kWarn,
                               logging::Level::kError}) {
    if (name == logLevelName(level)) {
      config_.logLevel = level;
      return okStatus();
    }
  }
  return invalidValue(kLogLevelVar, *value, "unknown log level",
                      "debug, info, warn (or warning) or error, in any case");
}

Status Loader::readServiceAccountDir() {
  std::optional<std::string> value = get(kServiceAccountDirVar);
  if (!value) {
    return okStatus();
  }
  if (!value->starts_with('/')) {
    return invalidValue(kServiceAccountDirVar, *value, "not an absolute path",
                        "the absolute path of the mounted ServiceAccount directory, such as "
                        "/var/run/secrets/kubernetes.io/serviceaccount");
  }
  config_.serviceAccountDir = *value;
  return okStatus();
}

Status Loader::readKubernetes() {
  config_.kubernetesServiceHost = get(kServiceHostVar);
  config_.kubernetesServicePort = get(kServicePortVar);
  if (const std::optional<std::string>& port = config_.kubernetesServicePort) {
    std::optional<long long> number = parseInteger(*port);
    if (!number || port->front() == '+' || *number < 1 || *number > 65535) {
      return invalidValue(kServicePortVar, *port, "not a port number", "a number from 1 to 65535");
    }
  }
  // client-go needs both variables to consider itself in a cluster.
  if (config_.kubernetesServiceHost.has_value() != config_.kubernetesServicePort.has_value()) {
    std::string_view set = config_.kubernetesServiceHost ? kServiceHostVar : kServicePortVar;
    std::string_view unset = config_.kubernetesServiceHost ? kServicePortVar : kServiceHostVar;
    warn(std::string(set) + " is set but " + std::string(unset) +
         " is not, so the run treats this as outside a Kubernetes cluster.");
  }
  return okStatus();
}

}  // namespace

const std::vector<DurationRule>& durationRules() {
  static const std::vector<DurationRule> rules{
      {kBootstrapTimeoutVar, &Config::bootstrapTimeout, Duration::zero(), kNoLimitDuration},
      {kKeeperTimeoutVar, &Config::keeperTimeout, Duration::zero(), kNoLimitDuration},
      {kRetryInitialVar, &Config::keeperRetryInitialInterval, Duration(1), kPositiveDuration},
      {kRetryMaxVar, &Config::keeperRetryMaxInterval, Duration(1), kPositiveDuration},
      {kVerificationTimeoutVar, &Config::initVerificationTimeout, Duration::zero(),
       kNoLimitDuration},
      {kSourceTimeoutVar, &Config::spiffeSourceTimeout, Duration(1), kPositiveDuration},
      // A claim has to outlast the API calls that renew it, so the lease has a
      // floor. NOTE: 1s is a judgement, not a measured bound.
      {kLeaseDurationVar, &Config::leaseDuration, std::chrono::seconds(1),
       "a Go duration of at least 1s, such as \"15s\""},
  };
  return rules;
}

EnvLookup processEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

std::string_view backendStoreName(BackendStore store) {
  switch (store) {
    case BackendStore::kMemory:
      return "memory";
    case BackendStore::kSqlite:
      return "sqlite";
    case BackendStore::kLite:
      return "lite";
  }
  return "unknown";
}

std::string_view logLevelName(logging::Level level) {
  switch (level) {
    case logging::Level::kDebug:
      return "debug";
    case logging::Level::kInfo:
      return "info";
    case logging::Level::kWarn:
      return "warn";
    case logging::Level::kError:
      return "error";
  }
  return "unknown";
}

Result<Config> loadConfig(const EnvLookup& env, std::vector<std::string>* warnings) {
  return Loader(env, warnings).load();
}

}  // namespace spike_bootstrap::config
