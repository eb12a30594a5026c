// The built spike-bootstrap across runs that meet in the state record: two
// runs at once, runs killed or stopped mid-way and the runs after them, stale
// and live claims, forced re-keys, and a Nexus that already has a key.
#include <catch2/catch.hpp>

#include <csignal>
#include <string>

#include "state_support.h"

using namespace spike_bootstrap;
using namespace spike_bootstrap::testing;

namespace {

// Returns each keeper's request count, in keeper order.
std::vector<std::size_t> keeperRequests(FakeDeployment& deployment) {
  std::vector<std::size_t> counts;
  for (int id = 1; id <= deployment.keeperCount(); ++id) {
    counts.push_back(deployment.keeper(id).requestCount());
  }
  return counts;
}

// Returns each keeper's shard fingerprint, in keeper order.
std::vector<std::string> keeperShards(FakeDeployment& deployment) {
  std::vector<std::string> fingerprints;
  for (int id = 1; id <= deployment.keeperCount(); ++id) {
    fingerprints.push_back(deployment.keeper(id).shardFingerprint());
  }
  return fingerprints;
}

Environment withPod(Environment environment, const std::string& podName) {
  environment["POD_NAME"] = podName;
  environment["HOSTNAME"] = podName;
  return environment;
}

}  // namespace

TEST_CASE("state concurrent runs distribute one key", "[state][recovery]") {
  FakeDeployment deployment(clusterOptions());
  // Slow keepers keep the first run's claim live while the second one looks.
  for (int id = 1; id <= 3; ++id) {
    deployment.keeper(id).setDelay(300ms);
  }
  deployment.start();
  Environment environment = deployment.environment();

  ChildProcess first(SPIKE_BOOTSTRAP_BINARY, {"-init"}, withPod(environment, "bootstrap-a"));
  ChildProcess second(SPIKE_BOOTSTRAP_BINARY, {"-init"}, withPod(environment, "bootstrap-b"));
  int firstCode = waitForExit(first);
  int secondCode = waitForExit(second);
  INFO(first.standardError() << "\n----\n" << second.standardError());

  // One run completes. The other waits for it and skips (0), or finds that
  // Nexus already has a key and refuses (3). Either way it sends no share.
  CHECK((firstCode == 0 || secondCode == 0));
  CHECK((firstCode == 0 || firstCode == 3));
  CHECK((secondCode == 0 || secondCode == 3));
  for (int id = 1; id <= 3; ++id) {
    INFO("keeper " << id);
    CHECK(deployment.keeper(id).requestCount() == 1);
    CHECK(deployment.keeper(id).acceptedCount() == 1);
  }
  checkOneRootKey(deployment);
  CHECK(deployment.nexus().verifiedCount() >= 1);

  kube::StateRecord record = stateRecord(deployment);
  CHECK(record.completed);
  CHECK((record.completedByPod == "bootstrap-a" || record.completedByPod == "bootstrap-b"));
  // Only one of them ever claimed the record.
  CHECK(deployment.kubeApi().callCount("create", "configmaps") <= 2);
  std::size_t claims = 0;
  for (const KubeCall& call : deployment.kubeApi().calls()) {
    claims += call.verb == "create" && call.resource == "configmaps" && call.status == 201 ? 1 : 0;
  }
  CHECK(claims == 1);
}

TEST_CASE("state rerun refuses after a threshold delivered", "[state][recovery]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  // Nexus stays not ready, so the run keeps waiting after the shares are out.
  deployment.nexus().unavailableFor(60s);
  Environment environment = deployment.environment();
  environment["SPIKE_BOOTSTRAP_LEASE_DURATION"] = "1s";

  ChildProcess killed(SPIKE_BOOTSTRAP_BINARY, {"-init"}, environment);
  REQUIRE(deployment.keeper(1).waitForShard(30s));
  REQUIRE(deployment.keeper(2).waitForShard(30s));
  killed.sendSignal(SIGKILL);
  REQUIRE(killed.wait(10s).has_value());
  INFO(killed.standardError());

  kube::StateRecord left = stateRecord(deployment);
  CHECK(!left.completed);
  CHECK(left.sharesPossiblyDelivered.count(1) == 1);
  CHECK(left.sharesPossiblyDelivered.count(2) == 1);
  std::vector<std::size_t> requestsBefore = keeperRequests(deployment);
  std::size_t nexusBefore = deployment.nexus().requestCount();

  RunRecord rerun = runInit(environment);
  INFO(rerun.log);

  CHECK(rerun.exitCode == 3);
  CHECK(keeperRequests(deployment) == requestsBefore);
  CHECK(deployment.nexus().requestCount() == nexusBefore);
  std::string summary = lastLine(rerun.log);
  CHECK(contains(summary, "bootstrap refused: exit_code=3"));
  CHECK(contains(summary, "may have delivered"));
  CHECK(contains(summary, "SPIKE_BOOTSTRAP_FORCE=true"));
  CHECK(stateRecord(deployment).attemptId == left.attemptId);
}

