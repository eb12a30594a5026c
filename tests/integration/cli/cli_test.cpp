// The command line of the built binary: help, version, usage errors and
// configuration errors, all before any network call.
#include <catch2/catch.hpp>

#include "support/process/child_process.h"

using spike_bootstrap::testing::Environment;
using spike_bootstrap::testing::runProcess;

namespace {

constexpr auto kTimeout = std::chrono::seconds(20);

// A configuration that would reach out to peers if it were valid; every test
// below must stop before that.
Environment unreachableDeployment() {
  return {{"SPIFFE_ENDPOINT_SOCKET", "unix:///nonexistent/agent.sock"},
          {"SPIKE_NEXUS_KEEPER_PEERS", "https://127.0.0.1:9/a,https://127.0.0.1:9/b"},
          {"SPIKE_NEXUS_SHAMIR_SHARES", "2"},
          {"SPIKE_NEXUS_SHAMIR_THRESHOLD", "2"}};
}

}  // namespace

TEST_CASE("cli help exits 0 and lists commands", "[cli]") {
  auto result = runProcess(SPIKE_BOOTSTRAP_BINARY, {"--help"}, {}, kTimeout);
  CHECK(result.exitCode == 0);
  CHECK(result.standardOutput.find("-init") != std::string::npos);
  CHECK(result.standardOutput.find("status") != std::string::npos);
}

TEST_CASE("cli version exits 0", "[cli]") {
  auto result = runProcess(SPIKE_BOOTSTRAP_BINARY, {"--version"}, {}, kTimeout);
  CHECK(result.exitCode == 0);
  CHECK(result.standardOutput.rfind("spike-bootstrap ", 0) == 0);
}

TEST_CASE("cli without command prints usage and exits 2", "[cli]") {
  auto result = runProcess(SPIKE_BOOTSTRAP_BINARY, {}, {}, kTimeout);
  CHECK(result.exitCode == 2);
  CHECK(result.standardError.find("no command given") != std::string::npos);
  CHECK(result.standardError.find("usage:") != std::string::npos);
}

TEST_CASE("cli unknown flag exits 2", "[cli]") {
  auto result = runProcess(SPIKE_BOOTSTRAP_BINARY, {"--frobnicate"}, {}, kTimeout);
  CHECK(result.exitCode == 2);
  CHECK(result.standardError.find("\"--frobnicate\"") != std::string::npos);
}

TEST_CASE("cli extra argument after init exits 2", "[cli]") {
  auto result = runProcess(SPIKE_BOOTSTRAP_BINARY, {"-init", "now"}, {}, kTimeout);
  CHECK(result.exitCode == 2);
}

TEST_CASE("cli config error exits 2 with one line", "[cli]") {
  Environment environment = unreachableDeployment();
  environment["SPIKE_NEXUS_SHAMIR_THRESHOLD"] = "3";

  auto result = runProcess(SPIKE_BOOTSTRAP_BINARY, {"-init"}, environment, kTimeout);

  CHECK(result.exitCode == 2);
  CHECK(result.standardError.find("SPIKE_NEXUS_SHAMIR_THRESHOLD") != std::string::npos);
  // Configuration errors stop before the agent socket is even looked at.
  CHECK(result.standardError.find("waiting for") == std::string::npos);
}

TEST_CASE("cli accepts double dash init", "[cli]") {
  Environment environment = unreachableDeployment();
  environment["SPIKE_NEXUS_SHAMIR_SHARES"] = "0";

  auto result = runProcess(SPIKE_BOOTSTRAP_BINARY, {"--init"}, environment, kTimeout);

  CHECK(result.exitCode == 2);
  CHECK(result.standardError.find("SPIKE_NEXUS_SHAMIR_SHARES") != std::string::npos);
}

TEST_CASE("cli memory backend skips at once", "[cli]") {
  Environment environment = unreachableDeployment();
  environment["SPIKE_NEXUS_BACKEND_STORE"] = "memory";

  auto result = runProcess(SPIKE_BOOTSTRAP_BINARY, {"-init"}, environment, kTimeout);

  CHECK(result.exitCode == 0);
  CHECK(result.standardError.find("skipped") != std::string::npos);
}
