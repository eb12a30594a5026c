// loadConfig and describe: defaults, every variable, every error and warning.
#include <chrono>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "spike_bootstrap/config/config.h"

namespace config = spike_bootstrap::config;
namespace logging = spike_bootstrap::logging;
using config::BackendStore;
using config::Config;
using config::Duration;
using spike_bootstrap::Result;
using spike_bootstrap::StatusCode;
using namespace std::chrono_literals;

namespace {

using Variables = std::map<std::string, std::string, std::less<>>;

constexpr const char* kThreePeers = "https://k1:8443,https://k2:8443,https://k3:8443";

config::EnvLookup lookupIn(const Variables& variables) {
  return [&variables](std::string_view name) -> std::optional<std::string> {
    auto found = variables.find(name);
    if (found == variables.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

// Loads a config from three keeper peers plus the given variables, which may
// replace the peers.
Result<Config> loadWith(std::initializer_list<std::pair<const std::string, std::string>> extra,
                        std::vector<std::string>* warnings = nullptr) {
  Variables variables{{"SPIKE_NEXUS_KEEPER_PEERS", kThreePeers}};
  for (const auto& [name, value] : extra) {
    variables[name] = value;
  }
  return config::loadConfig(lookupIn(variables), warnings);
}

Config loadValid(std::initializer_list<std::pair<const std::string, std::string>> extra) {
  Result<Config> result = loadWith(extra);
  INFO((result.ok() ? std::string("ok") : result.status().message()));
  REQUIRE(result.ok());
  return std::move(result).value();
}

// Checks that loading fails with InvalidArgument and a message that contains
// every fragment.
void requireInvalid(std::initializer_list<std::pair<const std::string, std::string>> extra,
                    std::initializer_list<std::string> fragments) {
  Result<Config> result = loadWith(extra);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kInvalidArgument);
  std::string message = result.status().message();
  CHECK(message.find('\n') == std::string::npos);
  for (const std::string& fragment : fragments) {
    CHECK_THAT(message, Catch::Contains(fragment));
  }
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("config defaults match SPIKE", "[config]") {
  std::vector<std::string> warnings;
  Result<Config> result = loadWith({}, &warnings);
  REQUIRE(result.ok());
  const Config& config = *result;

  CHECK(config.spiffeEndpointSocket == "/tmp/spire-agent/public/api.sock");
  CHECK(config.shamirShares == 3);
  CHECK(config.shamirThreshold == 2);
  CHECK(config.nexusApiUrl == "https://localhost:8553");
  CHECK(config.nexusUrl.host == "localhost");
  CHECK(config.nexusUrl.port == 8553);
  CHECK(config.nexusUrl.path.empty());
  CHECK(config.trustRoots.bootstrap == Strings{"spike.ist"});
  CHECK(config.trustRoots.keeper == Strings{"spike.ist"});
  CHECK(config.trustRoots.nexus == Strings{"spike.ist"});
  CHECK(config.backendStore == BackendStore::kSqlite);
  CHECK_FALSE(config.force);
  CHECK(config.configMapName == "spike-bootstrap-state");
  CHECK(config.bootstrapTimeout == 0s);
  CHECK(config.keeperTimeout == 30s);
  CHECK(config.keeperMaxRetries == 5);
  CHECK(config.keeperRetryInitialInterval == 2s);
  CHECK(config.keeperRetryMaxInterval == 30s);
  CHECK(config.initVerificationTimeout == 30min);
  CHECK(config.spiffeSourceTimeout == 30s);
  CHECK(config.leaseDuration == 15s);
  CHECK(config.logLevel == logging::Level::kInfo);
  CHECK(config.hostname.empty());
  CHECK(config.serviceAccountDir == "/var/run/secrets/kubernetes.io/serviceaccount");
  CHECK_FALSE(config.kubernetesServiceHost.has_value());
  CHECK_FALSE(config.kubernetesServicePort.has_value());
  CHECK_FALSE(config.podName.has_value());
  CHECK_FALSE(config.podNamespace.has_value());
  CHECK_FALSE(config.inCluster());
  CHECK(config.needsBootstrap());
  CHECK(warnings.empty());
}

TEST_CASE("config empty values count as unset", "[config]") {
  Config config = loadValid({{"SPIFFE_ENDPOINT_SOCKET", ""},
                             {"SPIKE_NEXUS_SHAMIR_SHARES", ""},
                             {"SPIKE_NEXUS_API_URL", ""},
                             {"SPIKE_TRUST_ROOT", ""},
                             {"SPIKE_NEXUS_BACKEND_STORE", ""},
                             {"SPIKE_BOOTSTRAP_FORCE", ""},
                             {"SPIKE_BOOTSTRAP_KEEPER_TIMEOUT", ""},
                             {"SPIKE_SYSTEM_LOG_LEVEL", ""},
                             {"KUBERNETES_SERVICE_HOST", ""},
                             {"POD_NAME", ""}});
  CHECK(config.spiffeEndpointSocket == "/tmp/spire-agent/public/api.sock");
  CHECK(config.shamirShares == 3);
  CHECK(config.nexusApiUrl == "https://localhost:8553");
  CHECK(config.trustRoots.keeper == Strings{"spike.ist"});
  CHECK(config.backendStore == BackendStore::kSqlite);
  CHECK_FALSE(config.force);
  CHECK(config.keeperTimeout == 30s);
  CHECK(config.logLevel == logging::Level::kInfo);
  CHECK_FALSE(config.kubernetesServiceHost.has_value());
  CHECK_FALSE(config.podName.has_value());
}

TEST_CASE("config reads the process environment", "[config]") {
  config::EnvLookup env = config::processEnvironment();
  CHECK(env("PATH").has_value());
  CHECK_FALSE(env("SPIKE_BOOTSTRAP_TEST_VARIABLE_THAT_IS_NEVER_SET").has_value());
}

// --- SPIFFE_ENDPOINT_SOCKET ---------------------------------------------------

TEST_CASE("config socket accepts unix URI and path", "[config]") {
  CHECK(loadValid({{"SPIFFE_ENDPOINT_SOCKET", "unix:///run/spire/agent.sock"}})
            .spiffeEndpointSocket == "/run/spire/agent.sock");
  CHECK(loadValid({{"SPIFFE_ENDPOINT_SOCKET", "/run/spire/agent.sock"}}).spiffeEndpointSocket ==
        "/run/spire/agent.sock");
}

TEST_CASE("config socket rejects other forms", "[config]") {
  const char* values[] = {"tcp://127.0.0.1:8081",
                          "run/agent.sock",
                          "unix:/run/agent.sock",
                          "unix://host/run/agent.sock",
                          "unix://",
                          "unix:///run/a.sock?x=1",
                          "unix:///run/a%20b.sock",
                          "unix:///run/a.sock#f",
                          "/run/spire/",
                          "UNIX:///run/agent.sock"};
  for (const char* value : values) {
    INFO("value: " << value);
    requireInvalid({{"SPIFFE_ENDPOINT_SOCKET", value}},
                   {"invalid SPIFFE_ENDPOINT_SOCKET \"" + std::string(value) + "\"",
                    "Expected unix:///path/to/socket"});
  }
}

TEST_CASE("config socket rejects an overlong path", "[config]") {
  std::string longest = "/" + std::string(106, 'a');
  CHECK(loadValid({{"SPIFFE_ENDPOINT_SOCKET", longest}}).spiffeEndpointSocket == longest);
  requireInvalid({{"SPIFFE_ENDPOINT_SOCKET", longest + "a"}},
                 {"SPIFFE_ENDPOINT_SOCKET", "108 bytes", "at most 107"});
}

// --- SPIKE_NEXUS_KEEPER_PEERS and Shamir settings ----------------------------

TEST_CASE("config keeper peers get ids in order", "[config]") {
  Config config = loadValid(
      {{"SPIKE_NEXUS_KEEPER_PEERS", " https://k1:8443 ,https://K2/base/, https://[::1]:9443"}});
  REQUIRE(config.keeperPeers.size() == 3);
  CHECK(config.keeperPeers[0].id == 1);
  CHECK(config.keeperPeers[0].url == "https://k1:8443");
  CHECK(config.keeperPeers[0].baseUrl.host == "k1");
  CHECK(config.keeperPeers[0].baseUrl.port == 8443);
  CHECK(config.keeperPeers[1].id == 2);
  CHECK(config.keeperPeers[1].url == "https://K2/base/");
  CHECK(config.keeperPeers[1].baseUrl.host == "k2");
  CHECK(config.keeperPeers[1].baseUrl.port == 443);
  CHECK(config.keeperPeers[1].baseUrl.path == "/base");
  CHECK(config.keeperPeers[2].id == 3);
  CHECK(config.keeperPeers[2].baseUrl.host == "::1");
}

TEST_CASE("config keeper peers are required", "[config]") {
  Result<Config> result = config::loadConfig(lookupIn({}), nullptr);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(result.status().message(),
             Catch::StartsWith("SPIKE_NEXUS_KEEPER_PEERS is not set. Expected"));
}

TEST_CASE("config lite backend needs keeper peers", "[config]") {
  Variables variables{{"SPIKE_NEXUS_BACKEND_STORE", "lite"}};
  Result<Config> result = config::loadConfig(lookupIn(variables), nullptr);
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.status().message(), Catch::Contains("SPIKE_NEXUS_KEEPER_PEERS is not set"));
}

TEST_CASE("config memory backend skips keeper checks", "[config]") {
  // Given the memory backend, peers, shares and threshold may disagree,
  // because the run stops before it splits a key.
  Variables variables{{"SPIKE_NEXUS_BACKEND_STORE", "memory"},
                      {"SPIKE_NEXUS_SHAMIR_SHARES", "5"},
                      {"SPIKE_NEXUS_SHAMIR_THRESHOLD", "7"}};
  std::vector<std::string> warnings;
  Result<Config> result = config::loadConfig(lookupIn(variables), &warnings);
  REQUIRE(result.ok());
  CHECK(result->backendStore == BackendStore::kMemory);
  CHECK_FALSE(result->needsBootstrap());
  CHECK(result->keeperPeers.empty());
  CHECK(result->shamirShares == 5);
  CHECK(result->shamirThreshold == 7);
  CHECK(warnings.empty());
}

TEST_CASE("config memory backend still parses values", "[config]") {
  Variables variables{{"SPIKE_NEXUS_BACKEND_STORE", "memory"},
                      {"SPIKE_NEXUS_KEEPER_PEERS", "http://k1"}};
  Result<Config> result = config::loadConfig(lookupIn(variables), nullptr);
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.status().message(), Catch::Contains("SPIKE_NEXUS_KEEPER_PEERS entry 1"));
}

TEST_CASE("config keeper peers reject empty entries", "[config]") {
  const std::pair<const char*, const char*> cases[] = {
      {"https://k1,,https://k3", "entry 2 is empty"},
      {"https://k1,https://k2,", "entry 3 is empty"},
      {",https://k2,https://k3", "entry 1 is empty"},
      {"https://k1, ,https://k3", "entry 2 is empty"},
      {"  ", "entry 1 is empty"},
  };
  for (const auto& [value, problem] : cases) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_NEXUS_KEEPER_PEERS", value}},
                   {"invalid SPIKE_NEXUS_KEEPER_PEERS", problem, "Expected a comma-separated"});
  }
}

