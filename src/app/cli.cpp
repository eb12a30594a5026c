// Command line parsing and dispatch.
#include "spike_bootstrap/app/cli.h"

#include <cstdio>
#include <string_view>

namespace spike_bootstrap::app {

// TODO: the bootstrap run is not wired in yet; only --help and --version work.
int runMain(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--version") {
    std::printf("spike-bootstrap %s\n", SPIKE_BOOTSTRAP_VERSION);
    return kExitOk;
  }
  std::fprintf(stderr, "usage: spike-bootstrap -init | --help | --version\n");
  return kExitUsage;
}

}  // namespace spike_bootstrap::app
