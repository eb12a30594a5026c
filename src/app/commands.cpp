// The init and status commands: process set-up, configuration, logging, summary.
#include "spike_bootstrap/app/commands.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "spike_bootstrap/app/cli.h"
#include "spike_bootstrap/app/process.h"
#include "spike_bootstrap/app/run.h"
#include "spike_bootstrap/app/status_report.h"
#include "spike_bootstrap/app/summary.h"
#include "spike_bootstrap/common/log.h"
#include "spike_bootstrap/config/config.h"
#include "spike_bootstrap/kube/api_client.h"
#include "spike_bootstrap/kube/configmap_client.h"
#include "spike_bootstrap/kube/in_cluster.h"
#include "spike_bootstrap/kube/state_record.h"

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

// Reads the configuration for `status`, which needs only the Kubernetes
// settings. Keeper peers, shares and threshold may be unset (an operator runs
// status from anywhere in the namespace), so they are not checked: the memory
// backend is the one setting under which loadConfig() skips those checks.
Result<config::Config> loadStatusConfig() {
  config::EnvLookup environment = config::processEnvironment();
  config::EnvLookup withoutKeeperChecks =
      [environment](std::string_view name) -> std::optional<std::string> {
    if (name == "SPIKE_NEXUS_BACKEND_STORE") {
      return "memory";
    }
    return environment(name);
  };
  return config::loadConfig(withoutKeeperChecks);
}

}  // namespace

int runInitCommand() {
  catchEarlySignals();
  std::vector<std::string> hardeningWarnings = hardenProcess();
  logging::configure(logFormatForStderr(), logging::Level::kInfo);

  std::vector<std::string> configWarnings;
  Result<config::Config> config = config::loadConfig(config::processEnvironment(), &configWarnings);
  if (!config.ok()) {
    RunSummary summary{.outcome = "failed",
                       .exitCode = kExitUsage,
                       .detail = "invalid configuration: " + config.status().message()};
    appLog().error(formatSummary(summary));
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

int runStatusCommand(bool json) {
  logging::configure(logFormatForStderr(), logging::Level::kWarn);
  Result<config::Config> config = loadStatusConfig();
  if (!config.ok()) {
    std::fprintf(stderr, "spike-bootstrap status: invalid configuration: %s\n",
                 config.status().message().c_str());
    return kExitUsage;
  }
  if (!config->inCluster()) {
    std::fprintf(stderr,
                 "spike-bootstrap status: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                 "are not set; outside Kubernetes no state is recorded\n");
    return kExitRetryable;
  }
  Result<kube::InClusterConfig> cluster = kube::InClusterConfig::load(*config);
  if (!cluster.ok()) {
    std::fprintf(stderr, "spike-bootstrap status: %s\n", cluster.status().message().c_str());
    return kExitRetryable;
  }
  const std::string namespaceName = cluster->namespaceName();

  boost::asio::io_context io;
  kube::ApiClient api(std::move(*cluster));
  kube::ConfigMapClient configMaps(api);
  std::optional<kube::ApiResult<kube::ConfigMap>> read;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        read.emplace(co_await configMaps.get(config->configMapName));
      },
      [](std::exception_ptr error) {
        if (error) {
          std::rethrow_exception(error);
        }
      });
  io.run();

  std::optional<kube::StateRecord> record;
  if (!read || (!read->ok() && !read->error().notFound())) {
    std::fprintf(stderr, "spike-bootstrap status: could not read the state record: %s\n",
                 read ? read->status().toString().c_str() : "no answer");
    return kExitRetryable;
  }
  if (read->ok()) {
    Result<kube::StateRecord> parsed = kube::parseStateRecord((*read)->data);
    if (!parsed.ok()) {
      std::fprintf(stderr, "spike-bootstrap status: %s\n", parsed.status().message().c_str());
      return kExitRefused;
    }
    record = std::move(*parsed);
  }

  auto now = std::chrono::system_clock::now();
  std::string text = json ? formatStatusJson(config->configMapName, namespaceName, record, now)
                          : formatStatusText(config->configMapName, namespaceName, record, now);
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

}  // namespace spike_bootstrap::app
