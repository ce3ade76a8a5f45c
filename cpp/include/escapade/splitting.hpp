// Adaptive multilevel splitting (AMS): the probability that a path from the start reaches the product set B
// before returning to the reactant set A, when that probability is far too small for plain Monte Carlo.
//
// The generalized algorithm (Bréhier, Gazeau, Goudenège, Lelièvre & Rousset 2016), unbiased in discrete time. N
// replicas run from the start until they reach A or B; each keeps its highest score. At every iteration the level
// Z is the lowest of those maxima (the k-th lowest with k > 1); every replica whose maximum is <= Z is killed (ties
// die together) and becomes a copy of a survivor chosen uniformly, branched at the first step where the survivor's
// score exceeded Z and continued with fresh noise until A or B. The run stops when Z reaches B (every replica, or
// all but at most k - 1, in B) or all are killed (extinction, estimate 0). Its estimate is prod_q (1 - K_q / N) * (replicas in B) / N, K_q the killed at
// iteration q. A replica stores only the points where its score set a new record since its last branch point: the
// only possible branch points above the current level (levels only rise).
//
// Replicas are lanes. Each thread owns whole runs (independent AMS runs) and a block of lanes; the replicas
// that await their continuation, of every run the thread holds, advance together, so that the block stays full
// when each run kills one replica at a time. The noise of a continuation is keyed by (seed, run, task), the
// task being the run's count of continuations started so far, and a survivor is chosen from words keyed by
// (seed, run, iteration): a run's result depends on nothing else, so it is bitwise the same for any thread count,
// lane count or run order.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "escapade/bridge.hpp"
#include "escapade/dynamics.hpp"
#include "escapade/engine.hpp"
#include "escapade/landscape.hpp"
#include "escapade/region.hpp"
#include "escapade/rng.hpp"
#include "escapade/score.hpp"
#include "escapade/start.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

constexpr int kMaxReplicas = 1 << 18;                         // a survivor per killed replica: 4 per draw, 2^16 draws
constexpr std::int64_t kMaxRuns = std::int64_t{1} << 22;       // run index: 22 bits of the noise key
constexpr std::int64_t kMaxIterations = std::int64_t{1} << 46;  // iteration: the step field of the selection words

struct SplittingConfig {
  int n_replicas = 100;
  std::int64_t n_runs = 10;
  std::int64_t first_run = 0;  // run indices [first_run, first_run + n_runs)
  std::uint64_t seed = 0;
  int threads = 0;  // <= 0: all cores
  int lanes = 64;
  bool bridge = true;  // Brownian-bridge test of A and B between steps (Gaussian noise with a constant covariance)
  double divergence_bound = 1e8;
  std::int64_t max_iterations = 0;  // a run still going after this many iterations stops (status IterationCap)
  std::int64_t max_steps = 0;       // a replica whose path reaches this step is censored
  int record_reactive = 0;          // keep the paths of up to this many replicas of run 0 that reached B
  int k = 1;  // the level is the k-th lowest maximum: at least k replicas die per iteration, their continuations together
};

struct SplittingProblem {
  const Landscape& landscape;
  const Dynamics& dynamics;
  const Start& start;
  const Region& reactant;  // A: entering it ends a replica's path, a failure
  const Region& product;   // B: entering it ends a replica's path, a success
  const Score& score;
};

// How a run ended. Values are part of the Python API.
enum class SplittingStatus : std::int8_t {
  Finished = 0,      // the level reached B: every replica (k = 1), or all but at most k - 1, in B
  Extinct = 1,       // every replica was at the level: all killed, the estimate is 0
  IterationCap = 2,  // max_iterations reached first: the estimate is not unbiased
  Interrupted = 3,   // stopped by Ctrl-C, or never started
};

struct SplittingResult {
  std::vector<double> log_weight;  // per run: sum over iterations of log(1 - K_q / N)
  std::vector<std::int32_t> n_reached;  // replicas in B at the end
  std::vector<std::int64_t> iterations, killed, steps, censored, diverged;
  std::vector<std::int8_t> status;
  std::vector<double> reactive_time;  // mean time at which the run's final replicas reached B (NaN if none did)
  std::vector<Trajectory> trajectories;  // run 0's first paths that reached B (record_reactive of them)
  std::int64_t total_steps = 0;
  bool bridge = false;  // whether A and B were tested with the Brownian bridge (else at the steps)
  bool interrupted = false;
};

// Splitting branches paths at their steps and needs fresh noise to tell copies apart: fixed steps, some noise.
inline void validate_splitting_dynamics(const Landscape& f, const Dynamics& dyn) {
  const int d = f.dim();
  require(dyn.time_index(d) < 0, "dynamics must take fixed steps for splitting (" + dyn.name() + " keeps its own clock)");
  require(dyn.noise_dim_on(f) > 0 || dyn.uniform_dim_on(f) > 0,
          "dynamics must be random for splitting (" + dyn.name() + " draws no noise)");
}