TEST_CASE("config keeper peers reject bad URLs", "[config]") {
  const std::pair<const char*, const char*> cases[] = {
      {"http://k1:8443,https://k2,https://k3", "entry 1: invalid URL \"http://k1:8443\""},
      {"https://k1,k2:8443,https://k3", "entry 2: invalid URL \"k2:8443\""},
      {"https://k1,https://k2,https://", "entry 3: invalid URL \"https://\""},
      {"https://k1,https://k2:0,https://k3", "entry 2: invalid URL"},
      {"https://k1,https://k2?x=1,https://k3", "entry 2: invalid URL"},
      {"https://k1,https://user@k2,https://k3", "entry 2: invalid URL"},
  };
  for (const auto& [value, problem] : cases) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_NEXUS_KEEPER_PEERS", value}},
                   {"SPIKE_NEXUS_KEEPER_PEERS", problem, "Expected https://host[:port][/path]"});
  }
}

TEST_CASE("config keeper peers reject duplicates", "[config]") {
  const std::pair<const char*, const char*> cases[] = {
      {"https://k1:8443,https://k2,https://k1:8443", "entry 3 \"https://k1:8443\""},
      {"https://k1:8443,https://k2,https://k1:8443/", "entry 3 \"https://k1:8443/\""},
      {"https://k1,https://K1,https://k3", "entry 2 \"https://K1\""},
      {"https://k1:443,https://k1,https://k3", "entry 2 \"https://k1\""},
      {"https://k1/a,https://k2, https://k1/a/ ", "entry 3 \"https://k1/a/\""},
  };
  for (const auto& [value, problem] : cases) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_NEXUS_KEEPER_PEERS", value}},
                   {"SPIKE_NEXUS_KEEPER_PEERS", problem, "names the same keeper as entry",
                    "List each keeper once."});
  }
}

