// The built spike-bootstrap when the Kubernetes API fails it: the record
// cannot be read (403, 500, unreachable, no ServiceAccount files), the
// completion write fails for a while or for good, and the token rotates
// during the run.
#include <catch2/catch.hpp>

#include <string>

#include "state_support.h"

using namespace spike_bootstrap;
using namespace spike_bootstrap::testing;

namespace {

// Returns the number of calls with verb that got status.
std::size_t callsWithStatus(const FakeKubeApi& api, const std::string& verb, int status) {
  std::size_t count = 0;
  for (const KubeCall& call : api.calls()) {
    count += call.verb == verb && call.status == status ? 1 : 0;
  }
  return count;
}

}  // namespace

TEST_CASE("state run fails on a forbidden read", "[state][api]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  deployment.kubeApi().addFault(KubeFault::respond("get", 403));

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 1);
  checkNothingSent(deployment);
  std::string summary = lastLine(run.log);
  CHECK(contains(summary, "bootstrap failed: exit_code=1"));
  // The operator learns which RBAC verb on which resource to grant.
  CHECK(contains(summary, "verb \\\"get\\\""));
  CHECK(contains(summary, "configmaps"));
  CHECK(deployment.kubeApi().callCount("create", "configmaps") == 0);
  CHECK(!deployment.stateConfigMap().has_value());
}

TEST_CASE("state run fails when reads keep failing", "[state][api]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  deployment.kubeApi().addFault(KubeFault::respond("get", 500));

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 1);
  checkNothingSent(deployment);
  CHECK(contains(lastLine(run.log), "bootstrap failed: exit_code=1"));
  // 500 is retried before the run gives up.
  CHECK(deployment.kubeApi().callCount("get", "configmaps") > 1);
  CHECK(deployment.kubeApi().callCount("create", "configmaps") == 0);
}

TEST_CASE("state run fails when the API is unreachable", "[state][api]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();
  environment["KUBERNETES_SERVICE_PORT"] = std::to_string(closedPort());
  // The deadline ends the client's retries sooner than their own limit.
  environment["SPIKE_BOOTSTRAP_TIMEOUT"] = "3s";

  RunRecord run = runInit(environment);
  INFO(run.log);

  CHECK(run.exitCode == 1);
  checkNothingSent(deployment);
  std::string summary = lastLine(run.log);
  CHECK(contains(summary, "bootstrap failed: exit_code=1"));
  CHECK(contains(summary, environment["KUBERNETES_SERVICE_PORT"]));
}

TEST_CASE("state run needs the ServiceAccount files", "[state][api]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  std::string missing = GENERATE(as<std::string>{}, "token", "ca.crt");
  deployment.kubeApi().serviceAccountDir().removeFile(missing);

  RunRecord run = runInit(deployment.environment());
  INFO(missing << "\n" << run.log);

  CHECK(run.exitCode == 1);
  checkNothingSent(deployment);
  std::string summary = lastLine(run.log);
  CHECK(contains(summary, "bootstrap failed: exit_code=1"));
  CHECK(contains(summary, "automountServiceAccountToken"));
  CHECK(deployment.kubeApi().calls().empty());
}

TEST_CASE("state run retries the completion write", "[state][api]") {
  FakeDeployment deployment(clusterOptions());
  // Nexus delays its response, so the test can break the API server between the
  // verification and the completion write that follows it.
  deployment.nexus().setDelay(500ms);
  deployment.start();
  FakeKubeApi& api = deployment.kubeApi();

  ChildProcess child(SPIKE_BOOTSTRAP_BINARY, {"-init"}, deployment.environment());
  REQUIRE(deployment.nexus().waitForVerified(30s));
  api.addFault(KubeFault::respond("update", 403, 2));
  int exitCode = waitForExit(child);
  INFO(child.standardError());

  CHECK(exitCode == 0);
  CHECK(callsWithStatus(api, "update", 403) == 2);
  CHECK(linesWith(child.standardError(), {"could not record completion; retrying"}).size() == 2);
  CHECK(stateValue(deployment, "bootstrap-completed") == "true");
  CHECK(stateValue(deployment, "phase") == "completed");
}

TEST_CASE("state run refuses after completion never recorded", "[state][api]") {
  FakeDeployment deployment(clusterOptions());
  deployment.nexus().setDelay(500ms);
  deployment.start();
  FakeKubeApi& api = deployment.kubeApi();
  Environment environment = deployment.environment();
  environment["SPIKE_BOOTSTRAP_TIMEOUT"] = "6s";

  ChildProcess child(SPIKE_BOOTSTRAP_BINARY, {"-init"}, environment);
  REQUIRE(deployment.nexus().waitForVerified(30s));
  api.addFault(KubeFault::respond("update", 403));
  int exitCode = waitForExit(child);
  INFO(child.standardError());

  // Nexus runs with the new key, so a retried Job must not make another one.
  CHECK(exitCode == 3);
  std::string summary = lastLine(child.standardError());
  CHECK(contains(summary, "bootstrap refused: exit_code=3"));
  CHECK(contains(summary, "do not re-run"));
  CHECK(contains(summary, "kubectl -n spike patch configmap spike-bootstrap-state"));
  CHECK(stateValue(deployment, "bootstrap-completed").empty());
  CHECK(callsWithStatus(api, "update", 403) >= 2);
}

TEST_CASE("state run survives token rotation", "[state][api]") {
  FakeDeployment deployment(clusterOptions());
  // Slow keepers: the token rotates while their shares are on the way.
  for (int id = 1; id <= 3; ++id) {
    deployment.keeper(id).setDelay(500ms);
  }
  deployment.start();
  FakeKubeApi& api = deployment.kubeApi();
  const std::string firstToken = api.token();

  ChildProcess child(SPIKE_BOOTSTRAP_BINARY, {"-init"}, deployment.environment());
  // Every write-ahead record is written before its keeper's request, so no
  // API call is on the way while the keepers hold their replies.
  for (int id = 1; id <= 3; ++id) {
    REQUIRE(deployment.keeper(id).waitForRequests(1, 30s));
  }
  api.rotateToken();
  const std::string secondToken = api.token();
  int exitCode = waitForExit(child);
  INFO(child.standardError());

  CHECK(exitCode == 0);
  CHECK(stateValue(deployment, "bootstrap-completed") == "true");
  std::size_t withFirst = 0;
  std::size_t withSecond = 0;
  for (const KubeCall& call : api.calls()) {
    withFirst += call.token == firstToken ? 1 : 0;
    withSecond += call.token == secondToken ? 1 : 0;
  }
  CHECK(withFirst > 0);
  // At least the completion write and the Event went out with the new token.
  CHECK(withSecond >= 2);
  CHECK(callsWithStatus(api, "update", 401) == 0);
  REQUIRE(api.events().size() == 1);
  CHECK(api.events()[0].reason == "BootstrapCompleted");
}
