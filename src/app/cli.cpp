// Command line parsing and dispatch to the init and status commands.
#include "spike_bootstrap/app/cli.h"

#include <cstdio>

#include "spike_bootstrap/app/commands.h"

namespace spike_bootstrap::app {

std::string usageText() {
  return R"(usage: spike-bootstrap <command>

Commands:
  -init, --init      generate SPIKE's root key, give each SPIKE Keeper its share,
                     check that SPIKE Nexus rebuilt the key, record completion
  status [--json]    print the bootstrap state recorded in Kubernetes
  --help             print this text
  --version          print the version

Settings come from environment variables (SPIKE_NEXUS_KEEPER_PEERS,
SPIKE_NEXUS_SHAMIR_SHARES, SPIKE_NEXUS_SHAMIR_THRESHOLD, SPIKE_NEXUS_API_URL,
SPIFFE_ENDPOINT_SOCKET, ...); README.md lists them all with their defaults.

Exit codes: 0 done or nothing to do, 1 failed (safe to retry),
2 configuration or usage error, 3 refused (an operator must look).
)";
}

Result<CommandLine> parseCommandLine(const std::vector<std::string_view>& arguments) {
  if (arguments.empty()) {
    return Status(StatusCode::kInvalidArgument, "no command given");
  }
  CommandLine line;
  std::string_view first = arguments.front();
  if (first == "-init" || first == "--init") {
    line.command = Command::kInit;
  } else if (first == "status") {
    line.command = Command::kStatus;
  } else if (first == "--help" || first == "-help" || first == "-h" || first == "help") {
    line.command = Command::kHelp;
  } else if (first == "--version" || first == "-version") {
    line.command = Command::kVersion;
  } else {
    return Status(StatusCode::kInvalidArgument,
                  "unknown command or flag \"" + std::string(first) + "\"");
  }

  for (std::size_t i = 1; i < arguments.size(); ++i) {
    std::string_view argument = arguments[i];
    if (line.command == Command::kStatus && (argument == "--json" || argument == "-json")) {
      line.json = true;
      continue;
    }
    return Status(StatusCode::kInvalidArgument,
                  "unexpected argument \"" + std::string(argument) + "\" after \"" +
                      std::string(first) + "\"");
  }
  return line;
}

int runMain(int argc, char** argv) {
  std::vector<std::string_view> arguments(argv + 1, argv + argc);
  Result<CommandLine> line = parseCommandLine(arguments);
  if (!line.ok()) {
    std::fprintf(stderr, "spike-bootstrap: %s\n\n%s", line.status().message().c_str(),
                 usageText().c_str());
    return kExitUsage;
  }

  switch (line->command) {
    case Command::kHelp:
      std::fputs(usageText().c_str(), stdout);
      return kExitOk;
    case Command::kVersion:
      std::printf("spike-bootstrap %s\n", SPIKE_BOOTSTRAP_VERSION);
      return kExitOk;
    case Command::kInit:
      return runInitCommand();
    case Command::kStatus:
      return runStatusCommand(line->json);
  }
  return kExitUsage;
}

}  // namespace spike_bootstrap::app