TEST_CASE("config keeper peers allow distinct paths", "[config]") {
  Config config = loadValid(
      {{"SPIKE_NEXUS_KEEPER_PEERS", "https://proxy/k1,https://proxy/k2,https://proxy/k3"}});
  CHECK(config.keeperPeers.size() == 3);
}

TEST_CASE("config shares and threshold are read", "[config]") {
  Config config =
      loadValid({{"SPIKE_NEXUS_KEEPER_PEERS", "https://a,https://b,https://c,https://d,https://e"},
                 {"SPIKE_NEXUS_SHAMIR_SHARES", "5"},
                 {"SPIKE_NEXUS_SHAMIR_THRESHOLD", "+3"}});
  CHECK(config.shamirShares == 5);
  CHECK(config.shamirThreshold == 3);
  CHECK(config.keeperPeers.size() == 5);
}

TEST_CASE("config shares must match keeper count", "[config]") {
  requireInvalid({{"SPIKE_NEXUS_SHAMIR_SHARES", "4"}},
                 {"SPIKE_NEXUS_SHAMIR_SHARES (4) does not match the 3 keepers in "
                  "SPIKE_NEXUS_KEEPER_PEERS",
                  "Set one keeper URL per share."});
  requireInvalid({{"SPIKE_NEXUS_KEEPER_PEERS", "https://k1,https://k2"}},
                 {"SPIKE_NEXUS_SHAMIR_SHARES (3) does not match the 2 keepers"});
}