inline void validate(const SplittingProblem& pb, const SplittingConfig& cfg) {
  const int d = pb.landscape.dim();
  require(pb.start.dim() == d, "x0", "of dimension " + std::to_string(pb.start.dim()),
          "of the landscape's dimension " + std::to_string(d));
  pb.dynamics.check_dim(d);
  pb.dynamics.check_landscape(pb.landscape);
  require(pb.reactant.dim() == d, "reactant", pb.reactant.name() + " of dimension " + std::to_string(pb.reactant.dim()),
          "of the landscape's dimension " + std::to_string(d));
  require(pb.product.dim() == d, "product", pb.product.name() + " of dimension " + std::to_string(pb.product.dim()),
          "of the landscape's dimension " + std::to_string(d));
  require(pb.score.dim() == d, "score", pb.score.name() + " of dimension " + std::to_string(pb.score.dim()),
          "of the landscape's dimension " + std::to_string(d));
  validate_splitting_dynamics(pb.landscape, pb.dynamics);
  require(cfg.n_replicas >= 2 && cfg.n_replicas <= kMaxReplicas, "n_replicas", cfg.n_replicas,
          "between 2 and " + std::to_string(kMaxReplicas));
  require(cfg.k >= 1 && cfg.k < cfg.n_replicas, "k", cfg.k,
          "between 1 and n_replicas - 1 (" + std::to_string(cfg.n_replicas - 1) + ")");
  require(cfg.n_runs >= 1, "n_runs", cfg.n_runs, "a positive integer");
  require(cfg.first_run >= 0 && cfg.first_run + cfg.n_runs <= kMaxRuns, "n_runs", cfg.first_run + cfg.n_runs,
          "at most " + std::to_string(kMaxRuns) + " runs in all");
  require(cfg.max_iterations >= 1 && cfg.max_iterations <= kMaxIterations, "max_iterations", cfg.max_iterations,
          "between 1 and 2^46");
  require(cfg.max_steps >= 1 && static_cast<std::uint64_t>(cfg.max_steps) <= kMaxStep, "max_steps", cfg.max_steps,
          "between 1 and 2^48 - 2");
  require(cfg.lanes >= 1 && cfg.lanes <= 4096, "lanes", cfg.lanes, "between 1 and 4096");
  require(cfg.threads <= 4096, "threads", cfg.threads, "at most 4096");
  require(cfg.divergence_bound > 0, "divergence_bound", cfg.divergence_bound, "positive");
  require(cfg.record_reactive >= 0, "record_reactive", cfg.record_reactive, ">= 0");
  check_draws_per_step(pb.dynamics, pb.landscape);
}

namespace detail {

// A refined part of a step near both A and B decided whole with neither end inside a set (a leaf of
// refine_bridge): its two entries as independent crossings of probabilities p[0] (A) and p[1] (B), drawn from one
// uniform u: A alone below p[0] (1 - p[1]), both up to p[0], B alone up to p[0] + (1 - p[0]) p[1], else neither
// (0). Where both happened, first() says which came first (1 or 2): the earlier of the two entry times
// (earlier_crossing), exact for planes at a right angle in the noise's metric (semantics 21 took A first: 0.697 for
// the exact 0.874 in a quarter plane from 0.01 off its corner at dt = 0.05). Elsewhere u decides as before.
// (simulate keeps one uniform, the exit first, at its leaves: its placement of an exit inside the target as a hit
// relies on it; docs/engine.md.)
template <class First>
int leaf_event(double u, const double* p, First& first) {
  if (u < p[0] - p[0] * p[1]) return 1;
  if (u < p[0]) return first();
  return u < p[0] + (1.0 - p[0]) * p[1] ? 2 : 0;
}

// Which of two crossings of one part came first (1 or 2): the earlier of their crossing times, each drawn from its
// bridge's law given that it crossed (crossing_time), with four draws from ws.
inline int earlier_crossing(const CrossingPlane& first, const CrossingPlane& second, double h, WordStream& ws) {
  const double z1 = ws.normal(), w1 = ws.uniform();
  const double z2 = ws.normal(), w2 = ws.uniform();
  return crossing_time(first, h, z1, w1) <= crossing_time(second, h, z2, w2) ? 1 : 2;
}

// Noise keys: bit 63 set (no ensemble path index reaches it), bit 62 tells continuations (0) from survivor
// choices (1), bits 40..61 the run, bits 0..39 the run's continuation count.
constexpr std::uint64_t kSplittingKey = std::uint64_t{1} << 63;
constexpr std::uint64_t kSelectionKey = std::uint64_t{1} << 62;
constexpr int kRunShift = 40;

// A score must be finite outside the product set: +inf stands for "in B" (a replica that reached it), so a score
// of +inf elsewhere would count as reaching B, and NaN orders nothing.
[[noreturn]] inline void throw_score(double s, const std::string& where) {
  const char* what = std::isnan(s) ? "NaN" : (s > 0 ? "inf" : "-inf");
  throw std::invalid_argument(std::string("score returned ") + what + " at " + where +
                              ": a score must be finite outside the product set");
}

inline std::uint64_t task_key(std::int64_t run, std::int64_t task) {
  return kSplittingKey | (static_cast<std::uint64_t>(run) << kRunShift) | static_cast<std::uint64_t>(task);
}
inline std::uint64_t selection_key(std::int64_t run) {
  return kSplittingKey | kSelectionKey | (static_cast<std::uint64_t>(run) << kRunShift);
}

enum class ReplicaEnd : std::int8_t { Running, Reactant, Product, Censored, Diverged };

struct Replica {
  // (score, step, x[d], state[sd]) at its start or branch point and at each new maximum of the score since, oldest
  // first (scores rise). A replica that reached B ends
  // with a record of score +inf (the point where it was found in B): a copy branched there is in B too.
  std::vector<double> records;
  ReplicaEnd end = ReplicaEnd::Running;
  std::vector<double> path;  // (t, x[d]) at every step, in the recorded run only
};

struct SplitRun {
  std::int64_t index = 0;  // relative to first_run
  std::vector<Replica> replicas;
  std::vector<double> max;  // each replica's highest score (-inf: none, +inf: in B)
  // (max, replica) of the settled replicas, a min-heap: the level and the replicas at it without a scan over N
  std::vector<std::pair<double, int>> settled;
  std::int64_t tasks = 0, iterations = 0, killed = 0, steps = 0, censored = 0, diverged = 0;
  double log_weight = 0.0;
  int outstanding = 0;  // continuations running or waiting for a lane
  bool recorded = false;
};

struct SplitShared {
  const SplittingProblem& pb;
  const SplittingConfig& cfg;
  SplittingResult& out;
  std::atomic<std::int64_t> next{0};      // next run not yet taken by a thread (relative)
  std::atomic<std::int64_t> finished{0};  // runs done
  std::atomic<bool> stop{false};
};

class SplittingBlock {
 public:
  SplittingBlock(SplitShared& sh, int lanes, int max_runs)
      : sh_(sh),
        f_(sh.pb.landscape),
        dyn_(sh.pb.dynamics),
        d_(f_.dim()),
        k_(dyn_.noise_dim_on(f_)),
        m_(dyn_.uniform_dim_on(f_)),
        sd_(dyn_.state_dim(d_)),
        L_(lanes),
        stride_(2 + d_ + sd_),
        max_runs_(max_runs),
        bridge_(sh.cfg.bridge && dyn_.bridge_test()),
        dt_(dyn_.dt()),
        bound_(std::min(sh.cfg.divergence_bound, std::numeric_limits<double>::max())),
        x_(d_, L_),
        xn_(d_, L_),
        g_(d_, L_),
        s_(sd_, L_),
        sn_(sd_, L_),
        key_(L_, 0),
        local_(L_, 0),
        step_(L_, 0),
        slot_(L_, -1),
        rep_(L_, -1),
        held_(L_, 0),
        in_a_(pad(L_), 0),
        in_b_(pad(L_), 0),
        converged_(pad(L_), 0),
        singular_(pad(L_), 0),
        events_(pad(L_), 0),
        pa_(L_, 0.0),
        pb_(L_, 0.0),
        sc_(L_, 0.0),
        max_(L_, 0.0),
        midpoints_(static_cast<std::size_t>(d_) * kRefineLevels),
        normals_(static_cast<std::size_t>(d_)) {
    for (int s = 0; s < QuadDraws::kSteps; ++s) {
      z_[s].resize(k_, L_);
      v_[s].resize(m_, L_);
    }
    u_.assign(L_, 1.0);
    if (bridge_ && !dyn_.diffusion().isotropic) has_root_ = covariance_root(dyn_.diffusion().Sigma, root_);
    x_.setZero();
    s_.setZero();
    xn_.setZero();
    sn_.setZero();
    width_ = std::min(8, L_);
  }

