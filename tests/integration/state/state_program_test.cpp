// spike-fake-deployment --k8s, which scripts/demo --k8s runs: the cluster
// environment it writes, a bootstrap against it and the configmap line of
// its report.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "state_support.h"
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

}  // namespace

TEST_CASE("fake deployment program runs a cluster", "[state][program]") {
  TempDir directory;
  const std::string envFile = directory.file("env");
  ChildProcess program(SPIKE_FAKE_DEPLOYMENT_BINARY,
                       {"--k8s", "--env-file", envFile, "--ignore-stdin"}, {});
  REQUIRE(waitUntil([&] { return contains(program.standardOutput(), "ready\n"); }, 20s));

  Environment environment = parseExports(readFile(envFile));
  CHECK(environment["KUBERNETES_SERVICE_HOST"] == "127.0.0.1");
  CHECK(!environment["KUBERNETES_SERVICE_PORT"].empty());
  CHECK(environment["POD_NAMESPACE"] == "spike");
  CHECK(!environment["POD_NAME"].empty());
  CHECK(environment["HOSTNAME"] == environment["POD_NAME"]);
  const std::string serviceAccountDir = environment["SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR"];
  REQUIRE(!serviceAccountDir.empty());
  CHECK(!readFile(serviceAccountDir + "/token").empty());
  CHECK(contains(readFile(serviceAccountDir + "/ca.crt"), "BEGIN CERTIFICATE"));
  CHECK(readFile(serviceAccountDir + "/namespace") == "spike");

  RunRecord run = runInit(environment);
  INFO(run.log);
  CHECK(run.exitCode == 0);

  // Once the record is completed, the program prints the report by itself.
  REQUIRE(waitUntil([&] { return contains(program.standardOutput(), "configmap name="); }, 10s));
  ProcessResult status = runCommand({"status"}, environment);
  CHECK(status.exitCode == 0);
  CHECK(contains(status.standardOutput, "completed: yes"));
  program.sendSignal(SIGTERM);
  std::optional<int> code = program.wait(10s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);

  std::string output = program.standardOutput();
  INFO(output);
  const std::regex configMapLine(
      R"(configmap name=spike-bootstrap-state namespace=spike exists=true )"
      R"(bootstrap-completed=true completed-at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ )"
      R"(completed-by-pod=\S+ phase=completed shares-possibly-delivered=1,2,3 )"
      R"(keepers-acknowledged=1,2,3)");
  std::size_t configMapLines = 0;
  for (const std::string& line : splitLines(output)) {
    configMapLines += std::regex_match(line, configMapLine) ? 1 : 0;
  }
  // Reported once after completion and once on exit.
  CHECK(configMapLines == 2);
}

TEST_CASE("fake deployment program reports no record", "[state][program]") {
  ChildProcess program(SPIKE_FAKE_DEPLOYMENT_BINARY, {"--k8s"}, {});

  // Its standard input is /dev/null, so it reports and stops once it is ready.
  std::optional<int> code = program.wait(20s);

  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(contains(program.standardOutput(), "export KUBERNETES_SERVICE_HOST='127.0.0.1'"));
  CHECK(contains(program.standardOutput(),
                 "configmap name=spike-bootstrap-state namespace=spike exists=false\n"));
}
