// The built spike-bootstrap from start to exit: obtaining its SVID from a
// late or not yet ready agent, a wrong own ID, the whole-run timeout and
// SIGTERM.
#include <catch2/catch.hpp>

#include <csignal>
#include <string>

#include "run_support.h"

using namespace spike_bootstrap::testing;

TEST_CASE("run stops at the whole-run timeout", "[run][lifecycle]") {
  FakeDeployment deployment;
  for (int id = 1; id <= 3; ++id) {
    deployment.keeper(id).failAlways(KeeperFault::kHang);
  }
  deployment.start();
  Environment environment = deployment.environment();
  environment["SPIKE_BOOTSTRAP_TIMEOUT"] = "2s";

  RunRecord run = runInit(environment);
  INFO(run.log);

  CHECK(run.exitCode == 1);
  CHECK(run.elapsed >= 2s);
  // The deadline plus the shutdown grace period, with room for a slow machine.
  CHECK(run.elapsed < 6s);
  std::string summary = lastLine(run.log);
  CHECK(contains(summary, "bootstrap failed: exit_code=1"));
  CHECK(contains(summary, "SPIKE_BOOTSTRAP_TIMEOUT"));
  CHECK(deployment.nexus().verifiedCount() == 0);
}

TEST_CASE("run exits soon after SIGTERM", "[run][lifecycle]") {
  FakeDeployment deployment;
  for (int id = 1; id <= 3; ++id) {
    deployment.keeper(id).failAlways(KeeperFault::kHang);
  }
  deployment.start();

  ChildProcess child(SPIKE_BOOTSTRAP_BINARY, {"-init"}, deployment.environment());
  // Mid-run: every keeper has an open request.
  for (int id = 1; id <= 3; ++id) {
    REQUIRE(deployment.keeper(id).waitForRequests(1, 20s));
  }

  auto signalled = std::chrono::steady_clock::now();
  child.sendSignal(SIGTERM);
  std::optional<int> code = child.wait(5s);
  auto stopping = std::chrono::steady_clock::now() - signalled;
  INFO(child.standardError());

  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK(stopping < 2s);
  std::string summary = lastLine(child.standardError());
  CHECK(contains(summary, "bootstrap failed: exit_code=1"));
  CHECK(contains(summary, "SIGTERM"));
  CHECK(contains(deployment.terminationLog(), "SIGTERM"));
}

TEST_CASE("run refuses an own SVID that is not bootstrap", "[run][lifecycle]") {
  FakeDeploymentOptions options;
  options.bootstrapSpiffeId = "spiffe://spike.test/spike/keeper";
  FakeDeployment deployment(options);
  deployment.start();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 1);
  // Nothing was sent anywhere: not a connection to a keeper or Nexus.
  for (int id = 1; id <= 3; ++id) {
    CHECK(deployment.keeper(id).connectionCount() == 0);
  }
  CHECK(deployment.nexus().requestCount() == 0);
  std::string summary = lastLine(run.log);
  CHECK(contains(summary, "bootstrap failed: exit_code=1"));
  CHECK(contains(summary, "spiffe://spike.test/spike/keeper"));
}

TEST_CASE("run waits for a late Workload API socket", "[run][lifecycle]") {
  FakeDeployment deployment;
  deployment.startKeepers();
  deployment.startNexus();
  deployment.workloadApi().startAfter(1500ms);

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 0);
  // The socket appeared 1.5 s after startAfter(), a little before the binary
  // started, so allow some slack.
  CHECK(run.elapsed >= 1s);
  CHECK(deployment.nexus().verifiedCount() == 1);
}

TEST_CASE("run retries an agent denying the SVID", "[run][lifecycle]") {
  FakeDeployment deployment;
  // SPIRE returns PermissionDenied until the workload's entry is registered.
  deployment.workloadApi().denyNextCalls(3);
  deployment.start();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 0);
  CHECK(deployment.workloadApi().stats().calls >= 4);
  CHECK(deployment.nexus().verifiedCount() == 1);
}
