// Backoff with a fake clock and a fixed random source: growth, cap, jitter, limits.
#include <chrono>
#include <optional>

#include <catch2/catch.hpp>

#include "spike_bootstrap/net/backoff.h"

using spike_bootstrap::net::Backoff;
using spike_bootstrap::net::BackoffPolicy;
using namespace std::chrono_literals;

namespace {

using Duration = Backoff::Duration;

// A clock and a random source that the test sets by hand.
struct FakeEnvironment {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  double random = 0.5;  // 0.5 makes the jitter factor exactly 1

  Backoff make(const BackoffPolicy& policy) {
    return Backoff(
        policy, [this] { return now; }, [this] { return random; });
  }
};

BackoffPolicy keeperPolicy() {
  BackoffPolicy policy;
  policy.initialInterval = 2s;
  policy.maxInterval = 30s;
  return policy;
}

}  // namespace

TEST_CASE("backoff grows by the multiplier", "[net][backoff]") {
  FakeEnvironment env;
  Backoff backoff = env.make(keeperPolicy());

  CHECK(backoff.nextDelay() == Duration(2s));
  CHECK(backoff.nextDelay() == Duration(4s));
  CHECK(backoff.nextDelay() == Duration(8s));
  CHECK(backoff.nextDelay() == Duration(16s));
}

TEST_CASE("backoff caps the interval at the maximum", "[net][backoff]") {
  FakeEnvironment env;
  Backoff backoff = env.make(keeperPolicy());

  for (int i = 0; i < 4; ++i) {
    REQUIRE(backoff.nextDelay().has_value());
  }
  CHECK(backoff.nextDelay() == Duration(30s));
  CHECK(backoff.nextDelay() == Duration(30s));
  CHECK(backoff.nextDelay() == Duration(30s));
}

TEST_CASE("backoff uses a non-default multiplier", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy = keeperPolicy();
  policy.multiplier = 1.5;
  Backoff backoff = env.make(policy);

  CHECK(backoff.nextDelay() == Duration(2s));
  CHECK(backoff.nextDelay() == Duration(3s));
  CHECK(backoff.nextDelay() == Duration(4500ms));
}

TEST_CASE("backoff jitter at random 0 is half the interval", "[net][backoff]") {
  FakeEnvironment env;
  env.random = 0.0;
  Backoff backoff = env.make(keeperPolicy());

  CHECK(backoff.nextDelay() == Duration(1s));
  CHECK(backoff.nextDelay() == Duration(2s));
}

TEST_CASE("backoff jitter near random 1 approaches 1.5x", "[net][backoff]") {
  FakeEnvironment env;
  env.random = 0.999999;
  Backoff backoff = env.make(keeperPolicy());

  std::optional<Duration> delay = backoff.nextDelay();
  REQUIRE(delay.has_value());
  CHECK(*delay < Duration(3s));
  CHECK(*delay >= Duration(2999990us));
}

TEST_CASE("backoff jitter stays within bounds", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy = keeperPolicy();

  for (double random : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999}) {
    env.random = random;
    Backoff backoff = env.make(policy);
    Duration interval = policy.initialInterval;
    for (int i = 0; i < 8; ++i) {
      std::optional<Duration> delay = backoff.nextDelay();
      REQUIRE(delay.has_value());
      CHECK(*delay >= interval / 2);
      CHECK(*delay < interval * 3 / 2);
      interval = std::min(interval * 2, policy.maxInterval);
    }
  }
}

TEST_CASE("backoff without randomization is exact", "[net][backoff]") {
  FakeEnvironment env;
  env.random = 0.0;
  BackoffPolicy policy = keeperPolicy();
  policy.randomization = 0.0;
  Backoff backoff = env.make(policy);

  CHECK(backoff.nextDelay() == Duration(2s));
  CHECK(backoff.nextDelay() == Duration(4s));
}

TEST_CASE("backoff stops after max attempts", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy = keeperPolicy();
  policy.maxAttempts = 5;
  Backoff backoff = env.make(policy);

  // Five attempts in total need four delays between them.
  CHECK(backoff.attempt() == 1);
  for (int expected = 2; expected <= 5; ++expected) {
    REQUIRE(backoff.nextDelay().has_value());
    CHECK(backoff.attempt() == expected);
  }
  CHECK_FALSE(backoff.nextDelay().has_value());
  CHECK(backoff.attempt() == 5);
  CHECK_FALSE(backoff.nextDelay().has_value());
}

TEST_CASE("backoff with one attempt never retries", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy = keeperPolicy();
  policy.maxAttempts = 1;
  Backoff backoff = env.make(policy);

  CHECK_FALSE(backoff.nextDelay().has_value());
  CHECK(backoff.attempt() == 1);
}

