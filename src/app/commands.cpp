// The init and status commands: process set-up, configuration, logging, summary.
#include "spike_bootstrap/app/commands.h"

#include <cstdio>
#include <cstdlib>

#include "spike_bootstrap/app/cli.h"
#include "spike_bootstrap/app/process.h"
#include "spike_bootstrap/app/run.h"
#include "spike_bootstrap/app/summary.h"
#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/config/config.h"

namespace spike_bootstrap::app {
namespace {

const logging::Logger& appLog() {
  static const logging::Logger logger("app");
  return logger;
}

// Kubernetes lets a pod move its termination log; bare-metal tests point it at a temp file.
std::string terminationLogPath() {
  const char* path = std::getenv("SPIKE_BOOTSTRAP_TERMINATION_LOG");
  return path != nullptr && *path != '\0' ? path : kDefaultTerminationLogPath;
}

void logEffectiveConfig(const config::Config& config) {
  for (const auto& [name, value] : config::describe(config)) {
    appLog().info("setting", {{"name", name}, {"value", value}});
  }
}

}  // namespace

int runInitCommand() {
  std::vector<std::string> hardeningWarnings = hardenProcess();
  logging::configure(logFormatForStderr(), logging::Level::kInfo);

  std::vector<std::string> configWarnings;
  Result<config::Config> config = config::loadConfig(config::processEnvironment(), &configWarnings);
  if (!config.ok()) {
    appLog().error("invalid configuration", {{"error", config.status().message()}});
    RunSummary summary{.outcome = "failed",
                       .exitCode = kExitUsage,
                       .detail = "invalid configuration: " + config.status().message()};
    writeTerminationLog(summary, terminationLogPath());
    return kExitUsage;
  }
  logging::configure(logFormatForStderr(), config->logLevel);

  appLog().info("spike-bootstrap starting", {{"version", SPIKE_BOOTSTRAP_VERSION}});
  for (const std::string& warning : hardeningWarnings) {
    appLog().warn(warning);
  }
  for (const std::string& warning : configWarnings) {
    appLog().warn(warning);
  }
  logEffectiveConfig(*config);

  RunSummary summary = runBootstrap(*config);
  std::string line = formatSummary(summary);
  if (summary.exitCode == kExitOk) {
    appLog().info(line);
  } else {
    appLog().error(line);
  }
  writeTerminationLog(summary, terminationLogPath());
  return summary.exitCode;
}

int runStatusCommand(bool /*json*/) {
  // TODO: read the state record once the Kubernetes client exists.
  std::fprintf(stderr, "spike-bootstrap: status is not available yet\n");
  return kExitRetryable;
}

}  // namespace spike_bootstrap::app
