// The built spike-bootstrap against a fake Nexus that is late, fails or
// has another root key.
#include <catch2/catch.hpp>

#include <string>

#include "run_support.h"

using namespace spike_bootstrap::testing;

TEST_CASE("run waits for nexus starting late", "[run][nexus]") {
  FakeDeployment deployment;
  deployment.startWorkloadApi();
  deployment.startKeepers();
  // Connections to Nexus are refused for the first 3 seconds.
  deployment.nexus().startAfter(3s);

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 0);
  CHECK(deployment.nexus().verifiedCount() == 1);
  // Nexus started 3 s after startAfter(), a little before the binary did.
  CHECK(run.elapsed >= 2500ms);
  CHECK(contains(lastLine(run.log), "bootstrap completed: exit_code=0"));
}

TEST_CASE("run retries nexus answering 503", "[run][nexus]") {
  FakeDeployment deployment;
  deployment.nexus().unavailableFor(1500ms);
  deployment.start();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 0);
  CHECK(deployment.nexus().verifiedCount() == 1);
  CHECK(deployment.nexus().requestCount() >= 2);
}

TEST_CASE("run refuses a wrong nexus hash", "[run][nexus]") {
  FakeDeployment deployment;
  deployment.nexus().setBehavior(NexusBehavior::kWrongHash);
  deployment.start();

  RunRecord run = runInit(deployment.environment());
  INFO(run.log);

  CHECK(run.exitCode == 3);
  CHECK(deployment.nexus().verifiedCount() == 0);
  CHECK(contains(lastLine(run.log), "bootstrap refused: exit_code=3"));
  CHECK(contains(deployment.terminationLog(), "bootstrap refused: exit_code=3"));
}

TEST_CASE("run fails when nexus keeps answering 500", "[run][nexus]") {
  FakeDeployment deployment;
  deployment.nexus().setBehavior(NexusBehavior::kServerError);
  deployment.start();
  Environment environment = deployment.environment();
  environment["SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT"] = "2s";

  RunRecord run = runInit(environment);
  INFO(run.log);

  // A Nexus that cannot open the probe may still be rebuilding its key, so
  // 500 is retried until the verification timeout and the run may be retried.
  CHECK(run.exitCode == 1);
  CHECK(deployment.nexus().verifiedCount() == 0);
  CHECK(deployment.nexus().requestCount() >= 2);
  CHECK(contains(lastLine(run.log), "bootstrap failed: exit_code=1"));
}
