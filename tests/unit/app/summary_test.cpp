#include <fstream>
#include <iterator>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "spike_bootstrap/app/summary.h"

using spike_bootstrap::app::formatSummary;
using spike_bootstrap::app::RunSummary;
using spike_bootstrap::app::writeTerminationLog;

namespace {

RunSummary completedRun() {
  return RunSummary{.outcome = "completed",
                    .exitCode = 0,
                    .keepersAcknowledged = 2,
                    .keepersTotal = 3,
                    .duration = std::chrono::milliseconds(1234),
                    .detail = "SPIKE Nexus verified the root key"};
}

}  // namespace

TEST_CASE("summary line names outcome counts and duration", "[app][summary]") {
  CHECK(formatSummary(completedRun()) ==
        "bootstrap completed: exit_code=0 keepers_acknowledged=2/3 duration=1.234s: "
        "SPIKE Nexus verified the root key");
}

TEST_CASE("termination log written only when file exists", "[app][summary]") {
  char pattern[] = "/tmp/spike-bootstrap-termination-XXXXXX";
  int fd = mkstemp(pattern);
  REQUIRE(fd >= 0);
  close(fd);

  CHECK(writeTerminationLog(completedRun(), pattern));
  std::ifstream in(pattern);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == formatSummary(completedRun()) + "\n");
  unlink(pattern);

  CHECK_FALSE(writeTerminationLog(completedRun(), pattern));
  CHECK(access(pattern, F_OK) != 0);
}
