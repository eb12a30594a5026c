// Exponential backoff with jitter: delay growth, cap, attempt and time limits.
#include "spike_bootstrap/net/backoff.h"

#include <algorithm>
#include <random>
#include <utility>

namespace spike_bootstrap::net {
namespace {

// Jitter only spreads retries out, so a seeded Mersenne Twister is enough.
// Nothing secret depends on it.
double uniformRandom() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

BackoffPolicy clampPolicy(BackoffPolicy policy) {
  policy.initialInterval = std::max(policy.initialInterval, BackoffPolicy::Duration::zero());
  policy.maxInterval = std::max(policy.maxInterval, policy.initialInterval);
  policy.multiplier = std::max(policy.multiplier, 1.0);
  policy.randomization = std::clamp(policy.randomization, 0.0, 1.0);
  policy.maxAttempts = std::max(policy.maxAttempts, 0);
  policy.maxElapsed = std::max(policy.maxElapsed, BackoffPolicy::Duration::zero());
  return policy;
}

// Converts nanoseconds held in a double back to a Duration, saturating
// instead of overflowing for intervals near Duration::max().
BackoffPolicy::Duration toDuration(double nanoseconds) {
  constexpr double kMax = static_cast<double>(BackoffPolicy::Duration::max().count());
  if (nanoseconds >= kMax) {
    return BackoffPolicy::Duration::max();
  }
  return BackoffPolicy::Duration(
      static_cast<BackoffPolicy::Duration::rep>(std::max(nanoseconds, 0.0)));
}

}  // namespace

Backoff::Backoff(BackoffPolicy policy)
    : Backoff(
          policy, [] { return std::chrono::steady_clock::now(); }, uniformRandom) {}

Backoff::Backoff(BackoffPolicy policy, Clock clock, Random random)
    : policy_(clampPolicy(policy)),
      clock_(std::move(clock)),
      random_(std::move(random)),
      start_(clock_()),
      interval_(policy_.initialInterval) {}

std::optional<Backoff::Duration> Backoff::nextDelay() {
  if (exhausted_ || (policy_.maxAttempts > 0 && attempt_ >= policy_.maxAttempts)) {
    exhausted_ = true;
    return std::nullopt;
  }

  Duration delay = jitter(interval_);
  growInterval();

  // The next attempt must start before the deadline, so a delay that ends on
  // it or after it ends the retries. cenkalti/backoff v4 also stops here but
  // still allows a delay that ends exactly on the deadline.
  if (policy_.maxElapsed > Duration::zero()) {
    Duration remaining = policy_.maxElapsed - elapsed();
    if (remaining <= Duration::zero() || delay >= remaining) {
      exhausted_ = true;
      return std::nullopt;
    }
  }

  ++attempt_;
  return delay;
}

Backoff::Duration Backoff::elapsed() const {
  return std::chrono::duration_cast<Duration>(clock_() - start_);
}

Backoff::Duration Backoff::jitter(Duration interval) {
  double unit = std::clamp(random_(), 0.0, 1.0);
  double factor = 1.0 - policy_.randomization + 2.0 * policy_.randomization * unit;
  return toDuration(static_cast<double>(interval.count()) * factor);
}

void Backoff::growInterval() {
  double grown = static_cast<double>(interval_.count()) * policy_.multiplier;
  interval_ = std::min(toDuration(grown), policy_.maxInterval);
}

std::chrono::nanoseconds attemptTimeout(std::chrono::nanoseconds budget,
                                        std::chrono::steady_clock::time_point started,
                                        std::chrono::nanoseconds attemptCap) {
  if (budget.count() <= 0) {
    return attemptCap;
  }
  std::chrono::nanoseconds left = budget - (std::chrono::steady_clock::now() - started);
  return std::clamp(left, std::chrono::nanoseconds(std::chrono::milliseconds(1)), attemptCap);
}

}  // namespace spike_bootstrap::net
