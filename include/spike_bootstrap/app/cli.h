// Command line entry: parses arguments, runs the chosen command, returns the exit code.
#pragma once

namespace spike_bootstrap::app {

// Exit codes of the process; a Job's podFailurePolicy keys on 2 and 3.
enum ExitCode : int {
  kExitOk = 0,          // bootstrapped, or nothing to do
  kExitRetryable = 1,   // failed; safe to retry
  kExitUsage = 2,       // configuration or usage error; retrying cannot help
  kExitRefused = 3,     // refused; an operator must look
};

int runMain(int argc, char** argv);

}  // namespace spike_bootstrap::app
