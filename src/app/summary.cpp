// Run summary formatting and the termination log.
#include "spike_bootstrap/app/summary.h"

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

namespace spike_bootstrap::app {

std::string formatSummary(const RunSummary& summary) {
  return fmt::format("bootstrap {}: exit_code={} keepers_acknowledged={}/{} duration={:.3f}s: {}",
                     summary.outcome, summary.exitCode, summary.keepersAcknowledged,
                     summary.keepersTotal,
                     static_cast<double>(summary.duration.count()) / 1000.0, summary.detail);
}

bool writeTerminationLog(const RunSummary& summary, const std::string& path) {
  // Only an existing, writable file: creating /dev/termination-log on a host
  // without Kubernetes would leave a stray file behind.
  if (access(path.c_str(), W_OK) != 0) {
    return false;
  }
  std::ofstream out(path, std::ios::trunc);
  out << formatSummary(summary) << '\n';
  return static_cast<bool>(out);
}

}  // namespace spike_bootstrap::app
