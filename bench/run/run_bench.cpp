// spike-bootstrap-run-bench: the wall time and peak memory of whole
// `spike-bootstrap -init` runs against a fake deployment with slow peers.
//
// Each run gets a fresh FakeDeployment with 5 keepers (threshold 3) and a
// Nexus, every one of them replying 300 ms after a request arrives. The
// binary runs with its standard error in a file.
//
// Time is counted from the moment the binary has its SVID, so the wait for
// the Workload API (socket, gRPC stream) is left out. The binary's log line
// "obtained our SVID" carries that moment as a UTC timestamp with
// microseconds. Two figures are derived from it:
//   svid_to_summary  until the timestamp of the summary line (the binary's clock)
//   svid_to_exit     until wait4() returned (the system clock, so process
//                    teardown is included)
// Both clocks are CLOCK_REALTIME of the same machine.
//
// Peak memory is the child's ru_maxrss from wait4() (KiB on Linux), the value
// getrusage(RUSAGE_CHILDREN) reports after reaping that one child. Runs are
// spawned by a launcher process forked at start-up, because exec counts the
// parent's RSS peak in a posix_spawn() child's ru_maxrss (see launch()).
//
// Targets: svid_to_exit under 1000 ms and peak RSS under 16 MiB. The three
// 300 ms replies on the critical path (the Nexus preflight, the keepers in
// parallel, the Nexus verification) already take 900 ms of that.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "spike_bootstrap/crypto/secret_bytes.h"
#include "support/deployment/fake_deployment.h"

namespace {

using namespace std::chrono_literals;
using spike_bootstrap::testing::Environment;
using spike_bootstrap::testing::FakeDeployment;
using spike_bootstrap::testing::FakeDeploymentOptions;
using Clock = std::chrono::system_clock;

constexpr int kKeepers = 5;
constexpr int kThreshold = 3;
constexpr auto kPeerDelay = 300ms;
constexpr auto kTimeTarget = 1000ms;
constexpr long kMemoryTargetKib = 16 * 1024;

struct RunMeasurement {
  int exitCode = -1;
  std::optional<std::chrono::microseconds> svidToSummary;
  std::optional<std::chrono::microseconds> svidToExit;
  std::chrono::microseconds processTotal{0};
  long maxRssKib = 0;
  long launcherMaxRssKib = 0;
  std::string log;
};

// Parses the "time" member of a JSON log line ("2026-01-02T03:04:05.123456Z").
std::optional<Clock::time_point> logTime(const std::string& line) {
  const std::string key = "\"time\":\"";
  std::size_t start = line.find(key);
  if (start == std::string::npos) {
    return std::nullopt;
  }
  std::tm fields{};
  long micros = 0;
  if (std::sscanf(line.c_str() + start + key.size(), "%d-%d-%dT%d:%d:%d.%ldZ", &fields.tm_year,
                  &fields.tm_mon, &fields.tm_mday, &fields.tm_hour, &fields.tm_min, &fields.tm_sec,
                  &micros) != 7) {
    return std::nullopt;
  }
  fields.tm_year -= 1900;
  fields.tm_mon -= 1;
  return Clock::from_time_t(timegm(&fields)) + std::chrono::microseconds(micros);
}

// Returns the time of the first line containing text, or of the last line
// when text is empty.
std::optional<Clock::time_point> timeOfLine(const std::string& log, const std::string& text) {
  std::istringstream lines(log);
  std::string line;
  std::optional<Clock::time_point> found;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      continue;
    }
    if (text.empty()) {
      found = logTime(line);
    } else if (line.find(text) != std::string::npos) {
      return logTime(line);
    }
  }
  return found;
}

// The launcher's result for one run.
struct LaunchResult {
  int waitStatus = -1;
  int spawnError = 0;
  long maxRssKib = 0;
  // The launcher's own RSS peak, which exec folds in too: a floor for maxRssKib.
  long launcherMaxRssKib = 0;
  std::int64_t exitedMicros = 0;  // CLOCK_REALTIME when wait4() returned
  std::int64_t totalMicros = 0;   // from posix_spawn() to wait4() returning
};

bool readFully(int fd, void* data, std::size_t size) {
  auto* bytes = static_cast<char*>(data);
  while (size > 0) {
    ssize_t count = read(fd, bytes, size);
    if (count <= 0) {
      return false;
    }
    bytes += count;
    size -= static_cast<std::size_t>(count);
  }
  return true;
}

