// spike-fake-deployment: starts a fake SPIKE deployment (Workload API,
// keepers, Nexus and, with --k8s, a Kubernetes API server) on loopback for
// demos and manual runs of spike-bootstrap. It prints the environment that
// points spike-bootstrap at it. Its report shows what the keepers store,
// whether Nexus verified and what the state ConfigMap records. See --help.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spike_bootstrap/crypto/secret_bytes.h"
#include "support/deployment/fake_deployment.h"

namespace {

using spike_bootstrap::testing::Environment;
using spike_bootstrap::testing::FakeDeployment;
using spike_bootstrap::testing::FakeDeploymentOptions;

constexpr const char* kUsage = R"(Usage: spike-fake-deployment [options]

Starts a fake SPIKE deployment on 127.0.0.1: a SPIFFE Workload API on a Unix
socket in a new directory under /tmp (it issues the bootstrap SVID), fake SPIKE
Keepers and a fake SPIKE Nexus, all with SPIFFE mTLS from a test CA made at
start-up. Then it prints the environment for spike-bootstrap.

With --k8s it also runs a fake Kubernetes API server with its own cluster CA
and a ServiceAccount directory (token, ca.crt, namespace "spike"), and the
environment carries KUBERNETES_SERVICE_HOST/PORT,
SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR, POD_NAME, POD_NAMESPACE and HOSTNAME, so
spike-bootstrap keeps its state record in the ConfigMap spike-bootstrap-state.

Options:
  --keepers N          number of keepers, N >= 1 (default 3)
  --threshold T        shares needed to rebuild the root key, 1 <= T <= N
                       (default 2)
  --trust-domain NAME  trust domain of every SPIFFE ID (default spike.test)
  --k8s                also run a fake Kubernetes API server (see above)
  --env-file PATH      write the environment to PATH (replaced atomically)
                       instead of standard output
  --ignore-stdin       keep running at the end of standard input; use this
                       when standard input is /dev/null (background jobs)
  --help               print this text

Standard output, one item a line:
  export NAME='value'  the environment for spike-bootstrap (unless --env-file)
  ready                every fake listens and the environment is complete
  keeper id=I url=U spiffe_id=S requests=R share_id=I share_sha256=HEX
                       (or share=none): what keeper I stores; the SHA-256 of
                       the share, never its value
  nexus url=U requests=R verified=true|false
  configmap name=N namespace=S exists=false, or exists=true
      bootstrap-completed=V completed-at=T completed-by-pod=P phase=F
      shares-possibly-delivered=IDS keepers-acknowledged=IDS
                       (with --k8s, on one line) the state record; a key
                       that is not set shows as "-"

These report lines are printed once Nexus first verified the root key (with
--k8s, once the record is completed as well), on the command "status" read
from standard input, and before exiting.

It stops on SIGTERM, SIGINT or the end of standard input, and exits 0.
Exit code 2 means invalid options, 1 that the deployment could not start.
)";

struct ProgramOptions {
  FakeDeploymentOptions deployment;
  std::string envFile;
  bool ignoreStdin = false;
};

std::optional<int> parsePositive(std::string_view text) {
  try {
    std::size_t used = 0;
    int value = std::stoi(std::string(text), &used);
    if (used == text.size() && value >= 1) {
      return value;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Parses argv into options. Returns nullopt after printing the reason (or
// the help text, with exitCode 0) to the right stream.
std::optional<ProgramOptions> parseArguments(int argc, char** argv, int& exitCode) {
  ProgramOptions options;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      exitCode = 0;
      return std::nullopt;
    }
    if (arg == "--ignore-stdin") {
      options.ignoreStdin = true;
      continue;
    }
    if (arg == "--k8s") {
      options.deployment.kubernetes = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "spike-fake-deployment: unknown option or missing value: " << arg
                << " (see --help)\n";
      exitCode = 2;
      return std::nullopt;
    }
    std::string_view value = args[++i];
    std::optional<int> number = parsePositive(value);
    if (arg == "--keepers" && number) {
      options.deployment.keepers = *number;
    } else if (arg == "--threshold" && number) {
      options.deployment.threshold = *number;
    } else if (arg == "--trust-domain" && !value.empty()) {
      options.deployment.trustDomain = std::string(value);
    } else if (arg == "--env-file" && !value.empty()) {
      options.envFile = std::string(value);
    } else {
      std::cerr << "spike-fake-deployment: invalid option " << arg << " " << value
                << " (see --help)\n";
      exitCode = 2;
      return std::nullopt;
    }
  }
  if (options.deployment.threshold > options.deployment.keepers) {
    std::cerr << "spike-fake-deployment: --threshold " << options.deployment.threshold
              << " is larger than --keepers " << options.deployment.keepers << "\n";
    exitCode = 2;
    return std::nullopt;
  }
  return options;
}

std::string exportLines(const Environment& environment) {
  std::string text;
  for (const auto& [name, value] : environment) {
    // Values are URLs, paths, numbers and durations: none has a quote.
    text += "export " + name + "='" + value + "'\n";
  }
  return text;
}

// Writes the file next to its final path and renames it, so a reader that
// waits for the file never reads half of it.
bool writeEnvFile(const std::string& path, const std::string& text) {
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) {
      return false;
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  return !error;
}

// Returns the value of key in data as one word: "-" when it is unset or
// empty, and any blank or control character replaced with "_".
std::string recordValue(const spike_bootstrap::kube::ConfigMapData& data, std::string_view key) {
  auto found = data.find(key);
  if (found == data.end() || found->second.empty()) {
    return "-";
  }
  std::string value = found->second;
  for (char& c : value) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      c = '_';
    }
  }
  return value;
}