TEST_CASE("config rejects invalid share counts", "[config]") {
  for (const char* value : {"0", "-1", "three", "3.0", " 3", "3 ", "+-3", "99999999999999999999"}) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_NEXUS_SHAMIR_SHARES", value}},
                   {"invalid SPIKE_NEXUS_SHAMIR_SHARES \"" + std::string(value) + "\"",
                    "Expected an integer from 1 to 1000"});
  }
}

TEST_CASE("config rejects invalid thresholds", "[config]") {
  for (const char* value : {"0", "-2", "two", "2147483648"}) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_NEXUS_SHAMIR_THRESHOLD", value}},
                   {"invalid SPIKE_NEXUS_SHAMIR_THRESHOLD \"" + std::string(value) + "\"",
                    "Expected an integer from 1 to SPIKE_NEXUS_SHAMIR_SHARES"});
  }
}

TEST_CASE("config threshold above shares is rejected", "[config]") {
  requireInvalid({{"SPIKE_NEXUS_SHAMIR_THRESHOLD", "4"}},
                 {"SPIKE_NEXUS_SHAMIR_THRESHOLD (4) is greater than SPIKE_NEXUS_SHAMIR_SHARES (3)",
                  "Set a threshold from 1 to the number of shares."});
}

TEST_CASE("config threshold equal to shares is accepted", "[config]") {
  CHECK(loadValid({{"SPIKE_NEXUS_SHAMIR_THRESHOLD", "3"}}).shamirThreshold == 3);
}

TEST_CASE("config threshold 1 warns", "[config]") {
  std::vector<std::string> warnings;
  Result<Config> result = loadWith({{"SPIKE_NEXUS_SHAMIR_THRESHOLD", "1"}}, &warnings);
  REQUIRE(result.ok());
  CHECK(result->shamirThreshold == 1);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("SPIKE_NEXUS_SHAMIR_THRESHOLD is 1"));
  CHECK_THAT(warnings[0], Catch::Contains("every keeper receives the whole root key"));
}

TEST_CASE("config threshold 1 without warning list", "[config]") {
  CHECK(loadWith({{"SPIKE_NEXUS_SHAMIR_THRESHOLD", "1"}}, nullptr).ok());
}

// --- SPIKE_NEXUS_API_URL -----------------------------------------------------

TEST_CASE("config nexus URL is parsed", "[config]") {
  Config config = loadValid({{"SPIKE_NEXUS_API_URL", " https://Nexus.spike:9553/api/ "}});
  CHECK(config.nexusApiUrl == "https://Nexus.spike:9553/api/");
  CHECK(config.nexusUrl.host == "nexus.spike");
  CHECK(config.nexusUrl.port == 9553);
  CHECK(config.nexusUrl.path == "/api");
}

TEST_CASE("config nexus URL rejects bad values", "[config]") {
  for (const char* value : {"http://localhost:8553", "localhost:8553", "https://",
                            "https://h:99999", "https://h/#frag"}) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_NEXUS_API_URL", value}},
                   {"SPIKE_NEXUS_API_URL: invalid URL \"" + std::string(value) + "\"",
                    "Expected https://host[:port][/path]"});
  }
}

// --- SPIKE_TRUST_ROOT* -------------------------------------------------------

TEST_CASE("config trust roots fall back to common", "[config]") {
  Config config = loadValid({{"SPIKE_TRUST_ROOT", " example.org , ,other.org,"}});
  CHECK(config.trustRoots.bootstrap == Strings{"example.org", "other.org"});
  CHECK(config.trustRoots.keeper == Strings{"example.org", "other.org"});
  CHECK(config.trustRoots.nexus == Strings{"example.org", "other.org"});
}

