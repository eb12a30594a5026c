// FakeDeployment: wiring the test PKI, the fake Workload API, keepers and
// Nexus together, and the environment that points spike-bootstrap at them.
#include "support/deployment/fake_deployment.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace spike_bootstrap::testing {

FakeDeployment::FakeDeployment(FakeDeploymentOptions options)
    : options_(std::move(options)), ca_(TestCa::root(options_.trustDomain)) {
  if (options_.keepers < 1 || options_.threshold < 1 || options_.threshold > options_.keepers) {
    throw std::runtime_error("fake deployment: need 1 <= threshold <= keepers, got threshold " +
                             std::to_string(options_.threshold) + " of " +
                             std::to_string(options_.keepers));
  }

  // The file must exist: spike-bootstrap writes a termination log only into
  // an existing file, as Kubernetes provides one.
  std::ofstream(terminationLogPath()).flush();

  std::string bootstrapId = options_.bootstrapSpiffeId.empty()
                                ? "spiffe://" + options_.trustDomain + "/spike/bootstrap"
                                : options_.bootstrapSpiffeId;
  workloadApi_ = std::make_unique<FakeWorkloadApi>(socketPath());
  workloadApi_->setUpdate(FakeX509Update{{FakeSvid::of(ca_.issueSvid(bootstrapId), ca_)}, {}});

  for (int id = 1; id <= options_.keepers; ++id) {
    FakeKeeperOptions keeperOptions;
    keeperOptions.id = id;
    keeperOptions.address = options_.address;
    if (auto custom = options_.keeperSpiffeIds.find(id); custom != options_.keeperSpiffeIds.end()) {
      keeperOptions.spiffeId = custom->second;
    }
    keepers_.push_back(std::make_unique<FakeKeeper>(ca_, keeperOptions));
  }

  FakeNexusOptions nexusOptions;
  nexusOptions.address = options_.address;
  nexus_ = std::make_unique<FakeNexus>(
      ca_, [this] { return heldShares(); }, options_.threshold, nexusOptions);

  if (options_.kubernetes) {
    FakeKubeApiOptions kubeOptions;
    kubeOptions.address = options_.address;
    kubeApi_ = std::make_unique<FakeKubeApi>(kubeOptions);
  }
}

FakeDeployment::~FakeDeployment() {
  // Nexus first: its handler reads the keepers.
  nexus_->stop();
  for (auto& keeper : keepers_) {
    keeper->stop();
  }
  workloadApi_->shutdown();
}

void FakeDeployment::start() {
  startKeepers();
  startNexus();
  startWorkloadApi();
}

void FakeDeployment::startWorkloadApi() { workloadApi_->start(); }

void FakeDeployment::startKeepers() {
  for (auto& keeper : keepers_) {
    keeper->start();
  }
}

void FakeDeployment::startNexus() { nexus_->start(); }

FakeKeeper& FakeDeployment::keeper(int id) {
  if (id < 1 || id > keeperCount()) {
    throw std::out_of_range("fake deployment has no keeper " + std::to_string(id));
  }
  return *keepers_[static_cast<std::size_t>(id - 1)];
}

FakeKubeApi& FakeDeployment::kubeApi() const {
  if (!kubeApi_) {
    throw std::logic_error("fake deployment has no Kubernetes API server; set options.kubernetes");
  }
  return *kubeApi_;
}

std::optional<kube::ConfigMap> FakeDeployment::stateConfigMap() const {
  if (!kubeApi_) {
    return std::nullopt;
  }
  return kubeApi_->configMap(kStateConfigMapName);
}

std::vector<crypto::KeeperShare> FakeDeployment::heldShares() const {
  std::vector<crypto::KeeperShare> shares;
  for (const auto& keeper : keepers_) {
    if (std::optional<crypto::KeeperShare> share = keeper->share()) {
      shares.push_back(std::move(*share));
    }
  }
  return shares;
}

Environment FakeDeployment::environment() const {
  std::string peers;
  for (const auto& keeper : keepers_) {
    peers += (peers.empty() ? "" : ",") + keeper->url();
  }
  const std::string& trustDomain = options_.trustDomain;
  Environment environment{
      {"SPIFFE_ENDPOINT_SOCKET", "unix://" + socketPath()},
      {"SPIKE_NEXUS_KEEPER_PEERS", peers},
      {"SPIKE_NEXUS_SHAMIR_SHARES", std::to_string(options_.keepers)},
      {"SPIKE_NEXUS_SHAMIR_THRESHOLD", std::to_string(options_.threshold)},
      {"SPIKE_NEXUS_API_URL", nexus_->url()},
      {"SPIKE_NEXUS_BACKEND_STORE", "sqlite"},
      {"SPIKE_TRUST_ROOT", trustDomain},
      {"SPIKE_TRUST_ROOT_BOOTSTRAP", trustDomain},
      {"SPIKE_TRUST_ROOT_KEEPER", trustDomain},
      {"SPIKE_TRUST_ROOT_NEXUS", trustDomain},
      // Short intervals: a keeper that fails a few times still stores
      // its share within a second, and a broken test ends well within CTest's timeout.
      {"SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES", "5"},
      {"SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL", "50ms"},
      {"SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL", "200ms"},
      {"SPIKE_BOOTSTRAP_KEEPER_TIMEOUT", "5s"},
      {"SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT", "20s"},
      {"SPIKE_BOOTSTRAP_TIMEOUT", "60s"},
      {"SPIKE_SPIFFE_SOURCE_TIMEOUT", "10s"},
      {"SPIKE_SYSTEM_LOG_LEVEL", "debug"},
      {"SPIKE_BOOTSTRAP_TERMINATION_LOG", terminationLogPath()},
  };
  if (kubeApi_) {
    environment["KUBERNETES_SERVICE_HOST"] = kubeApi_->host();
    environment["KUBERNETES_SERVICE_PORT"] = kubeApi_->port();
    environment["SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR"] =
        kubeApi_->serviceAccountDir().path().string();
    environment["POD_NAME"] = options_.podName;
    environment["POD_NAMESPACE"] = kubeApi_->namespaceName();
    environment["HOSTNAME"] = options_.podName;
  }
  return environment;
}

std::string FakeDeployment::terminationLog() const {
  std::ifstream in(terminationLogPath());
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace spike_bootstrap::testing
