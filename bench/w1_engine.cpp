// Workload W1 through the C++ engine alone: 1-D double well, T = 1/16, x0 = -1, exit at x >= 0, dt = 1e-3.
// Reports path-steps per second and ns per path-step per thread. Google Benchmark when found, else a plain timer.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "escapade/dynamics/langevin.hpp"
#include "escapade/engine.hpp"
#include "escapade/landscapes/double_well.hpp"

using namespace escapade;

static EnsembleResult run_w1(std::int64_t n_paths, int threads, bool bridge, double dt, int lanes = 128) {
  static const DoubleWell f(1);
  const Langevin dyn(1.0 / 16, dt);
  static const FixedStart start(Vector::Constant(1, -1.0));
  static const HalfSpace stop(Vector::Ones(1), 0.0);
  RunConfig cfg;
  cfg.n_paths = n_paths;
  cfg.max_steps = std::int64_t{1} << 40;
  cfg.threads = threads;
  cfg.bridge = bridge;
  cfg.lanes = lanes;
  return run(Problem{f, dyn, start, &stop, nullptr}, cfg);
}

#ifdef ESCAPADE_GOOGLE_BENCHMARK
#include <benchmark/benchmark.h>
static void W1(benchmark::State& st) {
  std::int64_t steps = 0;
  for (auto _ : st) steps += run_w1(st.range(0), static_cast<int>(st.range(1)), st.range(2) != 0, 1e-3).total_steps;
  st.counters["path_steps/s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}
BENCHMARK(W1)->Args({10000, 1, 1})->Args({10000, 2, 1})->Args({10000, 1, 0})->UseRealTime()->Unit(benchmark::kSecond);
BENCHMARK_MAIN();
#else
int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 10000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const bool bridge = argc > 3 ? std::atoi(argv[3]) != 0 : true;
  const double dt = argc > 4 ? std::atof(argv[4]) : 1e-3;
  const int lanes = argc > 5 ? std::atoi(argv[5]) : 128;  // lanes per block (the API's 1-D default): changes no result
  const auto t0 = std::chrono::steady_clock::now();
  const EnsembleResult r = run_w1(n, threads, bridge, dt, lanes);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double mean = 0;
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a over the exit times' bits: compares builds bit for bit
  for (double t : r.exit_time) {
    mean += t;
    std::uint64_t bits;
    std::memcpy(&bits, &t, sizeof bits);
    hash = (hash ^ bits) * 1099511628211ull;
  }
  mean /= static_cast<double>(n);
  std::printf("{\"n_paths\": %lld, \"threads\": %d, \"bridge\": %d, \"dt\": %g, \"mean_exit_time\": %.6f, "
              "\"path_steps\": %lld, \"seconds\": %.4f, \"path_steps_per_s\": %.4g, \"ns_per_step_per_thread\": %.3f, "
              "\"exit_time_hash\": \"%016llx\"}\n",
              static_cast<long long>(n), threads, bridge ? 1 : 0, dt, mean, static_cast<long long>(r.total_steps), s,
              r.total_steps / s, s * 1e9 * threads / r.total_steps, static_cast<unsigned long long>(hash));
}
#endif