TEST_CASE("config trust roots per role win", "[config]") {
  Config config = loadValid({{"SPIKE_TRUST_ROOT", "example.org"},
                             {"SPIKE_TRUST_ROOT_BOOTSTRAP", "boot.org"},
                             {"SPIKE_TRUST_ROOT_KEEPER", "keep-1.org,keep_2.org"},
                             {"SPIKE_TRUST_ROOT_NEXUS", " , "}});
  CHECK(config.trustRoots.bootstrap == Strings{"boot.org"});
  CHECK(config.trustRoots.keeper == Strings{"keep-1.org", "keep_2.org"});
  // A list with no entries counts as unset.
  CHECK(config.trustRoots.nexus == Strings{"example.org"});
}

TEST_CASE("config trust roots per role without common", "[config]") {
  Config config = loadValid({{"SPIKE_TRUST_ROOT_NEXUS", "nexus.org"}});
  CHECK(config.trustRoots.bootstrap == Strings{"spike.ist"});
  CHECK(config.trustRoots.keeper == Strings{"spike.ist"});
  CHECK(config.trustRoots.nexus == Strings{"nexus.org"});
}

TEST_CASE("config trust roots reject invalid names", "[config]") {
  const std::pair<const char*, const char*> cases[] = {
      {"Spike.ist", "lowercase letters"},
      {"spike.ist,bad domain", "lowercase letters"},
      {"spike.ist:8443", "lowercase letters"},
      {"spiffe://spike.ist", "without spiffe://"},
  };
  for (const char* name : {"SPIKE_TRUST_ROOT", "SPIKE_TRUST_ROOT_BOOTSTRAP",
                           "SPIKE_TRUST_ROOT_KEEPER", "SPIKE_TRUST_ROOT_NEXUS"}) {
    for (const auto& [value, problem] : cases) {
      INFO(name << "=" << value);
      requireInvalid({{name, value}}, {"invalid " + std::string(name) + " \"", problem,
                                       "Expected a comma-separated list of trust domain names"});
    }
  }
}

TEST_CASE("config trust roots reject overlong names", "[config]") {
  std::string longest(255, 'a');
  CHECK(loadValid({{"SPIKE_TRUST_ROOT", longest}}).trustRoots.keeper == Strings{longest});
  requireInvalid({{"SPIKE_TRUST_ROOT", longest + "a"}}, {"at most 255 bytes"});
}

// --- SPIKE_NEXUS_BACKEND_STORE -----------------------------------------------

TEST_CASE("config backend store names any case", "[config]") {
  CHECK(loadValid({{"SPIKE_NEXUS_BACKEND_STORE", "memory"}}).backendStore == BackendStore::kMemory);
  CHECK(loadValid({{"SPIKE_NEXUS_BACKEND_STORE", "SQLite"}}).backendStore == BackendStore::kSqlite);
  CHECK(loadValid({{"SPIKE_NEXUS_BACKEND_STORE", "LITE"}}).backendStore == BackendStore::kLite);
  CHECK(loadValid({{"SPIKE_NEXUS_BACKEND_STORE", "lite"}}).needsBootstrap());
}

TEST_CASE("config backend store rejects unknown", "[config]") {
  for (const char* value : {"postgres", "sqlite3", " memory", "mem"}) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_NEXUS_BACKEND_STORE", value}},
                   {"invalid SPIKE_NEXUS_BACKEND_STORE \"" + std::string(value) + "\"",
                    "unknown backend store", "Expected memory, sqlite or lite."});
  }
}

TEST_CASE("config backend store names", "[config]") {
  CHECK(config::backendStoreName(BackendStore::kMemory) == "memory");
  CHECK(config::backendStoreName(BackendStore::kSqlite) == "sqlite");
  CHECK(config::backendStoreName(BackendStore::kLite) == "lite");
}

// --- SPIKE_BOOTSTRAP_FORCE ---------------------------------------------------

TEST_CASE("config force accepts Go booleans", "[config]") {
  for (const char* value : {"1", "t", "T", "TRUE", "true", "True"}) {
    INFO("value: " << value);
    CHECK(loadValid({{"SPIKE_BOOTSTRAP_FORCE", value}}).force);
  }
  for (const char* value : {"0", "f", "F", "FALSE", "false", "False"}) {
    INFO("value: " << value);
    CHECK_FALSE(loadValid({{"SPIKE_BOOTSTRAP_FORCE", value}}).force);
  }
}

TEST_CASE("config force rejects other values", "[config]") {
  for (const char* value : {"yes", "on", "tRuE", "true ", "2"}) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_BOOTSTRAP_FORCE", value}},
                   {"invalid SPIKE_BOOTSTRAP_FORCE \"" + std::string(value) + "\"", "not a boolean",
                    "Expected true or false"});
  }
}

