// The bootstrap run from a validated configuration to a summary.
#pragma once

#include "spike_bootstrap/app/summary.h"
#include "spike_bootstrap/config/config.h"

namespace spike_bootstrap::app {

// Runs the whole bootstrap on its own io_context and returns how it ended.
// SIGTERM and SIGINT cancel every operation; the summary then names the signal and
// carries exit code 1. Blocks until the run is over.
RunSummary runBootstrap(const config::Config& config);

}  // namespace spike_bootstrap::app
