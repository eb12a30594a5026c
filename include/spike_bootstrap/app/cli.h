// Command line entry: parses arguments, runs the chosen command, returns the exit code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::app {

// Exit codes of the process; a Job's podFailurePolicy keys on 2 and 3.
enum ExitCode : int {
  kExitOk = 0,         // bootstrapped, or nothing to do
  kExitRetryable = 1,  // failed; safe to retry
  kExitUsage = 2,      // configuration or usage error; retrying cannot help
  kExitRefused = 3,    // refused; an operator must look
};

enum class Command { kInit, kStatus, kHelp, kVersion };

struct CommandLine {
  Command command = Command::kHelp;
  bool json = false;  // status --json
};

// Parses argv[1..]. Accepts "-init" (as SPIKE does) and "--init", "status
// [--json]", "--help"/"-h"/"help" and "--version". Returns InvalidArgument for
// no command or anything else, naming the argument.
Result<CommandLine> parseCommandLine(const std::vector<std::string_view>& arguments);

// Returns the usage text printed by --help and on usage errors.
std::string usageText();

int runMain(int argc, char** argv);

}  // namespace spike_bootstrap::app