TEST_CASE("state refusal names the kubectl command", "[state][recovery]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();
  kube::StateRecord stale =
      claimRecord(deploymentOf(environment), kube::Phase::kVerifying, 1s, {1, 2});
  stale.renewedAt = std::chrono::system_clock::now() - std::chrono::minutes(1);
  seedRecord(deployment, stale);

  RunRecord run = runInit(environment);
  INFO(run.log);

  REQUIRE(run.exitCode == 3);
  checkNothingSent(deployment);
  // The message gives the command that records completion once Nexus has that key.
  CHECK(contains(lastLine(run.log), "kubectl -n spike patch configmap spike-bootstrap-state"));
}

TEST_CASE("state rerun completes after a run sent nothing", "[state][recovery]") {
  FakeDeployment deployment(clusterOptions());
  // The keepers reject connections because nothing is listening yet.
  deployment.startWorkloadApi();
  deployment.startNexus();
  Environment environment = deployment.environment();
  environment["SPIKE_BOOTSTRAP_LEASE_DURATION"] = "1s";

  ChildProcess killed(SPIKE_BOOTSTRAP_BINARY, {"-init"}, environment);
  REQUIRE(waitUntil([&] { return stateValue(deployment, "phase") == "claimed"; }, 30s));
  REQUIRE(killed.waitForStderr("keeper attempt failed, retrying", 30s));
  killed.sendSignal(SIGKILL);
  REQUIRE(killed.wait(10s).has_value());
  INFO(killed.standardError());

  kube::StateRecord left = stateRecord(deployment);
  CHECK(left.phase == kube::Phase::kClaimed);
  CHECK(left.sharesPossiblyDelivered.empty());

  deployment.startKeepers();
  RunRecord rerun = runInit(environment);
  INFO(rerun.log);

  CHECK(rerun.exitCode == 0);
  CHECK(!linesWith(rerun.log, {"taking over the stale attempt " + left.attemptId}).empty());
  kube::StateRecord record = stateRecord(deployment);
  CHECK(record.completed);
  CHECK(record.attemptId != left.attemptId);
  checkOneRootKey(deployment);
}

TEST_CASE("state run takes over a stale claim", "[state][recovery]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();
  // A claim last renewed a minute ago, with one share out of threshold 2.
  kube::StateRecord stale =
      claimRecord(deploymentOf(environment), kube::Phase::kDelivering, 1s, {1});
  stale.renewedAt = std::chrono::system_clock::now() - std::chrono::minutes(1);
  seedRecord(deployment, stale);

  RunRecord run = runInit(environment);
  INFO(run.log);

  CHECK(run.exitCode == 0);
  // The claim is judged stale on this run's own clock, after a whole lease.
  CHECK(run.elapsed >= 1s);
  CHECK(!linesWith(run.log, {"taking over the stale attempt " + stale.attemptId}).empty());
  kube::StateRecord record = stateRecord(deployment);
  CHECK(record.completed);
  CHECK(record.attemptId != stale.attemptId);
  CHECK(record.holder == deployment.options().podName);
  CHECK(record.sharesPossiblyDelivered == std::set<int>{1, 2, 3});
  checkOneRootKey(deployment);
}

TEST_CASE("state forced run re-keys a completed record", "[state][recovery]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();
  RunRecord first = runInit(environment);
  INFO(first.log);
  REQUIRE(first.exitCode == 0);
  kube::StateRecord before = stateRecord(deployment);
  std::vector<std::string> sharesBefore = keeperShards(deployment);

  environment["SPIKE_BOOTSTRAP_FORCE"] = "true";
  RunRecord forced = runInit(environment);
  INFO(forced.log);

  CHECK(forced.exitCode == 0);
  CHECK(!linesWith(forced.log, {"\"level\":\"warn", "SPIKE_BOOTSTRAP_FORCE"}).empty());
  kube::StateRecord after = stateRecord(deployment);
  CHECK(after.completed);
  CHECK(after.attemptId != before.attemptId);
  std::vector<std::string> sharesAfter = keeperShards(deployment);
  for (std::size_t index = 0; index < sharesAfter.size(); ++index) {
    CHECK(sharesAfter[index] != sharesBefore[index]);
  }
  checkOneRootKey(deployment);
  CHECK(deployment.nexus().verifiedCount() == 2);
}

