// Time of SPIKE's Shamir split and of recovery, at the largest share count in
// the vectors (1000 shares, threshold 500) and at a typical one (5, 3).
//
//   cmake -S . -B build-bench -DSPIKE_BOOTSTRAP_BENCH=ON -DSPIKE_BOOTSTRAP_TESTS=OFF
//   cmake --build build-bench --target spike_bootstrap_bench
//   build-bench/bench/spike_bootstrap_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <span>
#include <utility>
#include <vector>

#include "spike_bootstrap/crypto/probe.h"
#include "spike_bootstrap/crypto/secret_bytes.h"
#include "spike_bootstrap/crypto/shamir.h"

namespace crypto = spike_bootstrap::crypto;

namespace {

crypto::SecretBytes newRootKey(benchmark::State& state) {
  auto key = crypto::generateRootKey();
  if (!key.ok()) {
    state.SkipWithError(key.status().toString().c_str());
    return {};
  }
  return std::move(*key);
}

// Arguments: shares, threshold.
void splitRootKey(benchmark::State& state) {
  const int shares = static_cast<int>(state.range(0));
  const int threshold = static_cast<int>(state.range(1));
  const crypto::SecretBytes key = newRootKey(state);
  for (auto _ : state) {
    auto split = crypto::splitRootKey(key, threshold, shares);
    if (!split.ok()) {
      state.SkipWithError(split.status().toString().c_str());
      break;
    }
    benchmark::DoNotOptimize(split->data());
  }
}
BENCHMARK(splitRootKey)->Args({1000, 500})->Args({5, 3})->Unit(benchmark::kMillisecond);

// Arguments: shares, threshold. Recovers from the last threshold shares.
void recoverRootKey(benchmark::State& state) {
  const int shares = static_cast<int>(state.range(0));
  const int threshold = static_cast<int>(state.range(1));
  const crypto::SecretBytes key = newRootKey(state);
  auto split = crypto::splitRootKey(key, threshold, shares);
  if (!split.ok()) {
    state.SkipWithError(split.status().toString().c_str());
    return;
  }
  const std::span<const crypto::KeeperShare> used =
      std::span<const crypto::KeeperShare>(*split).last(static_cast<std::size_t>(threshold));
  for (auto _ : state) {
    auto recovered = crypto::recoverRootKey(used, threshold);
    if (!recovered.ok()) {
      state.SkipWithError(recovered.status().toString().c_str());
      break;
    }
    benchmark::DoNotOptimize(recovered->data());
  }
}
BENCHMARK(recoverRootKey)->Args({1000, 500})->Args({5, 3})->Unit(benchmark::kMillisecond);

void sealProbe(benchmark::State& state) {
  const crypto::SecretBytes key = newRootKey(state);
  for (auto _ : state) {
    auto probe = crypto::sealProbe(key);
    benchmark::DoNotOptimize(probe);
  }
}
BENCHMARK(sealProbe)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  // Measure with secrets in the secure heap, as the bootstrap run keeps them.
  crypto::initSecureHeap();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return EXIT_FAILURE;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return EXIT_SUCCESS;
}