TEST_CASE("config force warns where SPIKE differs", "[config]") {
  std::vector<std::string> warnings;
  REQUIRE(loadWith({{"SPIKE_BOOTSTRAP_FORCE", "true"}}, &warnings).ok());
  CHECK(warnings.empty());

  REQUIRE(loadWith({{"SPIKE_BOOTSTRAP_FORCE", "TRUE"}}, &warnings).ok());
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("SPIKE_BOOTSTRAP_FORCE=\"TRUE\""));
  CHECK_THAT(warnings[0], Catch::Contains("only on the exact value \"true\""));

  warnings.clear();
  REQUIRE(loadWith({{"SPIKE_BOOTSTRAP_FORCE", "False"}}, &warnings).ok());
  CHECK(warnings.empty());
}

// --- SPIKE_BOOTSTRAP_CONFIGMAP_NAME ------------------------------------------

TEST_CASE("config configmap name is read", "[config]") {
  CHECK(loadValid({{"SPIKE_BOOTSTRAP_CONFIGMAP_NAME", "spike-spike-nexus-bootstrap"}})
            .configMapName == "spike-spike-nexus-bootstrap");
  CHECK(loadValid({{"SPIKE_BOOTSTRAP_CONFIGMAP_NAME", "a.b-1"}}).configMapName == "a.b-1");
}

TEST_CASE("config configmap name is validated", "[config]") {
  for (std::string value :
       {std::string("Spike-State"), std::string("-state"), std::string("state-"),
        std::string("state_1"), std::string("state/1"), std::string("a..b"), std::string("a-.b"),
        std::string("a.-b"), std::string(".a"), std::string(254, 'a')}) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_BOOTSTRAP_CONFIGMAP_NAME", value}},
                   {"invalid SPIKE_BOOTSTRAP_CONFIGMAP_NAME", "not a valid Kubernetes object name",
                    "Expected at most 253 lowercase letters"});
  }
  CHECK(
      loadValid({{"SPIKE_BOOTSTRAP_CONFIGMAP_NAME", std::string(253, 'a')}}).configMapName.size() ==
      253);
}

// --- Durations -----------------------------------------------------------------

TEST_CASE("config durations are read", "[config]") {
  Config config = loadValid({{"SPIKE_BOOTSTRAP_TIMEOUT", "1h"},
                             {"SPIKE_BOOTSTRAP_KEEPER_TIMEOUT", "1m30s"},
                             {"SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL", "250ms"},
                             {"SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL", "1.5s"},
                             {"SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT", "45m"},
                             {"SPIKE_SPIFFE_SOURCE_TIMEOUT", "10s"},
                             {"SPIKE_BOOTSTRAP_LEASE_DURATION", "1m"}});
  CHECK(config.bootstrapTimeout == 1h);
  CHECK(config.keeperTimeout == 90s);
  CHECK(config.keeperRetryInitialInterval == 250ms);
  CHECK(config.keeperRetryMaxInterval == 1500ms);
  CHECK(config.initVerificationTimeout == 45min);
  CHECK(config.spiffeSourceTimeout == 10s);
  CHECK(config.leaseDuration == 1min);
}

TEST_CASE("config zero means no limit where allowed", "[config]") {
  Config config = loadValid({{"SPIKE_BOOTSTRAP_TIMEOUT", "0"},
                             {"SPIKE_BOOTSTRAP_KEEPER_TIMEOUT", "0s"},
                             {"SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT", "0"}});
  CHECK(config.bootstrapTimeout == 0s);
  CHECK(config.keeperTimeout == 0s);
  CHECK(config.initVerificationTimeout == 0s);
}

TEST_CASE("config zero is rejected where meaningless", "[config]") {
  for (const char* name :
       {"SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL",
        "SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL", "SPIKE_SPIFFE_SOURCE_TIMEOUT"}) {
    INFO("name: " << name);
    requireInvalid({{name, "0"}}, {"invalid " + std::string(name) + " \"0\"",
                                   "0 is not allowed here", "Expected a Go duration above 0"});
  }
}

TEST_CASE("config lease has a minimum", "[config]") {
  CHECK(loadValid({{"SPIKE_BOOTSTRAP_LEASE_DURATION", "1s"}}).leaseDuration == 1s);
  for (const char* value : {"0", "999ms"}) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_BOOTSTRAP_LEASE_DURATION", value}},
                   {"invalid SPIKE_BOOTSTRAP_LEASE_DURATION", "below the minimum of 1s",
                    "Expected a Go duration of at least 1s"});
  }
}

