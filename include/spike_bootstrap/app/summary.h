// The one-line summary that ends every run: logged, and written to the
// container's termination log so `kubectl describe pod` shows it after the
// logs are gone.
#pragma once

#include <chrono>
#include <string>

namespace spike_bootstrap::app {

// Default path of a container's termination message in Kubernetes.
inline constexpr const char* kDefaultTerminationLogPath = "/dev/termination-log";

struct RunSummary {
  // "completed", "skipped", "refused" or "failed".
  std::string outcome;
  int exitCode = 0;
  int keepersAcknowledged = 0;
  int keepersTotal = 0;
  std::chrono::milliseconds duration{0};
  // One sentence on what happened, for an operator to act on.
  std::string detail;
};

// Returns "outcome=... exit_code=... keepers_acknowledged=a/n duration=... : detail".
std::string formatSummary(const RunSummary& summary);

// Writes the summary line to path when the file exists and is writable, and
// returns whether it did. A missing file (bare metal) is not an error.
bool writeTerminationLog(const RunSummary& summary, const std::string& path);

}  // namespace spike_bootstrap::app