  // Work left: runs held, or runs no thread has taken yet.
  bool has_work() const { return n_runs_ > 0 || sh_.next.load(std::memory_order_relaxed) < sh_.cfg.n_runs; }

  // Take runs up to the thread's share, give waiting continuations free lanes at a quad's start, and advance the
  // block one step.
  void step() {
    admit();
    if (n_runs_ == 0) return;  // the other threads took the last runs
    if (n_active_ == 0) {
      if (waiting() == 0) throw std::logic_error("escapade splitting: a run waits with nothing to run (internal error)");
      phase_ = 0;  // nothing in flight: the next block-step starts a quad
    }
    if (phase_ == 0) assign();
    advance();
  }

 private:
  static int pad(int lanes) { return (lanes + 63) / 64 * 64; }
  std::size_t waiting() const { return pending_.size() - head_; }
  bool draws_anything() const { return k_ > 0 || m_ > 0 || bridge_; }

  double* record(Replica& r, std::size_t i) { return r.records.data() + i * stride_; }
  std::size_t n_records(const Replica& r) const { return r.records.size() / stride_; }

  // Take new runs while the thread holds fewer than max_runs_: each starts N replicas.
  void admit() {
    const SplittingConfig& cfg = sh_.cfg;
    while (n_runs_ < max_runs_) {
      const std::int64_t r = sh_.next.fetch_add(1, std::memory_order_relaxed);
      if (r >= cfg.n_runs) return;
      int slot = 0;
      while (slot < static_cast<int>(runs_.size()) && runs_[slot]) ++slot;
      if (slot == static_cast<int>(runs_.size())) runs_.emplace_back();
      runs_[slot] = std::make_unique<SplitRun>();
      ++n_runs_;
      start_run(slot, r);
    }
  }

  void start_run(int slot, std::int64_t r) {
    const SplittingProblem& pb = sh_.pb;
    const SplittingConfig& cfg = sh_.cfg;
    SplitRun& run = *runs_[slot];
    run.index = r;
    run.recorded = cfg.record_reactive > 0 && cfg.first_run + r == 0;
    recording_ = recording_ || run.recorded;
    const int N = cfg.n_replicas;
    run.replicas.resize(static_cast<std::size_t>(N));
    run.max.assign(static_cast<std::size_t>(N), -std::numeric_limits<double>::infinity());
    const long n_points = pb.start.n_points();
    std::vector<double> x(static_cast<std::size_t>(d_)), st(static_cast<std::size_t>(sd_));
    for (int i = 0; i < N; ++i) {
      Replica& rep = run.replicas[static_cast<std::size_t>(i)];
      std::uint64_t path = static_cast<std::uint64_t>(cfg.first_run + r) * static_cast<std::uint64_t>(N) +
                           static_cast<std::uint64_t>(i);
      if (n_points >= 0) path %= static_cast<std::uint64_t>(n_points);
      pb.start.sample(cfg.seed, path, x.data());
      if (sd_ > 0) dyn_.init_state(x.data(), st.data(), d_);
      if (run.recorded) {
        rep.path.push_back(0.0);
        rep.path.insert(rep.path.end(), x.begin(), x.end());
      }
      if (pb.reactant.contains(x.data())) {
        rep.end = ReplicaEnd::Reactant;
        settle_replica(run, i);
        continue;
      }
      const bool in_b = pb.product.contains(x.data());
      const double s = in_b ? std::numeric_limits<double>::infinity() : pb.score(x.data());
      if (!in_b && !std::isfinite(s)) throw_score(s, "the start " + point(x.data()));
      append(run, i, s, 0, x.data(), st.data());
      if (in_b) {
        rep.end = ReplicaEnd::Product;
        settle_replica(run, i);
        continue;
      }
      launch(run, slot, i);
    }
    if (run.outstanding == 0) iterate(slot);
  }

