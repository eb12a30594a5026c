// Backoff: exponential retry delays with jitter, as used for keeper and Nexus calls.
//
// The shape follows ExponentialBackOff of cenkalti/backoff v4, which SPIKE uses.
// The interval starts at initialInterval and grows by multiplier after each
// attempt, up to maxInterval. Each delay is the interval scaled by a random
// factor in [1 - randomization, 1 + randomization). The clock and the random
// source are injected, so tests run without sleeping. Callers wait with an
// asio timer. A Backoff is not thread-safe, so use one per retry loop.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

namespace spike_bootstrap::net {

struct BackoffPolicy {
  using Duration = std::chrono::nanoseconds;

  Duration initialInterval = std::chrono::milliseconds(500);
  // Cap on the interval before jitter, so delays stay below
  // maxInterval * (1 + randomization).
  Duration maxInterval = std::chrono::seconds(60);
  double multiplier = 2.0;
  // Jitter as a fraction of the interval. 0.5 gives delays of 0.5x to 1.5x.
  double randomization = 0.5;
  // Number of attempts in total, the first one included, or 0 for no limit.
  int maxAttempts = 0;
  // Time from construction after which no attempt starts, or 0 for no limit.
  Duration maxElapsed{};
};

class Backoff {
 public:
  using Duration = BackoffPolicy::Duration;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // Returns a value in [0, 1).
  using Random = std::function<double()>;

  // Creates a backoff that uses std::chrono::steady_clock and a pseudo-random
  // jitter source. The deadline (maxElapsed) counts from this call.
  explicit Backoff(BackoffPolicy policy);

  // Creates a backoff with an injected clock and random source (for tests).
  // Out-of-range policy fields are clamped: negative intervals become 0, a
  // maxInterval below initialInterval becomes initialInterval, a multiplier
  // below 1 becomes 1, and randomization is kept within [0, 1].
  Backoff(BackoffPolicy policy, Clock clock, Random random);

  // Records that the current attempt failed and returns the delay before the
  // next one. Returns nullopt when maxAttempts attempts have been made, or
  // when the next attempt would not start before maxElapsed. Once it has
  // returned nullopt, it keeps returning nullopt.
  std::optional<Duration> nextDelay();

  // Returns the 1-based number of the attempt in progress: 1 before the first
  // nextDelay() call, and one more after every call that returned a delay.
  int attempt() const { return attempt_; }

  // Returns the time since construction on the injected clock.
  Duration elapsed() const;

 private:
  Duration jitter(Duration interval);
  void growInterval();

  BackoffPolicy policy_;
  Clock clock_;
  Random random_;
  std::chrono::steady_clock::time_point start_;
  Duration interval_;
  int attempt_ = 1;
  bool exhausted_ = false;
};

// Returns the deadline for one attempt: attemptCap, cut down to what is left
// of budget since started (at least 1 ms). A zero budget means no limit.
std::chrono::nanoseconds attemptTimeout(std::chrono::nanoseconds budget,
                                        std::chrono::steady_clock::time_point started,
                                        std::chrono::nanoseconds attemptCap);

}  // namespace spike_bootstrap::net
