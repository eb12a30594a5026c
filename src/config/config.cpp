// loadConfig: reads SPIKE's environment variables into a Config, checks each
// value and the values against each other. describe() lists the result.
#include "spike_bootstrap/config/config.h"

#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "config/go_values.h"

namespace spike_bootstrap::config {
namespace {

// Variable names, spelled as SPIKE spells them.
constexpr std::string_view kSocketVar = "SPIFFE_ENDPOINT_SOCKET";
constexpr std::string_view kKeeperPeersVar = "SPIKE_NEXUS_KEEPER_PEERS";
constexpr std::string_view kSharesVar = "SPIKE_NEXUS_SHAMIR_SHARES";
constexpr std::string_view kThresholdVar = "SPIKE_NEXUS_SHAMIR_THRESHOLD";
constexpr std::string_view kNexusUrlVar = "SPIKE_NEXUS_API_URL";
constexpr std::string_view kTrustRootVar = "SPIKE_TRUST_ROOT";
constexpr std::string_view kTrustRootBootstrapVar = "SPIKE_TRUST_ROOT_BOOTSTRAP";
constexpr std::string_view kTrustRootKeeperVar = "SPIKE_TRUST_ROOT_KEEPER";
constexpr std::string_view kTrustRootNexusVar = "SPIKE_TRUST_ROOT_NEXUS";
constexpr std::string_view kBackendVar = "SPIKE_NEXUS_BACKEND_STORE";
constexpr std::string_view kForceVar = "SPIKE_BOOTSTRAP_FORCE";
constexpr std::string_view kConfigMapNameVar = "SPIKE_BOOTSTRAP_CONFIGMAP_NAME";
constexpr std::string_view kBootstrapTimeoutVar = "SPIKE_BOOTSTRAP_TIMEOUT";
constexpr std::string_view kKeeperTimeoutVar = "SPIKE_BOOTSTRAP_KEEPER_TIMEOUT";
constexpr std::string_view kKeeperMaxRetriesVar = "SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES";
constexpr std::string_view kRetryInitialVar = "SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL";
constexpr std::string_view kRetryMaxVar = "SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL";
constexpr std::string_view kVerificationTimeoutVar = "SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT";
constexpr std::string_view kSourceTimeoutVar = "SPIKE_SPIFFE_SOURCE_TIMEOUT";
constexpr std::string_view kLeaseDurationVar = "SPIKE_BOOTSTRAP_LEASE_DURATION";
constexpr std::string_view kLogLevelVar = "SPIKE_SYSTEM_LOG_LEVEL";
constexpr std::string_view kHostnameVar = "HOSTNAME";
constexpr std::string_view kServiceAccountDirVar = "SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR";
constexpr std::string_view kServiceHostVar = "KUBERNETES_SERVICE_HOST";
constexpr std::string_view kServicePortVar = "KUBERNETES_SERVICE_PORT";
constexpr std::string_view kPodNameVar = "POD_NAME";
constexpr std::string_view kPodNamespaceVar = "POD_NAMESPACE";

constexpr std::string_view kUnixScheme = "unix://";

// How much of a bad value an error message shows.
constexpr std::size_t kMaxQuotedBytes = 200;

// Returns value in double quotes with quotes, backslashes and control
// characters escaped, so an error stays on one line.
std::string quote(std::string_view value) {
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < kMaxQuotedBytes; ++i) {
    char c = value[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
  if (value.size() > kMaxQuotedBytes) {
    out += " (first " + std::to_string(kMaxQuotedBytes) + " of " + std::to_string(value.size()) +
           " bytes)";
  }
  return out;
}

// Returns "invalid NAME "value": reason. Expected expected."
Status invalidValue(std::string_view name, std::string_view value, std::string_view reason,
                    std::string_view expected) {
  std::string message = "invalid " + std::string(name) + " " + quote(value) + ": ";
  message += reason;
  message += ". Expected ";
  message += expected;
  message += '.';
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

Status invalidConfig(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

// Trims ASCII whitespace, as Go's strings.TrimSpace does for ASCII input.
std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  std::size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) {
      return parts;
    }
    start = end + 1;
  }
}

std::vector<std::string_view> splitCommas(std::string_view text) { return split(text, ','); }
std::vector<std::string_view> splitDots(std::string_view text) { return split(text, '.'); }

std::string lowerCase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out += out.empty() ? "" : ",";
    out += item;
  }
  return out;
}

// Parses an integer as Go's strconv.Atoi does: an optional sign, then decimal
// digits, nothing else. Values beyond long long saturate, so callers report
// them as out of range.
std::optional<long long> parseInteger(std::string_view text) {
  std::string_view digits = text;
  bool plus = digits.starts_with('+');
  if (plus) {
    digits.remove_prefix(1);
  }
  if (digits.empty() || (plus && digits.front() == '-')) {
    return std::nullopt;
  }
  long long value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  if (error == std::errc::result_out_of_range) {
    return digits.front() == '-' ? std::numeric_limits<long long>::min()
                                 : std::numeric_limits<long long>::max();
  }
  if (error != std::errc()) {
    return std::nullopt;
  }
  return value;
}

// SPIFFE trust domain names are limited to lowercase letters, digits, '.',
// '-' and '_' (go-spiffe's spiffeid.TrustDomainFromString enforces the same),
// and the host part of a URI is at most 255 bytes (SPIFFE-ID section 2.3).
std::optional<std::string> trustDomainProblem(std::string_view name) {
  if (name.starts_with("spiffe://")) {
    return "write the trust domain name without spiffe://";
  }
  if (name.size() > 255) {
    return "a trust domain name is at most 255 bytes";
  }
  for (char c : name) {
    bool allowed =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!allowed) {
      return "a trust domain name contains only lowercase letters, digits, '.', '-' and '_'";
    }
  }
  return std::nullopt;
}

// ConfigMap names are DNS subdomain names (Kubernetes "Object Names and IDs"):
// at most 253 characters in labels separated by '.', each label made of
// lowercase letters, digits and '-', starting and ending with a letter or digit.
bool isDnsSubdomainName(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  auto alphanumeric = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (std::string_view label : splitDots(name)) {
    if (label.empty() || !alphanumeric(label.front()) || !alphanumeric(label.back())) {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(),
                     [&](char c) { return alphanumeric(c) || c == '-'; })) {
      return false;
    }
  }
  return true;
}

// The checks applied to one duration variable.
struct DurationRule {
  std::string_view name;
  Duration Config::*field;
  Duration minimum;           // lowest accepted value, never below 0
  std::string_view expected;  // accepted values, as error messages describe them
};

constexpr std::string_view kNoLimitDuration =
    "a Go duration such as \"30s\" or \"1m30s\", or 0 for no limit";
constexpr std::string_view kPositiveDuration = "a Go duration above 0, such as \"2s\" or \"1m30s\"";

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

Status Loader::readShamir() {
  if (std::optional<std::string> value = get(kSharesVar)) {
    std::optional<long long> shares = parseInteger(*value);
    if (!shares || *shares < 1 || *shares > std::numeric_limits<int>::max()) {
      return invalidValue(kSharesVar, *value, shares ? "out of range" : "not an integer",
                          "an integer of at least 1, one share per keeper");
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
