// FakeDeployment: a whole SPIKE deployment for one test of spike-bootstrap,
// built in a few lines.
//
// It contains a test PKI for one trust domain, a fake Workload API on a Unix
// socket in a temporary directory that issues the bootstrap SVID, N fake
// keepers and a fake Nexus that rebuilds the root key from those keepers'
// shares. environment() returns the variables that point spike-bootstrap at
// them, with short retry intervals so tests finish fast, and a termination
// log file in the temporary directory. With options.kubernetes it also runs a
// fake Kubernetes API server, and the run keeps its state ConfigMap there.
//
//   FakeDeployment deployment;            // 3 keepers, threshold 2
//   deployment.keeper(2).failNext(2, KeeperFault::kUnavailable);
//   deployment.start();
//   auto result = runProcess(binary, {"-init"}, deployment.environment(), 30s);
//
// Thread rule: construct, start and destroy on one thread; the fakes it
// returns have their own thread rules (all of their methods are thread-safe).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spike_bootstrap/crypto/shamir.h"
#include "spike_bootstrap/kube/configmap.h"
#include "support/keeper/fake_keeper.h"
#include "support/kube/fake_kube_api.h"
#include "support/nexus/fake_nexus.h"
#include "support/pki/test_pki.h"
#include "support/workload_api/fake_workload_api.h"
#include "support/workload_api/temp_dir.h"

namespace spike_bootstrap::testing {

// Environment variables of a child process, name to value.
using Environment = std::map<std::string, std::string>;

// The state ConfigMap's name when SPIKE_BOOTSTRAP_CONFIGMAP_NAME is unset.
inline constexpr const char* kStateConfigMapName = "spike-bootstrap-state";

struct FakeDeploymentOptions {
  std::string trustDomain = "spike.test";
  int keepers = 3;
  int threshold = 2;
  // SPIFFE ID of the SVID the Workload API issues. Empty means
  // spiffe://<trustDomain>/spike/bootstrap.
  std::string bootstrapSpiffeId;
  // SPIFFE IDs for particular keepers (key: keeper ID, 1-based), such as a
  // nexus ID to test that bootstrap rejects the keeper.
  std::map<int, std::string> keeperSpiffeIds;
  // Loopback address the keepers, Nexus and the Kubernetes API bind:
  // "127.0.0.1" or "::1".
  std::string address = "127.0.0.1";
  // Runs a fake Kubernetes API server as well. environment() then carries
  // KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount directory, POD_NAME,
  // POD_NAMESPACE and HOSTNAME, so spike-bootstrap keeps its state record.
  bool kubernetes = false;
  // The pod name the run reports (POD_NAME and HOSTNAME) with kubernetes.
  std::string podName = "spike-bootstrap-test";
};

class FakeDeployment {
 public:
  // Creates every fake and the temporary directory; nothing listens until
  // the start methods run. Throws std::runtime_error when a fake cannot be made.
  explicit FakeDeployment(FakeDeploymentOptions options = {});
  // Stops Nexus, the keepers and the Workload API, then removes the directory.
  ~FakeDeployment();
  FakeDeployment(const FakeDeployment&) = delete;
  FakeDeployment& operator=(const FakeDeployment&) = delete;

  // Starts the Workload API, every keeper and Nexus.
  void start();
  void startWorkloadApi();
  void startKeepers();
  void startNexus();

  const FakeDeploymentOptions& options() const { return options_; }
  const TestCa& ca() const { return ca_; }
  FakeWorkloadApi& workloadApi() { return *workloadApi_; }
  // Returns keeper id (1-based, as in SPIKE_NEXUS_KEEPER_PEERS).
  FakeKeeper& keeper(int id);
  int keeperCount() const { return static_cast<int>(keepers_.size()); }
  FakeNexus& nexus() { return *nexus_; }
  bool hasKubeApi() const { return kubeApi_ != nullptr; }
  // Returns the fake Kubernetes API server. Throws std::logic_error without
  // options.kubernetes.
  FakeKubeApi& kubeApi() const;
  // Returns the state ConfigMap as the fake API server stores it now, or
  // nullopt when there is none (or no fake API server).
  std::optional<kube::ConfigMap> stateConfigMap() const;

  // Returns the shares the keepers store now, in keeper order.
  std::vector<crypto::KeeperShare> heldShares() const;

  // Returns the variables for spike-bootstrap: every setting it reads,
  // pointing at these fakes, with short intervals. Nothing else is in it, so
  // without options.kubernetes the child gets no KUBERNETES_SERVICE_HOST and
  // runs without cluster state.
  Environment environment() const;

  // Path of the (initially empty) file named by SPIKE_BOOTSTRAP_TERMINATION_LOG.
  std::string terminationLogPath() const { return directory_.file("termination-log"); }
  // Returns the termination log's contents, "" when nothing was written.
  std::string terminationLog() const;
  // Path of the Workload API socket, without the unix:// prefix.
  std::string socketPath() const { return directory_.file("agent.sock"); }

 private:
  FakeDeploymentOptions options_;
  TempDir directory_;
  TestCa ca_;
  std::unique_ptr<FakeWorkloadApi> workloadApi_;
  std::vector<std::unique_ptr<FakeKeeper>> keepers_;
  std::unique_ptr<FakeNexus> nexus_;
  std::unique_ptr<FakeKubeApi> kubeApi_;
};

}  // namespace spike_bootstrap::testing
