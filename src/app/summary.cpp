// Run summary formatting and the termination log.
#include "spike_bootstrap/app/summary.h"

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

namespace spike_bootstrap::app {

std::string formatSummary(const RunSummary& summary) {
  // The detail can quote peers; keep the line one line without escapes.
  std::string detail = summary.detail;
  for (char& c : detail) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  return fmt::format("bootstrap {}: exit_code={} keepers_acknowledged={}/{} duration={:.3f}s: {}",
                     summary.outcome, summary.exitCode, summary.keepersAcknowledged,
                     summary.keepersTotal,
                     static_cast<double>(summary.duration.count()) / 1000.0, detail);
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
