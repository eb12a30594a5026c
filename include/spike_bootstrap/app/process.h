// Process-wide set-up done once at start: hardening against secret leaks and
// the choice of log format.
#pragma once

#include <string>
#include <vector>

#include "spike_bootstrap/common/log.h"

namespace spike_bootstrap::app {

// Turns off core dumps (RLIMIT_CORE 0) and marks the process non-dumpable
// (PR_SET_DUMPABLE 0, which also blocks ptrace attach by other users), then
// sets up OpenSSL's secure heap for secrets. Returns a warning for each step
// that the system did not allow; the process goes on without it.
std::vector<std::string> hardenProcess();

// Catches SIGTERM and SIGINT from the start of a command until the run
// installs its own handler, so that an early signal still ends the run with
// exit code 1 rather than killing the process.
void catchEarlySignals();

// Returns the signal caught since catchEarlySignals(), or 0.
int earlySignal();

// Chooses readable text when stderr is a terminal and JSON lines otherwise.
logging::Format logFormatForStderr();

}  // namespace spike_bootstrap::app
