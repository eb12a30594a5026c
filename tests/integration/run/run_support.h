// Helpers for the run's integration tests: start the built spike-bootstrap
// binary against a FakeDeployment and read its JSON log lines.
#pragma once

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "support/deployment/fake_deployment.h"
#include "support/process/child_process.h"

namespace spike_bootstrap::testing {

using namespace std::chrono_literals;

// Longest a single run may take before the test kills it. Every scenario
// ends far sooner with the deployment's short intervals.
inline constexpr std::chrono::milliseconds kRunLimit = 60s;

// What one `spike-bootstrap -init` run left behind.
struct RunRecord {
  int exitCode = -1;  // -1 when the run had to be killed
  std::string log;    // standard error: one JSON object a line
  std::chrono::milliseconds elapsed{0};
};

// Starts `spike-bootstrap -init` with environment and waits for its exit.
inline RunRecord runInit(const Environment& environment,
                         std::chrono::milliseconds limit = kRunLimit) {
  auto started = std::chrono::steady_clock::now();
  ChildProcess child(SPIKE_BOOTSTRAP_BINARY, {"-init"}, environment);
  std::optional<int> code = child.wait(limit);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (!code) {
    child.sendSignal(SIGKILL);
    child.wait(10s);
  }
  return RunRecord{code.value_or(-1), child.standardError(), elapsed};
}

// Returns the lines of text, without their line breaks.
inline std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (end > start) {
      lines.push_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return lines;
}

// Returns the last non-empty line: the run's summary.
inline std::string lastLine(const std::string& log) {
  std::vector<std::string> lines = splitLines(log);
  return lines.empty() ? "" : lines.back();
}

// Returns the log lines that contain every one of pieces.
inline std::vector<std::string> linesWith(const std::string& log,
                                          const std::vector<std::string>& pieces) {
  std::vector<std::string> found;
  for (const std::string& line : splitLines(log)) {
    bool all = true;
    for (const std::string& piece : pieces) {
      all = all && line.find(piece) != std::string::npos;
    }
    if (all) {
      found.push_back(line);
    }
  }
  return found;
}

inline bool contains(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}

}  // namespace spike_bootstrap::testing
