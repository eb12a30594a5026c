// Process hardening and log format detection.
#include "spike_bootstrap/app/process.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstring>

#include "spike_bootstrap/crypto/secret_bytes.h"

namespace spike_bootstrap::app {
namespace {

volatile std::sig_atomic_t caughtSignal = 0;

void recordSignal(int signal) { caughtSignal = signal; }

}  // namespace

void catchEarlySignals() {
  struct sigaction action {};
  action.sa_handler = recordSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

int earlySignal() { return caughtSignal; }

std::vector<std::string> hardenProcess() {
  std::vector<std::string> warnings;

  // A core dump would hold the root key and the shares.
  rlimit noCore{0, 0};
  if (setrlimit(RLIMIT_CORE, &noCore) != 0) {
    warnings.push_back(std::string("could not disable core dumps: ") + std::strerror(errno));
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    warnings.push_back(std::string("could not mark the process non-dumpable: ") +
                       std::strerror(errno));
  }

  switch (crypto::initSecureHeap()) {
    case crypto::SecureHeapState::kLocked:
      break;
    case crypto::SecureHeapState::kUnlocked:
      warnings.push_back(
          "secrets are kept out of core dumps but could not be locked in memory "
          "(mlock was refused; raise RLIMIT_MEMLOCK or grant CAP_IPC_LOCK to lock them)");
      break;
    case crypto::SecureHeapState::kUnavailable:
      warnings.push_back("OpenSSL's secure heap is unavailable; secrets use the ordinary heap "
                         "and are still wiped after use");
      break;
  }
  return warnings;
}

logging::Format logFormatForStderr() {
  return isatty(STDERR_FILENO) == 1 ? logging::Format::kText : logging::Format::kJson;
}

}  // namespace spike_bootstrap::app