  void append(SplitRun& run, int i, double score, std::uint64_t step, const double* x, const double* state) {
    std::vector<double>& rec = run.replicas[static_cast<std::size_t>(i)].records;
    const std::size_t n = rec.size();
    rec.resize(n + stride_);
    double* r = rec.data() + n;
    r[0] = score;
    r[1] = static_cast<double>(step);
    std::copy(x, x + d_, r + 2);
    std::copy(state, state + sd_, r + 2 + d_);
    run.max[static_cast<std::size_t>(i)] = score;
  }

  // Replica i's path is over (in A, in B, censored or diverged): its maximum joins the heap.
  void settle_replica(SplitRun& run, int i) {
    run.settled.emplace_back(run.max[static_cast<std::size_t>(i)], i);
    std::push_heap(run.settled.begin(), run.settled.end(), std::greater<>());
  }

  void launch(SplitRun& run, int slot, int replica) {
    run.replicas[static_cast<std::size_t>(replica)].end = ReplicaEnd::Running;
    pending_.push_back({slot, replica, task_key(sh_.cfg.first_run + run.index, run.tasks++)});
    ++run.outstanding;
  }

  // Give the waiting continuations free lanes; each starts at its replica's last record (the branch point).
  void assign() {
    int l = 0;
    while (waiting() > 0) {
      while (l < L_ && slot_[l] >= 0) ++l;
      if (l == L_) break;
      const Task t = pending_[head_++];
      if (head_ == pending_.size()) {  // drained: reuse the storage from the front
        pending_.clear();
        head_ = 0;
      }
      Replica& rep = runs_[t.slot]->replicas[static_cast<std::size_t>(t.replica)];
      const double* rec = record(rep, n_records(rep) - 1);
      slot_[l] = t.slot;
      rep_[l] = t.replica;
      key_[l] = t.key;
      local_[l] = 0;
      step_[l] = static_cast<std::uint64_t>(rec[1]);
      max_[l] = rec[0];
      for (int i = 0; i < d_; ++i) x_(i, l) = rec[2 + i];
      for (int i = 0; i < sd_; ++i) s_(i, l) = rec[2 + d_ + i];
      held_[l] = 1;
      ++n_active_;
      width_ = std::max(width_, std::min(L_, (l + 8) / 8 * 8));
    }
    // Lanes the block steps that never held a replica take a running one's state (its callbacks see it this step
    // anyway): at zeros a user's function may be NaN or raise, which would stop the run for some layouts only.
    int running = 0;
    while (running < width_ && slot_[running] < 0) ++running;
    for (int i = 0; i < width_ && running < width_; ++i) {
      if (held_[i]) continue;
      x_.col(i) = x_.col(running);
      s_.col(i) = s_.col(running);
      held_[i] = 1;
    }
    if (n_active_ <= width_ / 2 && width_ > 8) pack();
  }

  // Move the running lanes to the front and narrow the block (at a quad's start only: draws are per column).
  void pack() {
    int dst = 0;
    for (int l = 0; l < width_; ++l) {
      if (slot_[l] < 0) continue;
      if (dst != l) {
        x_.col(dst) = x_.col(l);
        s_.col(dst) = s_.col(l);
        key_[dst] = key_[l];
        local_[dst] = local_[l];
        step_[dst] = step_[l];
        slot_[dst] = slot_[l];
        rep_[dst] = rep_[l];
        max_[dst] = max_[l];
        slot_[l] = -1;  // idles at the moved replica's state, which lane dst steps from
      }
      ++dst;
    }
    width_ = std::min(L_, std::max(8, (dst + 7) / 8 * 8));
    std::fill(events_.begin() + width_, events_.end(), 0);  // the last pass of lane_events reads whole vectors
  }

  void advance() {
    const SplittingProblem& pb = sh_.pb;
    const SplittingConfig& cfg = sh_.cfg;
    const int w = width_, s = phase_;
    if (s == 0 && draws_anything()) {
      double* const z[] = {z_[0].data(), z_[1].data(), z_[2].data(), z_[3].data()};
      double* const v[] = {v_[0].data(), v_[1].data(), v_[2].data(), v_[3].data()};
      draws_.draw(cfg.seed, key_.data(), local_.data(), w, k_, z, nullptr, m_, v);  // crossing uniforms: below
    }
    const StepInput in{x_.data(), s_.data(), z_[s].data(), v_[s].data(), step_.data(), w, key_.data(), cfg.seed};
    dyn_.advance(f_, in, StepOutput{xn_.data(), sn_.data(), g_.data(), converged_.data(), singular_.data()});
    pb.reactant.contains(xn_.data(), w, in_a_.data());
    pb.product.contains(xn_.data(), w, in_b_.data());
    if (bridge_) {
      const Diffusion& D = dyn_.diffusion();
      pb.reactant.crossing_probability(x_.data(), xn_.data(), w, D, dt_, false, pa_.data());
      pb.product.crossing_probability(x_.data(), xn_.data(), w, D, dt_, false, pb_.data());
      for (int l = 0; l < w; ++l)  // a lane near both sets (rare)
        if (pa_[l] > 0 && pb_[l] > 0 && !in_a_[l] && !in_b_[l])
          merge_parallel_entries(x_.col(l).data(), xn_.col(l).data(), dt_, pa_[l], pb_[l]);
      crossing_uniforms_.draw(cfg.seed, key_.data(), local_.data(), 1, k_, pa_.data(), pb_.data(), w, u_.data());
    }
    pb.score.evaluate(xn_.data(), w, sc_.data());
    x_.swap(xn_);
    s_.swap(sn_);
    hold_idle(w);
    phase_ = (s + 1) % QuadDraws::kSteps;
    if (recording_) record_paths(w);
    lane_events(u_.data(), w);
    if (any_event_) settle(w);
  }