TEST_CASE("backoff stops before the deadline", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy = keeperPolicy();
  policy.maxElapsed = 30s;
  Backoff backoff = env.make(policy);

  // Given attempts that each take 1s, delays of 2s, 4s and 8s fit in 30s:
  // the fourth attempt starts at 1+2+1+4+1+8 = 17s.
  for (Duration expected : {Duration(2s), Duration(4s), Duration(8s)}) {
    env.now += 1s;
    CHECK(backoff.nextDelay() == expected);
    env.now += expected;
  }
  CHECK(backoff.elapsed() == Duration(17s));

  // When the fourth attempt fails at 18s, a 16s delay would end at 34s.
  env.now += 1s;
  CHECK_FALSE(backoff.nextDelay().has_value());
  CHECK(backoff.attempt() == 4);
}

TEST_CASE("backoff rejects a delay ending on the deadline", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy = keeperPolicy();
  policy.maxElapsed = 10s;
  Backoff backoff = env.make(policy);

  env.now += 8s;
  CHECK_FALSE(backoff.nextDelay().has_value());
}

TEST_CASE("backoff accepts a delay ending before the deadline", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy = keeperPolicy();
  policy.maxElapsed = 10s;
  Backoff backoff = env.make(policy);

  env.now += 8s - 1ns;
  CHECK(backoff.nextDelay() == Duration(2s));
}

TEST_CASE("backoff after the deadline stays exhausted", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy = keeperPolicy();
  policy.maxElapsed = 5s;
  Backoff backoff = env.make(policy);

  env.now += 6s;
  CHECK_FALSE(backoff.nextDelay().has_value());

  // A smaller jitter draw later does not revive it.
  env.random = 0.0;
  CHECK_FALSE(backoff.nextDelay().has_value());
}

TEST_CASE("backoff without limits keeps going", "[net][backoff]") {
  FakeEnvironment env;
  Backoff backoff = env.make(keeperPolicy());

  for (int i = 0; i < 1000; ++i) {
    env.now += 24h;
    std::optional<Duration> delay = backoff.nextDelay();
    REQUIRE(delay.has_value());
    CHECK(*delay <= Duration(30s));
  }
  CHECK(backoff.attempt() == 1001);
}

TEST_CASE("backoff clamps an inconsistent policy", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy;
  policy.initialInterval = 5s;
  policy.maxInterval = 1s;
  policy.multiplier = 0.5;
  policy.randomization = 3.0;
  Backoff backoff = env.make(policy);

  // The cap rises to the initial interval and the multiplier to 1.
  CHECK(backoff.nextDelay() == Duration(5s));
  CHECK(backoff.nextDelay() == Duration(5s));

  // Randomization above 1 is treated as 1, so random 0 gives no delay.
  env.random = 0.0;
  CHECK(backoff.nextDelay() == Duration::zero());
}

TEST_CASE("backoff with zero interval retries at once", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy;
  policy.initialInterval = 0s;
  policy.maxInterval = 0s;
  policy.maxAttempts = 3;
  Backoff backoff = env.make(policy);

  CHECK(backoff.nextDelay() == Duration::zero());
  CHECK(backoff.nextDelay() == Duration::zero());
  CHECK_FALSE(backoff.nextDelay().has_value());
}

TEST_CASE("backoff saturates a huge interval", "[net][backoff]") {
  FakeEnvironment env;
  BackoffPolicy policy;
  policy.initialInterval = Duration::max() / 2;
  policy.maxInterval = Duration::max();
  Backoff backoff = env.make(policy);

  REQUIRE(backoff.nextDelay().has_value());
  std::optional<Duration> delay = backoff.nextDelay();
  REQUIRE(delay.has_value());
  CHECK(*delay == Duration::max());
}

TEST_CASE("backoff on the real clock stays within bounds", "[net][backoff]") {
  BackoffPolicy policy;
  policy.initialInterval = 100ms;
  policy.maxInterval = 1s;
  Backoff backoff(policy);

  std::optional<Duration> delay = backoff.nextDelay();
  REQUIRE(delay.has_value());
  CHECK(*delay >= Duration(50ms));
  CHECK(*delay < Duration(150ms));
  CHECK(backoff.elapsed() >= Duration::zero());
}

TEST_CASE("attempt timeout within budget", "[backoff]") {
  using namespace std::chrono_literals;
  auto now = std::chrono::steady_clock::now();

  CHECK(spike_bootstrap::net::attemptTimeout(0ns, now, 10s) == 10s);
  CHECK(spike_bootstrap::net::attemptTimeout(1h, now, 10s) == 10s);
  CHECK(spike_bootstrap::net::attemptTimeout(5s, now, 10s) <= 5s);
  CHECK(spike_bootstrap::net::attemptTimeout(5s, now, 10s) > 4s);
  CHECK(spike_bootstrap::net::attemptTimeout(5s, now - 1h, 10s) == 1ms);
}