bool writeFully(int fd, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t count = write(fd, bytes, size);
    if (count <= 0) {
      return false;
    }
    bytes += count;
    size -= static_cast<std::size_t>(count);
  }
  return true;
}

// Spawns one run and reaps it. A posix_spawn() child starts in its parent's
// memory, and exec folds the RSS peak of that memory into the child's
// ru_maxrss (Linux fs/exec.c, exec_mmap()). So the runs are spawned by this
// small launcher, forked before the fakes grow the benchmark.
LaunchResult launch(std::vector<std::string> strings) {
  // strings: binary, log path, then the environment.
  std::vector<char*> envp;
  for (std::size_t i = 2; i < strings.size(); ++i) {
    envp.push_back(strings[i].data());
  }
  envp.push_back(nullptr);
  std::string command = "-init";
  char* argv[] = {strings[0].data(), command.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, strings[1].c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);

  LaunchResult result;
  auto started = std::chrono::steady_clock::now();
  pid_t pid = -1;
  result.spawnError = posix_spawn(&pid, argv[0], &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (result.spawnError != 0) {
    return result;
  }
  rusage usage{};
  wait4(pid, &result.waitStatus, 0, &usage);
  auto exited = Clock::now();
  result.maxRssKib = usage.ru_maxrss;
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  result.launcherMaxRssKib = self.ru_maxrss;
  result.exitedMicros =
      std::chrono::duration_cast<std::chrono::microseconds>(exited.time_since_epoch()).count();
  result.totalMicros = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  return result;
}

// The launcher's loop: read a request (strings, each NUL-terminated, ended
// by an empty string), launch it, write the LaunchResult back.
[[noreturn]] void serveLaunches(int requests, int results) {
  std::vector<std::string> strings;
  std::string current;
  char byte = 0;
  while (readFully(requests, &byte, 1)) {
    if (byte != '\0') {
      current += byte;
      continue;
    }
    if (!current.empty()) {
      strings.push_back(std::move(current));
      current.clear();
      continue;
    }
    LaunchResult result = launch(std::move(strings));
    strings.clear();
    if (!writeFully(results, &result, sizeof(result))) {
      break;
    }
  }
  _exit(0);
}

class Launcher {
 public:
  // Forks the launcher. Call it first thing in main(), while this process is small.
  Launcher() {
    int requests[2];
    int results[2];
    if (pipe(requests) != 0 || pipe(results) != 0) {
      throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
    }
    pid_ = fork();
    if (pid_ < 0) {
      throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
      close(requests[1]);
      close(results[0]);
      serveLaunches(requests[0], results[1]);
    }
    close(requests[0]);
    close(results[1]);
    requests_ = requests[1];
    results_ = results[0];
  }

  ~Launcher() {
    close(requests_);
    close(results_);
    waitpid(pid_, nullptr, 0);
  }

  LaunchResult run(const std::string& binary, const std::string& logPath,
                   const Environment& environment) {
    std::string request = binary + '\0' + logPath + '\0';
    for (const auto& [name, value] : environment) {
      request += name + "=" + value + '\0';
    }
    request += '\0';
    LaunchResult result;
    if (!writeFully(requests_, request.data(), request.size()) ||
        !readFully(results_, &result, sizeof(result))) {
      throw std::runtime_error("the launcher process stopped");
    }
    return result;
  }

 private:
  pid_t pid_ = -1;
  int requests_ = -1;
  int results_ = -1;
};

// Runs the binary once with stderr in logPath and measures it.
RunMeasurement runOnce(Launcher& launcher, const std::string& binary,
                       const Environment& environment, const std::string& logPath) {
  RunMeasurement measurement;
  LaunchResult launched = launcher.run(binary, logPath, environment);
  if (launched.spawnError != 0) {
    measurement.log = "cannot start " + binary + ": " + std::strerror(launched.spawnError);
    return measurement;
  }
  int status = launched.waitStatus;
  measurement.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  measurement.maxRssKib = launched.maxRssKib;
  measurement.launcherMaxRssKib = launched.launcherMaxRssKib;
  measurement.processTotal = std::chrono::microseconds(launched.totalMicros);
  Clock::time_point exited{std::chrono::microseconds(launched.exitedMicros)};

  std::ifstream in(logPath);
  std::ostringstream contents;
  contents << in.rdbuf();
  measurement.log = contents.str();

  std::optional<Clock::time_point> svid = timeOfLine(measurement.log, "obtained our SVID");
  std::optional<Clock::time_point> summary = timeOfLine(measurement.log, "");
  if (svid && summary) {
    measurement.svidToSummary =
        std::chrono::duration_cast<std::chrono::microseconds>(*summary - *svid);
    measurement.svidToExit = std::chrono::duration_cast<std::chrono::microseconds>(exited - *svid);
  }
  return measurement;
}

RunMeasurement measureRun(Launcher& launcher, const std::string& binary) {
  FakeDeploymentOptions options;
  options.keepers = kKeepers;
  options.threshold = kThreshold;
  FakeDeployment deployment(options);
  for (int id = 1; id <= kKeepers; ++id) {
    deployment.keeper(id).setDelay(kPeerDelay);
  }
  deployment.nexus().setDelay(kPeerDelay);
  deployment.start();

  Environment environment = deployment.environment();
  environment["SPIKE_SYSTEM_LOG_LEVEL"] = "info";
  return runOnce(launcher, binary, environment, deployment.terminationLogPath() + ".stderr");
}

double milliseconds(std::chrono::microseconds value) {
  return static_cast<double>(value.count()) / 1000.0;
}

void printUsage() {
  std::cout << "Usage: spike-bootstrap-run-bench [--runs N] [--binary PATH]\n\n"
               "Runs spike-bootstrap -init N times (default 5) against 5 fake keepers\n"
               "(threshold 3) and a fake Nexus that each reply after 300 ms, and prints\n"
               "the time from \"obtained our SVID\" to the summary line and to the\n"
               "process exit, and the peak RSS. Exits 1 when a run fails.\n";
}

}  // namespace

