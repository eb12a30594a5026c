// The built spike-bootstrap in a cluster, one test per branch of the
// decision it takes from the state ConfigMap: none yet, completed, completed
// for another deployment, corrupt, memory backend. Also `spike-bootstrap
// status` after a completed run.
#include <catch2/catch.hpp>

#include <string>

#include "state_support.h"

using namespace spike_bootstrap;
using namespace spike_bootstrap::testing;

TEST_CASE("state run creates and completes record", "[state][decision]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();

  RunRecord run = runInit(environment);
  INFO(run.log);

  REQUIRE(run.exitCode == 0);
  CHECK(contains(lastLine(run.log), "bootstrap completed: exit_code=0"));
  CHECK(deployment.nexus().verifiedCount() == 1);
  checkOneRootKey(deployment);

  // Given no ConfigMap, the run read a 404 and claimed it with a create.
  FakeKubeApi& api = deployment.kubeApi();
  std::vector<KubeCall> calls = api.calls();
  REQUIRE(!calls.empty());
  CHECK(calls.front().verb == "get");
  CHECK(calls.front().status == 404);
  CHECK(api.callCount("create", "configmaps") == 1);

  // SPIKE's three keys, as SPIKE writes them.
  CHECK(stateValue(deployment, "bootstrap-completed") == "true");
  CHECK(kube::parseRfc3339(stateValue(deployment, "completed-at")).ok());
  CHECK(stateValue(deployment, "completed-by-pod") == deployment.options().podName);

  kube::StateRecord record = stateRecord(deployment);
  CHECK(record.completed);
  CHECK(record.phase == kube::Phase::kCompleted);
  CHECK(record.holder == deployment.options().podName);
  CHECK(record.attemptId.size() == 32);
  CHECK(record.sharesPossiblyDelivered == std::set<int>{1, 2, 3});
  CHECK(record.keepersAcknowledged == std::set<int>{1, 2, 3});
  CHECK(record.lastError.empty());
  CHECK(record.deploymentFingerprint == deploymentOf(environment).fingerprint());
  REQUIRE(record.deployment.has_value());
  CHECK(*record.deployment == deploymentOf(environment));

  // The outcome is an Event on our pod.
  std::vector<StoredEvent> events = api.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].reason == "BootstrapCompleted");
  CHECK(events[0].type == "Normal");
  CHECK(events[0].involvedKind == "Pod");
  CHECK(events[0].involvedName == deployment.options().podName);
  CHECK(events[0].involvedNamespace == api.namespaceName());
  CHECK(contains(events[0].message, "bootstrap completed"));
}

TEST_CASE("state run skips a completed record", "[state][decision]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();
  seedRecord(deployment,
             completedRecord(deploymentOf(environment), "2025-01-02T03:04:05Z", "bootstrap-abc12"));

  RunRecord run = runInit(environment);
  INFO(run.log);

  CHECK(run.exitCode == 0);
  checkNothingSent(deployment);
  std::string summary = lastLine(run.log);
  CHECK(contains(summary, "bootstrap skipped: exit_code=0"));
  CHECK(contains(summary, "2025-01-02T03:04:05Z"));
  CHECK(contains(summary, "bootstrap-abc12"));
  CHECK(linesWith(run.log, {"deployment changed"}).empty());

  // The record was only read.
  FakeKubeApi& api = deployment.kubeApi();
  CHECK(api.callCount("create", "configmaps") == 0);
  CHECK(api.callCount("update", "configmaps") == 0);
  CHECK(api.callCount("patch", "configmaps") == 0);
  CHECK(stateValue(deployment, "completed-by-pod") == "bootstrap-abc12");
}