  // Idle lanes are stepped with the block but are no replica's: each is held at the state it had before the step,
  // a point its callbacks already returned finite values at, so that it does not wander off to where a user's S or
  // gradient overflows and stops the run (as the engine's hold_idle).
  void hold_idle(int w) {
    for (int l = 0; l < w; ++l)
      if (slot_[l] < 0) hold(l);
  }

  // Lane l back at its state before the step just taken (xn_, sn_ after the swap).
  void hold(int l) {
    std::copy(xn_.col(l).data(), xn_.col(l).data() + d_, x_.col(l).data());
    if (sd_ > 0) std::copy(sn_.col(l).data(), sn_.col(l).data() + sd_, s_.col(l).data());
  }

  static constexpr std::uint8_t kBad = 1, kReactant = 2, kProduct = 4, kRecord = 8, kCensor = 16;

  // The events of each lane in the step just taken, as flags in events_ (0 for most lanes and steps), and the
  // lane's step counts. Each pass reads one kind of data and vectorizes; the last runs over whole 64-byte vectors.
  void lane_events(const double* __restrict u, int w) {
    const std::uint64_t cap = static_cast<std::uint64_t>(sh_.cfg.max_steps);
    const double bound = bound_;
    const double* __restrict x = x_.data();
    const double* __restrict pa = pa_.data();
    const double* __restrict pb = pb_.data();
    const double* __restrict sc = sc_.data();
    const double* __restrict mx = max_.data();
    const std::uint8_t* __restrict in_a = in_a_.data();
    const std::uint8_t* __restrict in_b = in_b_.data();
    std::uint8_t* __restrict conv = converged_.data();
    std::uint8_t* __restrict sing = singular_.data();
    std::uint8_t* __restrict ev = events_.data();
    std::uint64_t* __restrict step = step_.data();
    std::uint64_t* __restrict local = local_.data();
    const int d = d_;
    for (int l = 0; l < w; ++l) {
      const std::uint64_t st = step[l] + 1;
      step[l] = st;
      local[l] += 1;
      ev[l] = st >= cap ? kCensor : 0;
    }
    if (d == 1) {
      for (int l = 0; l < w; ++l) ev[l] |= std::abs(x[l]) <= bound ? 0 : kBad;
    } else {
      for (int l = 0; l < w; ++l) {
        bool bad = false;
        for (int i = 0; i < d; ++i) bad = bad || !(std::abs(x[static_cast<long>(l) * d + i]) <= bound);
        ev[l] |= bad ? kBad : 0;
      }
    }
    if (bridge_) {  // one uniform for both sets, A first: exact where at most one is likely (else refined below)
      int both = 0;
      for (int l = 0; l < w; ++l) {
        const std::uint8_t a = (in_a[l] | (u[l] < pa[l])) ? kReactant : 0;
        const std::uint8_t b = (in_b[l] | (u[l] < pa[l] + (1.0 - pa[l]) * pb[l])) ? kProduct : 0;
        ev[l] |= static_cast<std::uint8_t>(a | b);
        both |= static_cast<int>(in_a[l] | (pa[l] > kBothLikely)) & static_cast<int>(in_b[l] | (pb[l] > kBothLikely));
      }
      if (both != 0) refine_double_entries(w);  // most block-steps have no such lane
    } else {
      for (int l = 0; l < w; ++l)
        ev[l] |= static_cast<std::uint8_t>((in_a[l] ? kReactant : 0) | (in_b[l] ? kProduct : 0));
    }
    // NaN scores fail the comparison: flagged as a record, where settle() reports them.
    for (int l = 0; l < w; ++l) ev[l] |= sc[l] <= mx[l] ? 0 : kRecord;
    const int wb = pad(w);
    std::uint8_t any = 0;
    for (int l = 0; l < wb; ++l) {
      const std::uint8_t e = static_cast<std::uint8_t>(ev[l] | ((conv[l] | sing[l]) ? kCensor : 0));
      conv[l] = 0;
      sing[l] = 0;
      ev[l] = e;
      any |= e;
    }
    any_event_ = any != 0;
  }

