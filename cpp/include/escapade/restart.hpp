// Stochastic resetting: a running path is moved back to a restart point, at the events of a Poisson process of
// rate r or every period tau, its clock running on (the exit time counts from the first start).
//
// Restarts happen at the ends of steps, after the step's exit tests: with rate r, at the end of each step with
// probability 1 - exp(-r dt) (the restart times are the Poisson process's rounded up to the grid: an O(dt) delay,
// as the exit tests'), and with period tau every round(tau / dt) steps. The decision of step k of path i and the
// new point are functions of (seed, i, k) only, drawn from their own stream (step field kRestartStep + k / 4),
// so a run's results are the same bits for any thread count and no other draw moves.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "escapade/rng.hpp"
#include "escapade/start.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// The restart stream's step fields: kRestartStep + q for the steps 4q .. 4q + 3 (above the forcing streams).
constexpr std::uint64_t kRestartStep = (std::uint64_t{1} << 47) + (std::uint64_t{1} << 46);

class Restart {
 public:
  // rate > 0 (Poisson) or period > 0 (sharp), exactly one of them (the other 0). `to`: where a path restarts,
  // drawn anew at each restart; null: the path's own starting point.
  Restart(double rate, double period, std::shared_ptr<const Start> to)
      : rate_(rate), period_(period), to_(std::move(to)) {
    require(std::isfinite(rate) && rate >= 0, "rate", rate, "finite and >= 0");
    require(std::isfinite(period) && period >= 0, "period", period, "finite and >= 0");
    require((rate > 0) != (period > 0), "restart: give exactly one of rate and period (positive), got rate = " +
                                            std::to_string(rate) + ", period = " + std::to_string(period));
  }
  double rate() const { return rate_; }
  double period() const { return period_; }
  const std::shared_ptr<const Start>& to() const { return to_; }

  // The per-step rule for a step dt: a probability (Poisson) or a number of steps (sharp).
  struct Rule {
    double p = 0.0;
    std::uint64_t every = 0;
  };
  Rule rule(double dt) const {
    Rule r;
    if (rate_ > 0) {
      r.p = -std::expm1(-rate_ * dt);
    } else {
      const double n = std::round(period_ / dt);
      require(n >= 1 && n < 1e15, "period", period_,
              "at least one step (dt = " + std::to_string(dt) + ") and at most 1e15 steps");
      r.every = static_cast<std::uint64_t>(n);
    }
    return r;
  }
  // The words that decide the Poisson restarts after steps 4q + 1 .. 4q + 4 of a path (word s for step 4q + s + 1).
  static Words4 words(std::uint64_t seed, std::uint64_t path, std::uint64_t q) {
    return random_words(seed, path, kRestartStep + q, 0);
  }
  // Whether path `path` restarts at the end of its step `step` (1, 2, ...: the count after the step), given the
  // words of its quad, words(seed, path, (step - 1) / 4), for Poisson restarts.
  static bool fires(const Rule& r, const Words4& w, std::uint64_t step) {
    if (r.every) return step % r.every == 0;
    return open_uniform(w[(step - 1) % 4]) < r.p;
  }
  // The point path `path` restarts at after step `step`: its own start (start.sample(seed, path)) or a draw of
  // `to` keyed by (seed, step, path).
  void point(const Start& start, std::uint64_t seed, std::uint64_t path, std::uint64_t step, double* x) const {
    if (!to_) {
      start.sample(seed, path, x);
      return;
    }
    to_->sample(mix(seed, step), path, x);
  }

 private:
  // SplitMix64's finalizer over seed and step: a fresh key for each restart's draw.
  static std::uint64_t mix(std::uint64_t seed, std::uint64_t step) {
    std::uint64_t z = seed ^ (0x9E3779B97F4A7C15ull * (step + 1));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double rate_, period_;
  std::shared_ptr<const Start> to_;
};

}  // namespace escapade