TEST_CASE("state run warns about deployment drift", "[state][decision]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();
  // Given a key made for threshold 3 and a keeper at another address...
  kube::Deployment recorded = deploymentOf(environment);
  recorded.threshold = 3;
  recorded.keeperPeers[2] = "https://keeper-3.moved.test:8443";
  seedRecord(deployment, completedRecord(recorded, "2025-01-02T03:04:05Z", "bootstrap-abc12"));

  // ...a run with threshold 2 and today's keepers keeps the key.
  RunRecord run = runInit(environment);
  INFO(run.log);

  CHECK(run.exitCode == 0);
  checkNothingSent(deployment);
  CHECK(contains(lastLine(run.log), "bootstrap skipped: exit_code=0"));
  std::vector<std::string> warnings =
      linesWith(run.log, {"\"level\":\"warn", "deployment changed"});
  REQUIRE(warnings.size() == 2);
  CHECK(linesWith(run.log, {"\"setting\":\"threshold\"", "\"recorded\":\"3\"", "\"current\":\"2\""})
            .size() == 1);
  CHECK(linesWith(run.log, {"\"setting\":\"keeper peers\"", "keeper-3.moved.test"}).size() == 1);
  // The summary, and so the pod Event, lists the changes as well.
  CHECK(contains(lastLine(run.log), "threshold: 3 -> 2"));
  CHECK(stateValue(deployment, "deployment-threshold") == "3");
}

TEST_CASE("state run refuses a corrupt record", "[state][decision]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  deployment.kubeApi().seedConfigMap(kStateConfigMapName, {{"bootstrap-completed", "yes"}});

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 3);
  checkNothingSent(deployment);
  std::string summary = lastLine(run.log);
  CHECK(contains(summary, "bootstrap refused: exit_code=3"));
  CHECK(contains(summary, "bootstrap-completed"));
  CHECK(contains(summary, "yes"));
  CHECK(deployment.kubeApi().callCount("update", "configmaps") == 0);
  CHECK(stateValue(deployment, "bootstrap-completed") == "yes");
}

TEST_CASE("state run skips the memory backend", "[state][decision]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();
  environment["SPIKE_NEXUS_BACKEND_STORE"] = "memory";

  RunRecord run = runInit(environment);
  INFO(run.log);

  CHECK(run.exitCode == 0);
  CHECK(contains(lastLine(run.log), "bootstrap skipped: exit_code=0"));
  checkNothingSent(deployment);
  CHECK(deployment.kubeApi().calls().empty());
}

TEST_CASE("state status shows a completed record", "[state][status]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();
  RunRecord run = runInit(environment);
  INFO(run.log);
  REQUIRE(run.exitCode == 0);
  const std::string podName = deployment.options().podName;

  ProcessResult text = runCommand({"status"}, environment);
  INFO(text.standardOutput << text.standardError);
  CHECK(text.exitCode == 0);
  CHECK(contains(text.standardOutput, "configmap: spike/spike-bootstrap-state"));
  CHECK(contains(text.standardOutput, "completed: yes"));
  CHECK(contains(text.standardOutput, "completed-by-pod: " + podName));
  CHECK(contains(text.standardOutput, "completed-at: " + stateValue(deployment, "completed-at")));
  CHECK(contains(text.standardOutput, "phase: completed"));
  CHECK(contains(text.standardOutput, "shares-possibly-delivered: 3 (1,2,3)"));

  ProcessResult json = runCommand({"status", "--json"}, environment);
  INFO(json.standardOutput << json.standardError);
  CHECK(json.exitCode == 0);
  CHECK(contains(json.standardOutput, "\"exists\":true"));
  CHECK(contains(json.standardOutput, "\"completed\":true"));
  CHECK(contains(json.standardOutput, "\"completed_by_pod\":\"" + podName + "\""));
  CHECK(contains(json.standardOutput, "\"phase\":\"completed\""));
  CHECK(contains(json.standardOutput, "\"shares_possibly_delivered\":[1,2,3]"));
}

TEST_CASE("state run reaches the API over IPv6", "[state][decision]") {
  if (!ipv6LoopbackAvailable()) {
    WARN("skipped: [::1] cannot be bound on this machine");
    return;
  }
  FakeDeploymentOptions options = clusterOptions();
  options.address = "::1";
  FakeDeployment deployment(options);
  deployment.start();
  Environment environment = deployment.environment();
  REQUIRE(environment["KUBERNETES_SERVICE_HOST"] == "::1");

  RunRecord run = runInit(environment);
  INFO(run.log);

  // The API server's URL needs brackets around an IPv6 host.
  CHECK(run.exitCode == 0);
  CHECK(stateValue(deployment, "bootstrap-completed") == "true");
}
