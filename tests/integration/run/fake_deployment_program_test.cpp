// spike-fake-deployment, the program demos use: its options, the environment
// it writes, a bootstrap against it and the report it prints.
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "run_support.h"
#include "support/workload_api/temp_dir.h"

using namespace spike_bootstrap::testing;

namespace {

// Parses `export NAME='value'` lines into an environment.
Environment parseExports(const std::string& text) {
  Environment environment;
  const std::regex line(R"(^export ([A-Z_]+)='([^']*)'$)");
  for (const std::string& entry : splitLines(text)) {
    std::smatch match;
    if (std::regex_match(entry, match, line)) {
      environment[match[1].str()] = match[2].str();
    }
  }
  return environment;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Waits until the child's standard output contains text; false on timeout.
bool waitForOutput(const ChildProcess& child, const std::string& text,
                   std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!contains(child.standardOutput(), text)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

TEST_CASE("fake deployment program serves a bootstrap", "[run][program]") {
  TempDir directory;
  const std::string envFile = directory.file("env");
  ChildProcess deployment(
      SPIKE_FAKE_DEPLOYMENT_BINARY,
      {"--keepers", "3", "--threshold", "2", "--env-file", envFile, "--ignore-stdin"}, {});
  REQUIRE(waitForOutput(deployment, "ready\n", 20s));

  Environment environment = parseExports(readFile(envFile));
  CHECK(environment.count("SPIKE_NEXUS_KEEPER_PEERS") == 1);
  CHECK(environment.count("SPIFFE_ENDPOINT_SOCKET") == 1);
  CHECK(environment["SPIKE_NEXUS_SHAMIR_THRESHOLD"] == "2");

  RunRecord run = runInit(environment);
  INFO(run.log);
  CHECK(run.exitCode == 0);

  // Once Nexus verified, the program prints the report by itself.
  REQUIRE(waitForOutput(deployment, "verified=true", 10s));
  deployment.sendSignal(SIGTERM);
  std::optional<int> code = deployment.wait(10s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);

  std::string output = deployment.standardOutput();
  INFO(output);
  const std::regex keeperLine(
      R"(keeper id=\d url=https://127\.0\.0\.1:\d+ spiffe_id=spiffe://spike\.test/spike/keeper/\d )"
      R"(requests=\d+ share_id=\d share_sha256=[0-9a-f]{64})");
  std::size_t keeperLines = 0;
  for (const std::string& line : splitLines(output)) {
    keeperLines += std::regex_match(line, keeperLine) ? 1 : 0;
  }
  // Three keepers, reported once after verification and once on exit.
  CHECK(keeperLines == 6);
}

TEST_CASE("fake deployment program stops at end of input", "[run][program]") {
  ChildProcess deployment(SPIKE_FAKE_DEPLOYMENT_BINARY, {}, {});

  // Its standard input is /dev/null, so it stops once it is ready.
  std::optional<int> code = deployment.wait(20s);

  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(contains(deployment.standardOutput(), "export SPIKE_NEXUS_API_URL='https://127.0.0.1:"));
  CHECK(contains(deployment.standardOutput(), "nexus url="));
}

TEST_CASE("fake deployment program checks options", "[run][program]") {
  auto help = runProcess(SPIKE_FAKE_DEPLOYMENT_BINARY, {"--help"}, {}, 10s);
  CHECK(help.exitCode == 0);
  CHECK(contains(help.standardOutput, "--env-file"));

  auto unknown = runProcess(SPIKE_FAKE_DEPLOYMENT_BINARY, {"--frobnicate", "1"}, {}, 10s);
  CHECK(unknown.exitCode == 2);
  CHECK(contains(unknown.standardError, "--frobnicate"));

  auto threshold =
      runProcess(SPIKE_FAKE_DEPLOYMENT_BINARY, {"--keepers", "2", "--threshold", "3"}, {}, 10s);
  CHECK(threshold.exitCode == 2);
  CHECK(contains(threshold.standardError, "--threshold"));
}