  // A step whose bridge could have entered both A and B (each with probability above kBothLikely, an end inside
  // counting as a sure entry): which came first is not in the two probabilities, and the one uniform above errs
  // where A and B lie within a few steps' spread of each other. The bridge is refined instead, as simulate refines
  // stop and target (bridge.hpp): the first part with an entry decides. Draws: a stream of its own key (the seed
  // mixed with a constant), counter (continuation, step). After the swap: xn_ the step's start, x_ its end.
  void refine_double_entries(int w) {
    const double* pa = pa_.data();
    const double* pb = pb_.data();
    const std::uint8_t* in_a = in_a_.data();
    const std::uint8_t* in_b = in_b_.data();
    const Region& A = sh_.pb.reactant;
    const Region& B = sh_.pb.product;
    const Diffusion& D = dyn_.diffusion();
    const Matrix* R = has_root_ ? &root_ : nullptr;
    auto test = [&](const double* x0, const double* x1, double h, double* p) {
      p[0] = p[1] = 1.0;
      const bool end_a = A.contains(x1), end_b = B.contains(x1);
      if (!end_a) A.crossing_probability(x0, x1, 1, D, h, false, &p[0]);
      if (!end_b) B.crossing_probability(x0, x1, 1, D, h, false, &p[1]);
      if (!end_a && !end_b && p[0] > 0 && p[1] > 0) merge_parallel_entries(x0, x1, h, p[0], p[1]);
      return both_likely(p);
    };
    for (int l = 0; l < w; ++l) {
      // (a finite end past divergence_bound too: such a step is an entry where its bridge made one, see settle)
      if (slot_[l] < 0 || ((events_[l] & kBad) && !x_.col(l).allFinite())) continue;
      const double p = in_a[l] ? 1.0 : pa[l], q = in_b[l] ? 1.0 : pb[l];
      if (!(p > kBothLikely && q > kBothLikely)) continue;
      WordStream ws(sh_.cfg.seed ^ 0xD6E8FEB86659FD93ull, key_[l], local_[l] - 1);
      auto leaf = [&](const double* x0, const double* x1, double h, double, const double* pr) {
        const bool end_a = A.contains(x1), end_b = B.contains(x1);
        auto first = [&] {  // both entered: the earlier entry
          const CrossingPlane ca = A.crossing_plane(x0, x1, D, h, false, 0.5);
          const CrossingPlane cb = B.crossing_plane(x0, x1, D, h, false, 0.5);
          return earlier_crossing(ca, cb, h, ws);
        };
        if (end_a && end_b) return 1;  // (a step's end in both: settle refuses it)
        if (end_a || end_b) {  // its set, unless the chord passed through the other first, or (a finest part, the
                               // other still likely) the other's bridge entered it too, and first
          if (end_a ? passed_first(B, A, x0, x1) : passed_first(A, B, x0, x1)) return end_a ? 2 : 1;
          // the other's faces behind a parallel face of the set entered cannot come first: taken out
          double qa = end_a ? 1.0 : pr[0], qb = end_b ? 1.0 : pr[1];
          if (qa > 0 && qb > 0) merge_parallel_entries(x0, x1, h, qa, qb);
          const double other = end_a ? qb : qa;
          return other > kBothLikely && ws.uniform() < other ? first() : end_a ? 1 : 2;
        }
        return leaf_event(ws.uniform(), pr, first);
      };
      RefineBudget budget = refine_budget(d_, D);
      const int event = refine_bridge(xn_.col(l).data(), x_.col(l).data(), dt_, 0.0, 0, budget, d_, D, R, ws,
                                      midpoints_.data(), normals_.data(), test, leaf);
      events_[l] = static_cast<std::uint8_t>((events_[l] & ~(kReactant | kProduct)) |
                                             (event == 1 ? kReactant : event == 2 ? kProduct : 0));
    }
  }

  // The entry probabilities pa, pb of a step x0 -> x1 over h, both positive, merged where a face of A and one of B
  // have parallel planes facing the same way (merge_parallel_faces): the farther face cannot be entered before the
  // nearer one, and is taken out of its set's probability (B's where they coincide).
  void merge_parallel_entries(const double* x0, const double* x1, double h, double& pa, double& pb) {
    const Diffusion& D = dyn_.diffusion();
    planes_.clear();
    planes_b_.clear();
    sh_.pb.reactant.outside_planes(x0, x1, D, h, planes_);
    sh_.pb.product.outside_planes(x0, x1, D, h, planes_b_);
    merge_parallel_faces(planes_, planes_b_, pa, pb);
  }

  // Whether the chord x0 -> x1, whose end lies in `in`, passed through `other` first (a band thinner than a refined
  // part): a first part inside `other` of positive length that starts before the chord's first part inside `in`.
  // No, where either region does not give its chord.
  bool passed_first(const Region& other, const Region& in, const double* x0, const double* x1) {
    chord_other_.clear();
    if (!other.chord_inside(x0, x1, chord_other_) || chord_other_.empty()) return false;
    const Interval part = chord_other_.front();
    if (!(part.first < part.second)) return false;
    chord_in_.clear();
    if (!in.chord_inside(x0, x1, chord_in_) || chord_in_.empty()) return false;
    return part.first < chord_in_.front().first - 1e-9;
  }

  // Lanes with an event: diverged, entered A (a failure), entered B (a success), a new maximum of the score
  // (recorded: a possible branch point), or censored. Idle lanes are skipped.
  void settle(int w) {
    for (int l = 0; l < w; ++l) {
      if (l % 8 == 0) {  // skip 8 quiet lanes at once (events_ is padded to whole 64-byte vectors)
        std::uint64_t eight;
        std::memcpy(&eight, events_.data() + l, sizeof eight);
        if (eight == 0) {
          l += 7;
          continue;
        }
      }
      const std::uint8_t e = events_[l];
      if (e == 0 || slot_[l] < 0) continue;
      SplitRun& run = *runs_[slot_[l]];
      const double* x = x_.col(l).data();
      const std::uint64_t st = step_[l];
      // a finite end past the bound inside A or B, or whose bridge entered one, is that event, as in the engine
      // (keep_far_exits)
      if ((e & kBad) && !((e & (kReactant | kProduct)) && x_.col(l).allFinite())) {
        ++run.diverged;
        end(l, ReplicaEnd::Diverged);
      } else if (in_a_[l] && in_b_[l]) {  // the step's end in both sets, whichever a refined bridge entered first
        throw std::invalid_argument("reactant and product overlap: both contain the point " + point(x) +
                                    " (they must be disjoint)");
      } else if (e & kReactant) {
        end(l, ReplicaEnd::Reactant);
      } else if (e & kProduct) {
        append(run, rep_[l], std::numeric_limits<double>::infinity(), st, x, s_.col(l).data());
        end(l, ReplicaEnd::Product);
      } else {
        if (e & kRecord) {
          const double sc = sc_[l];
          if (!std::isfinite(sc)) throw_score(sc, point(x));  // +inf stands for "in B": refused elsewhere
          max_[l] = sc;
          append(run, rep_[l], sc, st, x, s_.col(l).data());
        }
        if (e & kCensor) {
          ++run.censored;
          end(l, ReplicaEnd::Censored);
        }
      }
    }
  }