TEST_CASE("config durations reject bad values", "[config]") {
  const char* names[] = {"SPIKE_BOOTSTRAP_TIMEOUT",
                         "SPIKE_BOOTSTRAP_KEEPER_TIMEOUT",
                         "SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL",
                         "SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL",
                         "SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT",
                         "SPIKE_SPIFFE_SOURCE_TIMEOUT",
                         "SPIKE_BOOTSTRAP_LEASE_DURATION"};
  const std::pair<const char*, const char*> cases[] = {
      {"30", "missing unit"},
      {"30x", "unknown unit \"x\""},
      {"s", "expected a number"},
      {"-1s", "a negative duration is not allowed"},
      {"-0.5h", "a negative duration is not allowed"},
      {"3000000h", "out of range"},
  };
  for (const char* name : names) {
    for (const auto& [value, problem] : cases) {
      INFO(name << "=" << value);
      requireInvalid({{name, value}}, {"invalid " + std::string(name) + " \"" + value + "\"",
                                       problem, "Expected a Go duration"});
    }
  }
}

TEST_CASE("config retry maximum below initial is rejected", "[config]") {
  requireInvalid({{"SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL", "5s"},
                  {"SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL", "1s"}},
                 {"SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL (1s) is less than "
                  "SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL (5s)"});
  // The default maximum (30s) is below an initial interval of 1m.
  requireInvalid({{"SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL", "1m"}},
                 {"(30s) is less than", "(1m0s)"});
  Config config = loadValid({{"SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL", "3s"},
                             {"SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL", "3s"}});
  CHECK(config.keeperRetryMaxInterval == 3s);
}

// --- SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES ----------------------------------------

TEST_CASE("config max retries is read", "[config]") {
  CHECK(loadValid({{"SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES", "1"}}).keeperMaxRetries == 1);
  CHECK(loadValid({{"SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES", "12"}}).keeperMaxRetries == 12);
}

TEST_CASE("config max retries rejects bad values", "[config]") {
  const std::pair<const char*, const char*> cases[] = {
      {"0", "out of range"},    {"-3", "out of range"}, {"five", "not an integer"},
      {"5s", "not an integer"}, {"", nullptr},          {"99999999999", "out of range"},
  };
  for (const auto& [value, problem] : cases) {
    if (problem == nullptr) {
      continue;  // an empty value counts as unset
    }
    INFO("value: " << value);
    requireInvalid({{"SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES", value}},
                   {"invalid SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES \"" + std::string(value) + "\"",
                    problem, "Expected an integer of at least 1"});
  }
}

// --- SPIKE_SYSTEM_LOG_LEVEL ------------------------------------------------------

TEST_CASE("config log level any case", "[config]") {
  const std::pair<const char*, logging::Level> cases[] = {
      {"debug", logging::Level::kDebug},  {"INFO", logging::Level::kInfo},
      {"Warn", logging::Level::kWarn},    {"warning", logging::Level::kWarn},
      {"WARNING", logging::Level::kWarn}, {"error", logging::Level::kError},
  };
  for (const auto& [value, level] : cases) {
    INFO("value: " << value);
    CHECK(loadValid({{"SPIKE_SYSTEM_LOG_LEVEL", value}}).logLevel == level);
  }
}

TEST_CASE("config log level rejects unknown", "[config]") {
  for (const char* value : {"verbose", "trace", "fatal", "warn "}) {
    INFO("value: " << value);
    requireInvalid({{"SPIKE_SYSTEM_LOG_LEVEL", value}},
                   {"invalid SPIKE_SYSTEM_LOG_LEVEL \"" + std::string(value) + "\"",
                    "unknown log level", "Expected debug, info, warn (or warning) or error"});
  }
}

// --- Host, ServiceAccount and Kubernetes variables ---------------------------

TEST_CASE("config hostname and pod fields", "[config]") {
  Config config = loadValid({{"HOSTNAME", "bootstrap-x7k2p"},
                             {"POD_NAME", "bootstrap-x7k2p"},
                             {"POD_NAMESPACE", "spike"}});
  CHECK(config.hostname == "bootstrap-x7k2p");
  CHECK(config.podName == "bootstrap-x7k2p");
  CHECK(config.podNamespace == "spike");
}

TEST_CASE("config serviceaccount dir must be absolute", "[config]") {
  CHECK(loadValid({{"SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR", "/tmp/sa"}}).serviceAccountDir ==
        "/tmp/sa");
  requireInvalid({{"SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR", "tmp/sa"}},
                 {"invalid SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR \"tmp/sa\"", "not an absolute path"});
}

TEST_CASE("config in cluster needs host and port", "[config]") {
  Config config =
      loadValid({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  CHECK(config.kubernetesServiceHost == "10.96.0.1");
  CHECK(config.kubernetesServicePort == "443");
  CHECK(config.inCluster());
}

TEST_CASE("config half a service address warns", "[config]") {
  std::vector<std::string> warnings;
  Result<Config> result = loadWith({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}, &warnings);
  REQUIRE(result.ok());
  CHECK_FALSE(result->inCluster());
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("KUBERNETES_SERVICE_HOST is set but "
                                          "KUBERNETES_SERVICE_PORT is not"));

  warnings.clear();
  result = loadWith({{"KUBERNETES_SERVICE_PORT", "443"}}, &warnings);
  REQUIRE(result.ok());
  CHECK_FALSE(result->inCluster());
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("KUBERNETES_SERVICE_PORT is set but "
                                          "KUBERNETES_SERVICE_HOST is not"));
}