TEST_CASE("state forced run waits for a live claim", "[state][recovery]") {
  FakeDeployment deployment(clusterOptions());
  deployment.start();
  Environment environment = deployment.environment();
  environment["SPIKE_BOOTSTRAP_FORCE"] = "true";
  // Another run's claim, past the threshold, which a forced run may replace
  // only once it is stale.
  kube::StateRecord live =
      claimRecord(deploymentOf(environment), kube::Phase::kVerifying, 2s, {1, 2, 3});
  seedRecord(deployment, live);

  ChildProcess forced(SPIKE_BOOTSTRAP_BINARY, {"-init"}, environment);
  // The other run renews its claim for a while: every write is a new version.
  REQUIRE(forced.waitForStderr("waiting for another bootstrap run", 30s));
  for (int renewal = 0; renewal < 8; ++renewal) {
    std::this_thread::sleep_for(300ms);
    live.renewedAt = std::chrono::system_clock::now();
    seedRecord(deployment, live);
  }
  checkNothingSent(deployment);
  // Then it stops renewing, as if its pod died.
  int exitCode = waitForExit(forced);
  INFO(forced.standardError());

  CHECK(exitCode == 0);
  kube::StateRecord record = stateRecord(deployment);
  CHECK(record.completed);
  CHECK(record.attemptId != live.attemptId);
  checkOneRootKey(deployment);
}

TEST_CASE("state run records a stop on SIGTERM", "[state][recovery]") {
  FakeDeployment deployment(clusterOptions());
  // Keeper 1 stores its share. Keepers 2 and 3 receive theirs and never reply.
  deployment.keeper(2).failAlways(KeeperFault::kHang);
  deployment.keeper(3).failAlways(KeeperFault::kHang);
  deployment.start();

  ChildProcess child(SPIKE_BOOTSTRAP_BINARY, {"-init"}, deployment.environment());
  REQUIRE(deployment.keeper(1).waitForShard(30s));
  REQUIRE(deployment.keeper(2).waitForRequests(1, 30s));
  REQUIRE(deployment.keeper(3).waitForRequests(1, 30s));
  child.sendSignal(SIGTERM);
  int exitCode = waitForExit(child, 10s);
  INFO(child.standardError());

  CHECK(exitCode == 1);
  kube::StateRecord record = stateRecord(deployment);
  CHECK(record.phase == kube::Phase::kFailed);
  CHECK(!record.completed);
  // Keepers 2 and 3 got the bytes of their shares even though they never
  // confirmed, so all three may hold one.
  CHECK(record.sharesPossiblyDelivered == std::set<int>{1, 2, 3});
  CHECK(contains(record.lastError, "SIGTERM"));
  // After a signal the Event has only a short window, which a slow machine
  // may miss, so it is checked only when it was recorded.
  std::vector<StoredEvent> events = deployment.kubeApi().events();
  CHECK(events.size() <= 1);
  for (const StoredEvent& event : events) {
    CHECK(event.reason == "BootstrapFailed");
    CHECK(event.type == "Warning");
  }
}

TEST_CASE("state run refuses when Nexus has a key", "[state][recovery]") {
  const bool inCluster = GENERATE(true, false);
  FakeDeploymentOptions options;
  options.kubernetes = inCluster;
  FakeDeployment deployment(options);
  deployment.start();
  // An earlier bootstrap without a record: Nexus rebuilt its key from these
  // keepers, so it serves the verify route.
  RunRecord earlier = runInit(withoutCluster(deployment.environment()));
  INFO(earlier.log);
  REQUIRE(earlier.exitCode == 0);
  std::vector<std::string> shares = keeperShards(deployment);
  std::vector<std::size_t> requests = keeperRequests(deployment);

  RunRecord run = runInit(deployment.environment());
  INFO("in cluster: " << inCluster << "\n" << run.log);

  CHECK(run.exitCode == 3);
  CHECK(keeperRequests(deployment) == requests);
  CHECK(keeperShards(deployment) == shares);
  std::string summary = lastLine(run.log);
  CHECK(contains(summary, "bootstrap refused: exit_code=3"));
  CHECK(contains(summary, "SPIKE_BOOTSTRAP_FORCE=true"));
  if (inCluster) {
    CHECK(contains(summary, "kubectl -n spike patch configmap spike-bootstrap-state"));
    CHECK(deployment.kubeApi().callCount("create", "configmaps") == 0);
    CHECK(!deployment.stateConfigMap().has_value());
  }
}