  // The recorded run's paths: every step of its lanes.
  void record_paths(int w) {
    for (int l = 0; l < w; ++l) {
      if (slot_[l] < 0 || !runs_[slot_[l]]->recorded) continue;
      Replica& rep = runs_[slot_[l]]->replicas[static_cast<std::size_t>(rep_[l])];
      rep.path.push_back(static_cast<double>(step_[l] + 1) * dt_);
      rep.path.insert(rep.path.end(), x_.col(l).data(), x_.col(l).data() + d_);
    }
  }

  std::string point(const double* x) const {
    std::ostringstream os;
    os.precision(17);
    os << "x = [";
    for (int i = 0; i < d_; ++i) os << (i ? ", " : "") << x[i];
    os << "]";
    return os.str();
  }

  // Lane l's continuation ended: the replica is settled; a run whose continuations are all settled iterates.
  void end(int l, ReplicaEnd how) {
    const int slot = slot_[l];
    SplitRun& run = *runs_[slot];
    run.replicas[static_cast<std::size_t>(rep_[l])].end = how;
    settle_replica(run, rep_[l]);
    run.steps += static_cast<std::int64_t>(local_[l]);
    // The lane idles at its state before the step, as hold_idle keeps idle lanes: finite, and where its callbacks
    // returned values (not a diverged point, nor one beyond divergence_bound that ended the replica in A or B).
    hold(l);
    slot_[l] = -1;
    --n_active_;
    if (--run.outstanding == 0) iterate(slot);
  }

