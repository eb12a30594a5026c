// ChildProcess: runs the built spike-bootstrap binary (or any program) for
// integration tests, with an exact environment, and collects its stderr,
// stdout and exit status.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace spike_bootstrap::testing {

using Environment = std::map<std::string, std::string>;

class ChildProcess {
 public:
  // Starts program with arguments and exactly the given environment (nothing
  // is inherited). Throws std::runtime_error when the program cannot start.
  ChildProcess(const std::string& program, const std::vector<std::string>& arguments,
               const Environment& environment);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Sends a signal (SIGTERM, SIGKILL, ...) if the process still runs.
  void sendSignal(int signal);

  // Waits up to timeout for the exit. Returns the exit code, 128 + signal
  // number when a signal ended it, or nullopt when it still runs.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  // Waits up to timeout for text to appear on stderr; true when it did.
  bool waitForStderr(const std::string& text, std::chrono::milliseconds timeout);

  // Output read so far (everything, once wait() returned an exit code).
  std::string standardError() const;
  std::string standardOutput() const;

 private:
  void readOutput();

  pid_t pid_ = -1;
  int stdoutFd_ = -1;
  int stderrFd_ = -1;
  std::optional<int> exitCode_;
  mutable std::mutex mutex_;
  std::string stdout_;
  std::string stderr_;
  std::thread reader_;
};

// Runs a program to completion (killing it after timeout) and returns its
// exit code and output.
struct ProcessResult {
  int exitCode = -1;
  std::string standardOutput;
  std::string standardError;
};
ProcessResult runProcess(const std::string& program, const std::vector<std::string>& arguments,
                         const Environment& environment, std::chrono::milliseconds timeout);

}  // namespace spike_bootstrap::testing
