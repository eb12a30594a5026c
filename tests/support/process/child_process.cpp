// ChildProcess over posix_spawn with pipes for stdout and stderr.
#include "support/process/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace spike_bootstrap::testing {
namespace {

std::vector<char*> toArgv(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) {
    pointers.push_back(text.data());
  }
  pointers.push_back(nullptr);
  return pointers;
}

int exitCodeFromWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& arguments,
                           const Environment& environment) {
  int outPipe[2];
  int errPipe[2];
  if (pipe2(outPipe, O_CLOEXEC) != 0 || pipe2(errPipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, outPipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, errPipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

  std::vector<std::string> argvStrings{program};
  argvStrings.insert(argvStrings.end(), arguments.begin(), arguments.end());
  std::vector<std::string> envStrings;
  for (const auto& [name, value] : environment) {
    envStrings.push_back(name + "=" + value);
  }
  std::vector<char*> argv = toArgv(argvStrings);
  std::vector<char*> envp = toArgv(envStrings);

  int error = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(outPipe[1]);
  close(errPipe[1]);
  if (error != 0) {
    close(outPipe[0]);
    close(errPipe[0]);
    throw std::runtime_error("cannot start " + program + ": " + std::strerror(error));
  }
  stdoutFd_ = outPipe[0];
  stderrFd_ = errPipe[0];
  reader_ = std::thread([this] { readOutput(); });
}

ChildProcess::~ChildProcess() {
  if (!exitCode_) {
    sendSignal(SIGKILL);
    wait(std::chrono::seconds(10));
  }
  if (reader_.joinable()) {
    reader_.join();
  }
  close(stdoutFd_);
  close(stderrFd_);
}

void ChildProcess::sendSignal(int signal) {
  if (!exitCode_ && pid_ > 0) {
    kill(pid_, signal);
  }
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exitCode_) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exitCode_ = exitCodeFromWaitStatus(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The pipes close when the process and anything it started are gone.
  if (reader_.joinable()) {
    reader_.join();
  }
  return exitCode_;
}

bool ChildProcess::waitForStderr(const std::string& text, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (standardError().find(text) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return standardError().find(text) != std::string::npos;
}

std::string ChildProcess::standardError() const {
  std::lock_guard lock(mutex_);
  return stderr_;
}

std::string ChildProcess::standardOutput() const {
  std::lock_guard lock(mutex_);
  return stdout_;
}

void ChildProcess::readOutput() {
  pollfd fds[2] = {{stdoutFd_, POLLIN, 0}, {stderrFd_, POLLIN, 0}};
  int open = 2;
  while (open > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    for (pollfd& entry : fds) {
      if (entry.fd < 0 || (entry.revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buffer[4096];
      ssize_t count = read(entry.fd, buffer, sizeof(buffer));
      if (count <= 0) {
        entry.fd = -1;
        --open;
        continue;
      }
      std::lock_guard lock(mutex_);
      (entry.fd == stdoutFd_ ? stdout_ : stderr_).append(buffer, static_cast<size_t>(count));
    }
  }
}

ProcessResult runProcess(const std::string& program, const std::vector<std::string>& arguments,
                         const Environment& environment, std::chrono::milliseconds timeout) {
  ChildProcess child(program, arguments, environment);
  std::optional<int> code = child.wait(timeout);
  if (!code) {
    child.sendSignal(SIGKILL);
    code = child.wait(std::chrono::seconds(10));
  }
  return ProcessResult{code.value_or(-1), child.standardOutput(), child.standardError()};
}

}  // namespace spike_bootstrap::testing