  // One or more iterations of a run whose replicas are all settled, until some continuation must run or the run
  // is over.
  void iterate(int slot) {
    SplitRun& run = *runs_[slot];
    const SplittingConfig& cfg = sh_.cfg;
    const int N = cfg.n_replicas;
    std::vector<int>& killed = killed_;
    while (run.outstanding == 0) {
      // Every replica is settled, so the heap holds all N: its top is the level, and the replicas at the level
      // come off it (in ascending index order after the sort, which fixes the bits).
      auto& heap = run.settled;
      // The level is the k-th lowest maximum; once it is +inf (at most k - 1 replicas are not in B) the run is over.
      killed.clear();
      double level = -std::numeric_limits<double>::infinity();
      for (int i = 0; i < cfg.k; ++i) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        level = heap.back().first;
        killed.push_back(heap.back().second);
        heap.pop_back();
      }
      if (level == std::numeric_limits<double>::infinity()) return finish(slot, SplittingStatus::Finished);
      while (!heap.empty() && heap.front().first <= level) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        killed.push_back(heap.back().second);
        heap.pop_back();
      }
      std::sort(killed.begin(), killed.end());
      const int K = static_cast<int>(killed.size());
      if (K == N) return finish(slot, SplittingStatus::Extinct);
      if (run.iterations >= cfg.max_iterations) return finish(slot, SplittingStatus::IterationCap);
      const std::uint64_t q = static_cast<std::uint64_t>(run.iterations++);
      run.killed += K;
      run.log_weight += std::log1p(-static_cast<double>(K) / N);
      const std::uint64_t key = selection_key(cfg.first_run + run.index);
      const int S = N - K;
      Words4 words{};
      for (int c = 0; c < K; ++c) {  // killed replica c draws word c % 4 of draw c / 4
        if (c % 4 == 0) words = random_words(cfg.seed, key, q, static_cast<std::uint32_t>(c / 4));
        const double u = open_uniform(words[static_cast<std::size_t>(c % 4)]);
        // The m-th survivor in index order: m plus the killed indices at or before it (killed is ascending).
        int pick = std::min(static_cast<int>(u * S), S - 1);
        for (const int k : killed) {
          if (k > pick) break;
          ++pick;
        }
        branch(run, slot, killed[static_cast<std::size_t>(c)], run.replicas[static_cast<std::size_t>(pick)], level);
      }
    }
  }

  // Replica j becomes a copy of `from` up to its first record above `level` (the first step where from's score
  // exceeded the level), and continues from there (or is in B at once, when that record is the one where `from`
  // was found in B).
  void branch(SplitRun& run, int slot, int j, const Replica& from, double level) {
    Replica& rep = run.replicas[static_cast<std::size_t>(j)];
    // Records rise: bisect for the first above the level (the survivor's maximum is above it).
    std::size_t lo = 0, hi = n_records(from) - 1;
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (from.records[mid * stride_] <= level)
        lo = mid + 1;
      else
        hi = mid;
    }
    const std::size_t i = lo;
    // The copy keeps only the branch record: levels only rise, so the records below this level (the rest of the
    // prefix) can never be a branch point again. O(1) per copy, and a replica's records stay few.
    const double* rec = from.records.data() + i * stride_;
    rep.records.assign(rec, rec + stride_);
    run.max[static_cast<std::size_t>(j)] = rec[0];
    if (run.recorded) {
      const std::size_t upto = (static_cast<std::size_t>(rec[1]) + 1) * static_cast<std::size_t>(1 + d_);
      rep.path.assign(from.path.begin(), from.path.begin() + static_cast<long>(upto));
    }
    if (rec[0] == std::numeric_limits<double>::infinity()) {
      rep.end = ReplicaEnd::Product;
      settle_replica(run, j);
      return;
    }
    if (rec[1] >= static_cast<double>(sh_.cfg.max_steps)) {  // branched at the step cap: censored there too
      rep.end = ReplicaEnd::Censored;
      ++run.censored;
      settle_replica(run, j);
      return;
    }
    launch(run, slot, j);
  }

  void finish(int slot, SplittingStatus status) {
    SplitRun& run = *runs_[slot];
    SplittingResult& out = sh_.out;
    const std::size_t r = static_cast<std::size_t>(run.index);
    std::int32_t reached = 0;
    double time = 0.0;
    for (Replica& rep : run.replicas) {
      if (rep.end != ReplicaEnd::Product) continue;
      ++reached;
      time += record(rep, n_records(rep) - 1)[1] * dt_;
      if (run.recorded && static_cast<int>(out.trajectories.size()) < sh_.cfg.record_reactive) {
        Trajectory tr;
        const std::size_t n = rep.path.size() / static_cast<std::size_t>(1 + d_);
        for (std::size_t k = 0; k < n; ++k) {
          tr.t.push_back(rep.path[k * (1 + d_)]);
          tr.x.insert(tr.x.end(), rep.path.begin() + static_cast<long>(k * (1 + d_) + 1),
                      rep.path.begin() + static_cast<long>((k + 1) * (1 + d_)));
        }
        out.trajectories.push_back(std::move(tr));
      }
    }
    if (status == SplittingStatus::Extinct) reached = 0;
    out.log_weight[r] = run.log_weight;
    out.n_reached[r] = reached;
    out.iterations[r] = run.iterations;
    out.killed[r] = run.killed;
    out.steps[r] = run.steps;
    out.censored[r] = run.censored;
    out.diverged[r] = run.diverged;
    out.status[r] = static_cast<std::int8_t>(status);
    out.reactive_time[r] = reached > 0 ? time / reached : std::numeric_limits<double>::quiet_NaN();
    runs_[slot].reset();
    --n_runs_;
    sh_.finished.fetch_add(1, std::memory_order_relaxed);
  }

  struct Task {
    int slot;
    int replica;
    std::uint64_t key;
  };

  SplitShared& sh_;
  const Landscape& f_;
  const Dynamics& dyn_;
  const int d_, k_, m_, sd_, L_;
  const std::size_t stride_;
  const int max_runs_;
  const bool bridge_;
  const double dt_;
  const double bound_;
  int width_ = 0;  // set in the constructor: min(8, lanes)
  int n_active_ = 0;
  int n_runs_ = 0;
  int phase_ = 0;
  std::vector<std::unique_ptr<SplitRun>> runs_;
  std::vector<Task> pending_;  // continuations waiting for a lane, in order from head_
  std::size_t head_ = 0;
  std::vector<int> killed_;  // iterate's scratch: the replicas at the level, ascending
  Block x_, xn_, g_, s_, sn_;
  Block z_[QuadDraws::kSteps], v_[QuadDraws::kSteps];
  std::vector<double> u_;  // the crossing test's uniforms of the step, where drawn
  CrossingUniforms crossing_uniforms_;
  std::vector<std::uint64_t> key_, local_, step_;
  std::vector<int> slot_, rep_;  // the lane's run slot (-1: idle) and replica
  std::vector<std::uint8_t> held_;  // whether a lane ever held a replica (else it holds zeros: assign)
  std::vector<std::uint8_t> in_a_, in_b_, converged_, singular_, events_;
  bool any_event_ = false;
  bool recording_ = false;  // the thread holds the recorded run
  std::vector<double> pa_, pb_, sc_, max_;
  QuadDraws draws_;
  // refine_double_entries: the midpoints (d per level), their normals, a root of the noise's covariance (where it
  // is anisotropic and has a finite one) and the chords' parts inside A and B
  std::vector<double> midpoints_, normals_;
  Matrix root_;
  bool has_root_ = false;
  std::vector<Interval> chord_other_, chord_in_;
  std::vector<CrossingPlane> planes_, planes_b_;  // merge_parallel_entries' scratch: A's planes and B's
};

}  // namespace detail

inline SplittingResult splitting(const SplittingProblem& pb, const SplittingConfig& cfg_in, const PollFn& poll = {}) {
  validate(pb, cfg_in);
  SplittingConfig cfg = cfg_in;
  if (cfg.threads <= 0) cfg.threads = default_threads();
  cfg.threads = static_cast<int>(std::min<std::int64_t>(cfg.threads, cfg.n_runs));
  // A thread holds at most `lanes` runs at once, and no more than its share, so that every thread gets runs.
  const int max_runs = static_cast<int>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(cfg.lanes, (cfg.n_runs + cfg.threads - 1) / cfg.threads)));
  const std::size_t n = static_cast<std::size_t>(cfg.n_runs);
  SplittingResult out;
  out.bridge = cfg.bridge && pb.dynamics.bridge_test();
  out.log_weight.assign(n, 0.0);
  out.n_reached.assign(n, 0);
  out.iterations.assign(n, 0);
  out.killed.assign(n, 0);
  out.steps.assign(n, 0);
  out.censored.assign(n, 0);
  out.diverged.assign(n, 0);
  out.status.assign(n, static_cast<std::int8_t>(SplittingStatus::Interrupted));
  out.reactive_time.assign(n, std::numeric_limits<double>::quiet_NaN());

  detail::SplitShared sh{pb, cfg, out};
  detail::Poller poller(poll, sh.finished, sh.stop, out.interrupted);
  detail::run_blocks(cfg.threads, sh.stop, poller, [&] { return detail::SplittingBlock(sh, cfg.lanes, max_runs); });
  for (std::int64_t s : out.steps) out.total_steps += s;
  if (!out.interrupted) poller(true);  // the progress bar's last count: the runs finished since the last poll
  return out;
}

}  // namespace escapade