// Prints the state ConfigMap's record. The record contains no secrets, only
// IDs, times and pod names, and last-error is left out because it is free text.
void printStateRecord(const FakeDeployment& deployment) {
  const auto& api = deployment.kubeApi();
  std::cout << "configmap name=" << spike_bootstrap::testing::kStateConfigMapName
            << " namespace=" << api.namespaceName();
  std::optional<spike_bootstrap::kube::ConfigMap> configMap = deployment.stateConfigMap();
  if (!configMap) {
    std::cout << " exists=false\n";
    return;
  }
  std::cout << " exists=true";
  for (std::string_view key : {"bootstrap-completed", "completed-at", "completed-by-pod", "phase",
                               "shares-possibly-delivered", "keepers-acknowledged"}) {
    std::cout << " " << key << "=" << recordValue(configMap->data, key);
  }
  std::cout << "\n";
}

void printReport(FakeDeployment& deployment) {
  for (int id = 1; id <= deployment.keeperCount(); ++id) {
    auto& keeper = deployment.keeper(id);
    std::cout << "keeper id=" << id << " url=" << keeper.url() << " spiffe_id=" << keeper.spiffeId()
              << " requests=" << keeper.requestCount();
    std::string fingerprint = keeper.shardFingerprint();
    if (fingerprint.empty()) {
      std::cout << " share=none\n";
    } else {
      std::cout << " share_id=" << id << " share_sha256=" << fingerprint << "\n";
    }
  }
  auto& nexus = deployment.nexus();
  std::cout << "nexus url=" << nexus.url() << " requests=" << nexus.requestCount()
            << " verified=" << (nexus.verifiedCount() > 0 ? "true" : "false") << "\n";
  if (deployment.hasKubeApi()) {
    printStateRecord(deployment);
  }
  std::cout.flush();
}

// Reads what standard input has and runs its commands. Returns false at the
// end of input.
bool readCommands(std::string& pending, FakeDeployment& deployment) {
  char buffer[256];
  ssize_t size = read(STDIN_FILENO, buffer, sizeof(buffer));
  if (size < 0 && errno == EINTR) {
    return true;
  }
  if (size <= 0) {
    return false;
  }
  pending.append(buffer, static_cast<std::size_t>(size));
  for (std::size_t end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
    std::string line = pending.substr(0, end);
    pending.erase(0, end + 1);
    if (line == "status") {
      printReport(deployment);
    } else if (!line.empty()) {
      std::cerr << "spike-fake-deployment: unknown command \"" << line
                << "\"; the only command is \"status\"\n";
    }
  }
  return true;
}

// Returns true once Nexus verified the root key and, with a Kubernetes API
// server, the state record marks the bootstrap completed. The run writes that
// mark right after the verification.
bool bootstrapFinished(FakeDeployment& deployment) {
  if (deployment.nexus().verifiedCount() == 0) {
    return false;
  }
  if (!deployment.hasKubeApi()) {
    return true;
  }
  std::optional<spike_bootstrap::kube::ConfigMap> configMap = deployment.stateConfigMap();
  return configMap && recordValue(configMap->data, "bootstrap-completed") == "true";
}

// Serves until SIGTERM, SIGINT or the end of standard input.
void serve(FakeDeployment& deployment, int signals, bool readStdin) {
  bool reportedVerification = false;
  std::string pending;
  while (true) {
    pollfd fds[2] = {{signals, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int ready = poll(fds, readStdin ? 2 : 1, 200);
    if (ready < 0 && errno != EINTR) {
      std::cerr << "spike-fake-deployment: poll failed: " << std::strerror(errno) << "\n";
      return;
    }
    if (fds[0].revents & POLLIN) {
      return;
    }
    if (readStdin && (fds[1].revents & (POLLIN | POLLHUP))) {
      if (!readCommands(pending, deployment)) {
        return;
      }
    }
    if (!reportedVerification && bootstrapFinished(deployment)) {
      reportedVerification = true;
      printReport(deployment);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int exitCode = 0;
  std::optional<ProgramOptions> options = parseArguments(argc, argv, exitCode);
  if (!options) {
    return exitCode;
  }

  // Block the stop signals before any fake starts a thread, so every thread
  // inherits the mask and the signals arrive only through the signalfd.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  int signals = signalfd(-1, &stopSignals, SFD_CLOEXEC);
  if (signals < 0) {
    std::cerr << "spike-fake-deployment: signalfd failed: " << std::strerror(errno) << "\n";
    return 1;
  }

  spike_bootstrap::crypto::initSecureHeap();
  try {
    FakeDeployment deployment(options->deployment);
    deployment.start();

    std::string lines = exportLines(deployment.environment());
    if (options->envFile.empty()) {
      std::cout << lines;
    } else if (!writeEnvFile(options->envFile, lines)) {
      std::cerr << "spike-fake-deployment: cannot write --env-file " << options->envFile << "\n";
      return 1;
    }
    std::cout << "ready" << std::endl;

    serve(deployment, signals, !options->ignoreStdin);
    printReport(deployment);
  } catch (const std::exception& error) {
    std::cerr << "spike-fake-deployment: " << error.what() << "\n";
    return 1;
  }
  close(signals);
  return 0;
}
