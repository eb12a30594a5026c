// Loads the settings that deploy/bootstrap.yaml and the bare-metal environment
// file hand to spike-bootstrap through the real config loader, so that a
// renamed variable, a changed default or a value the loader rejects fails
// here rather than in a cluster.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "spike_bootstrap/config/config.h"

namespace spike_bootstrap::config {
namespace {

using Environment = std::map<std::string, std::string>;

const std::string kSourceDir = SPIKE_BOOTSTRAP_SOURCE_DIR;

// Variables the deployment files leave unset on purpose: the kubelet sets
// the Kubernetes service variables and HOSTNAME in every pod.
const std::set<std::string> kSetByPlatform = {"HOSTNAME", "KUBERNETES_SERVICE_HOST",
                                              "KUBERNETES_SERVICE_PORT"};

// Variables whose value depends on the site rather than on spike-bootstrap.
const std::set<std::string> kSiteSpecific = {
    "SPIFFE_ENDPOINT_SOCKET", "SPIKE_NEXUS_KEEPER_PEERS", "SPIKE_NEXUS_API_URL",    "POD_NAME",
    "POD_NAMESPACE",          "KUBERNETES_SERVICE_HOST",  "KUBERNETES_SERVICE_PORT"};

EnvLookup lookupIn(const Environment& environment) {
  return [environment](std::string_view name) -> std::optional<std::string> {
    auto found = environment.find(std::string(name));
    if (found == environment.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

// Reads a VARIABLE=value file as systemd's EnvironmentFile= does for the
// simple lines it contains: no quotes, "#" starts a comment line.
Environment readEnvironmentFile(const std::string& path) {
  std::ifstream file(path);
  REQUIRE(file.good());
  Environment environment;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line.front() == '#') {
      continue;
    }
    std::size_t equals = line.find('=');
    REQUIRE(equals != std::string::npos);
    environment[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return environment;
}

// Returns the environment of the Job's container in a manifest. Variables
// from the downward API get the values the kubelet would give a pod, and the
// kubelet's service variables are added.
Environment readJobEnvironment(const std::string& path) {
  std::vector<YAML::Node> documents = YAML::LoadAllFromFile(path);
  for (const YAML::Node& document : documents) {
    if (!document["kind"] || document["kind"].as<std::string>() != "Job") {
      continue;
    }
    const YAML::Node containers = document["spec"]["template"]["spec"]["containers"];
    REQUIRE(containers.size() == 1);
    Environment environment;
    for (const YAML::Node& variable : containers[0]["env"]) {
      std::string name = variable["name"].as<std::string>();
      if (variable["valueFrom"]) {
        std::string field = variable["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>();
        environment[name] = field == "metadata.name" ? "spike-bootstrap-x7k2p" : "spike";
      } else {
        environment[name] = variable["value"].as<std::string>();
      }
    }
    environment["KUBERNETES_SERVICE_HOST"] = "127.0.0.1";
    environment["KUBERNETES_SERVICE_PORT"] = "443";
    return environment;
  }
  FAIL("no Job in " << path);
  return {};
}

Config loadOrFail(const Environment& environment) {
  std::vector<std::string> warnings;
  Result<Config> config = loadConfig(lookupIn(environment), &warnings);
  INFO((config.ok() ? std::string("loaded") : config.status().message()));
  REQUIRE(config.ok());
  return std::move(config).value();
}

Environment describeAsMap(const Config& config) {
  Environment settings;
  for (auto& [name, value] : describe(config)) {
    settings[name] = value;
  }
  return settings;
}

const std::string kManifest = kSourceDir + "/deploy/bootstrap.yaml";
const std::string kBareMetalFile = kSourceDir + "/deploy/bare-metal/spike-bootstrap.env";

TEST_CASE("deploy manifest settings load", "[deploy]") {
  Config config = loadOrFail(readJobEnvironment(kManifest));

  CHECK(config.inCluster());
  CHECK(config.needsBootstrap());
  CHECK(config.spiffeEndpointSocket == "/spiffe-workload-api/spire-agent.sock");
  REQUIRE(config.keeperPeers.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(config.keeperPeers[i].id == i + 1);
    CHECK(config.keeperPeers[i].baseUrl.host ==
          "spiffe-spike-keeper-" + std::to_string(i) +
              ".spiffe-spike-keeper-headless.spike.svc.cluster.local");
    CHECK(config.keeperPeers[i].baseUrl.port == 8443);
  }
  CHECK(config.nexusUrl.host == "spiffe-spike-nexus.spike.svc.cluster.local");
  CHECK(config.nexusUrl.port == 443);
  CHECK(config.podName == "spike-bootstrap-x7k2p");
  CHECK(config.podNamespace == "spike");
}

TEST_CASE("deploy manifest sets every variable", "[deploy]") {
  Environment environment = readJobEnvironment(kManifest);

  for (auto& [name, value] : describe(Config{})) {
    if (kSetByPlatform.count(name) == 0) {
      INFO(name);
      CHECK(environment.count(name) == 1);
    }
  }
}

// The manifest spells out each default, so it must load to the same settings
// as an environment with only the site-specific variables.
TEST_CASE("deploy manifest keeps the defaults", "[deploy]") {
  Environment environment = readJobEnvironment(kManifest);
  Environment siteOnly;
  for (const std::string& name : kSiteSpecific) {
    if (environment.count(name) == 1) {
      siteOnly[name] = environment[name];
    }
  }

  Environment manifest = describeAsMap(loadOrFail(environment));
  Environment defaults = describeAsMap(loadOrFail(siteOnly));

  for (auto& [name, value] : defaults) {
    INFO(name);
    CHECK(manifest[name] == value);
  }
}

TEST_CASE("bare-metal environment file loads", "[deploy]") {
  Config config = loadOrFail(readEnvironmentFile(kBareMetalFile));

  CHECK_FALSE(config.inCluster());
  CHECK(config.spiffeEndpointSocket == "/tmp/spire-agent/public/api.sock");
  REQUIRE(config.keeperPeers.size() == 3);
  const int ports[] = {8443, 8543, 8643};
  for (int i = 0; i < 3; ++i) {
    CHECK(config.keeperPeers[i].baseUrl.host == "localhost");
    CHECK(config.keeperPeers[i].baseUrl.port == ports[i]);
  }
  CHECK(config.nexusUrl.host == "localhost");
  CHECK(config.nexusUrl.port == 8553);
  CHECK(config.shamirShares == 3);
  CHECK(config.shamirThreshold == 2);
  CHECK(config.backendStore == BackendStore::kSqlite);
  CHECK(config.logLevel == logging::Level::kInfo);
}

}  // namespace
}  // namespace spike_bootstrap::config
