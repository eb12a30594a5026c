// The commands behind the command line: each returns the process exit code.
#pragma once

namespace spike_bootstrap::app {

// Runs the bootstrap: hardens the process, reads the configuration (exit 2 on
// an error, before any network call), sets up logging, runs, and reports the
// summary.
int runInitCommand();

// Prints the bootstrap state recorded in the Kubernetes ConfigMap, readable
// or as JSON. Exits 0 when the state could be read.
int runStatusCommand(bool json);

}  // namespace spike_bootstrap::app