TEST_CASE("config service port is validated", "[config]") {
  for (const char* value : {"0", "65536", "https", "+443", "-1", "44 3"}) {
    INFO("value: " << value);
    requireInvalid({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", value}},
                   {"invalid KUBERNETES_SERVICE_PORT \"" + std::string(value) + "\"",
                    "Expected a number from 1 to 65535"});
  }
}

// --- Error message form --------------------------------------------------------

TEST_CASE("config errors escape and shorten values", "[config]") {
  requireInvalid({{"SPIKE_NEXUS_BACKEND_STORE", "a\"b\\c\nd"}}, {"\"a\\\"b\\\\c\\x0ad\""});

  std::string huge(5000, 'x');
  Result<Config> result = loadWith({{"SPIKE_NEXUS_BACKEND_STORE", huge}});
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().message().size() < 400);
  CHECK_THAT(result.status().message(), Catch::Contains("(first 200 of 5000 bytes)"));
}

// --- describe ----------------------------------------------------------------------

TEST_CASE("config describe lists every setting", "[config]") {
  Config config = loadValid({{"SPIKE_NEXUS_KEEPER_PEERS", "https://k1, https://k2,https://k3/"},
                             {"SPIKE_TRUST_ROOT_KEEPER", "a.org,b.org"},
                             {"SPIKE_BOOTSTRAP_KEEPER_TIMEOUT", "90s"},
                             {"SPIKE_SYSTEM_LOG_LEVEL", "warning"},
                             {"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                             {"KUBERNETES_SERVICE_PORT", "443"}});
  std::map<std::string, std::string> settings;
  for (const auto& [name, value] : config::describe(config)) {
    CHECK(settings.emplace(name, value).second);
  }

  std::map<std::string, std::string> expected{
      {"SPIFFE_ENDPOINT_SOCKET", "/tmp/spire-agent/public/api.sock"},
      {"SPIKE_NEXUS_KEEPER_PEERS", "https://k1,https://k2,https://k3/"},
      {"SPIKE_NEXUS_SHAMIR_SHARES", "3"},
      {"SPIKE_NEXUS_SHAMIR_THRESHOLD", "2"},
      {"SPIKE_NEXUS_API_URL", "https://localhost:8553"},
      {"SPIKE_TRUST_ROOT_BOOTSTRAP", "spike.ist"},
      {"SPIKE_TRUST_ROOT_KEEPER", "a.org,b.org"},
      {"SPIKE_TRUST_ROOT_NEXUS", "spike.ist"},
      {"SPIKE_NEXUS_BACKEND_STORE", "sqlite"},
      {"SPIKE_BOOTSTRAP_FORCE", "false"},
      {"SPIKE_BOOTSTRAP_CONFIGMAP_NAME", "spike-bootstrap-state"},
      {"SPIKE_BOOTSTRAP_TIMEOUT", "0s"},
      {"SPIKE_BOOTSTRAP_KEEPER_TIMEOUT", "1m30s"},
      {"SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES", "5"},
      {"SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL", "2s"},
      {"SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL", "30s"},
      {"SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT", "30m0s"},
      {"SPIKE_SPIFFE_SOURCE_TIMEOUT", "30s"},
      {"SPIKE_BOOTSTRAP_LEASE_DURATION", "15s"},
      {"SPIKE_SYSTEM_LOG_LEVEL", "warn"},
      {"HOSTNAME", ""},
      {"SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount"},
      {"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
      {"KUBERNETES_SERVICE_PORT", "443"},
      {"POD_NAME", ""},
      {"POD_NAMESPACE", ""},
  };
  CHECK(settings == expected);
}

TEST_CASE("config log level names", "[config]") {
  CHECK(config::logLevelName(logging::Level::kDebug) == "debug");
  CHECK(config::logLevelName(logging::Level::kInfo) == "info");
  CHECK(config::logLevelName(logging::Level::kWarn) == "warn");
  CHECK(config::logLevelName(logging::Level::kError) == "error");
}

TEST_CASE("config shares above 1000 rejected", "[config]") {
  requireInvalid({{"SPIKE_NEXUS_SHAMIR_SHARES", "1001"}},
                 {"SPIKE_NEXUS_SHAMIR_SHARES", "1001", "an integer from 1 to 1000"});
}