int main(int argc, char** argv) {
  Launcher launcher;
  std::string binary = SPIKE_BOOTSTRAP_BINARY;
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--binary" && i + 1 < argc) {
      binary = argv[++i];
    } else {
      printUsage();
      return arg == "--help" ? 0 : 2;
    }
  }
  spike_bootstrap::crypto::initSecureHeap();

  std::printf("%-4s %-5s %16s %13s %14s %12s\n", "run", "exit", "svid_to_summary", "svid_to_exit",
              "process_total", "max_rss");
  std::vector<RunMeasurement> measurements;
  for (int run = 1; run <= runs; ++run) {
    RunMeasurement measurement = measureRun(launcher, binary);
    if (measurement.exitCode != 0 || !measurement.svidToExit) {
      std::cerr << "run " << run << " failed with exit code " << measurement.exitCode
                << "; its standard error:\n"
                << measurement.log;
      return 1;
    }
    std::printf("%-4d %-5d %13.1f ms %10.1f ms %11.1f ms %9ld KiB\n", run, measurement.exitCode,
                milliseconds(*measurement.svidToSummary), milliseconds(*measurement.svidToExit),
                milliseconds(measurement.processTotal), measurement.maxRssKib);
    measurements.push_back(std::move(measurement));
  }

  std::vector<std::chrono::microseconds> times;
  long maxRss = 0;
  long launcherRss = 0;
  for (const RunMeasurement& measurement : measurements) {
    times.push_back(*measurement.svidToExit);
    maxRss = std::max(maxRss, measurement.maxRssKib);
    launcherRss = std::max(launcherRss, measurement.launcherMaxRssKib);
  }
  std::sort(times.begin(), times.end());
  rusage self{};
  getrusage(RUSAGE_SELF, &self);

  std::printf("\nsvid_to_exit: median %.1f ms, max %.1f ms (target < %lld ms): %s\n",
              milliseconds(times[times.size() / 2]), milliseconds(times.back()),
              static_cast<long long>(kTimeTarget.count()),
              times.back() < kTimeTarget ? "met" : "missed");
  std::printf("peak RSS: max %ld KiB over the runs (target < %ld KiB): %s\n", maxRss,
              kMemoryTargetKib, maxRss < kMemoryTargetKib ? "met" : "missed");
  std::printf("benchmark process peak RSS, kept out of the figures above: %ld KiB\n",
              self.ru_maxrss);
  std::printf("launcher peak RSS, a floor for max_rss: %ld KiB\n", launcherRss);
  return 0;
}
