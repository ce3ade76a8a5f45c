// The ensemble engine: N independent paths of one dynamics, each until its stop rule fires.
//
// Each OpenMP thread owns a block of lanes stored structure-of-arrays (d x lanes, one column per path). One
// block-step is one call each to the generator, the dynamics (which calls the landscape) and the regions, so
// dispatch costs are paid per block and the inner loops vectorize over lanes. A lane whose path ended is
// refilled at once with the next unstarted path, so lanes stay busy when exit times differ by orders of
// magnitude; when the queue runs dry, surviving lanes are packed to the front and the block narrows.
//
// A path's numbers depend only on (seed, path index) and a lane's arithmetic never mixes lanes, so the result
// arrays are bitwise identical for any thread count, block size, refill order or split of the path range.
#pragma once

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "escapade/bridge.hpp"
#include "escapade/dynamics.hpp"
#include "escapade/landscape.hpp"
#include "escapade/region.hpp"
#include "escapade/restart.hpp"
#include "escapade/rng.hpp"
#include "escapade/sensitivity.hpp"
#include "escapade/start.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

constexpr std::int64_t kMaxNoiseRefinement = std::int64_t{1} << 16;

struct RunConfig {
  std::int64_t n_paths = 0;
  std::int64_t first_path = 0;  // run path indices [first_path, first_path + n_paths)
  std::int64_t max_steps = 0;   // a path still running after this many steps is censored
  std::uint64_t seed = 0;
  int threads = 0;              // <= 0: all cores
  int lanes = 64;               // lanes per thread block
  bool bridge = true;           // Brownian-bridge crossing test between steps (continuous-time dynamics only)
  double divergence_bound = 1e8;  // a coordinate beyond this (in absolute value) means diverged
  std::int64_t record_paths = 0;  // record trajectories of paths 0 .. record_paths - 1 (absolute indices)
  std::int64_t record_every = 1;  // every record_every steps (plus the start and the end)
  // For dynamics that keep their own time (Dynamics::time_index >= 0): a path whose time reaches max_time is
  // censored, and no step goes past it.
  double max_time = std::numeric_limits<double>::infinity();
  // r > 1: step n's normals are (1/sqrt r) times the sum of the normals of steps r n .. r n + r - 1 of a run with
  // r = 1 and the same seed (its crossing-test and dynamics' uniforms those of step r n), so that a run at dt with
  // r and a run at dt / r are driven by one Brownian path. Needs a dynamics that draws normals on a fixed step.
  std::int64_t noise_refinement = 1;
  // Likelihood-ratio scores carried per lane (sensitivity.hpp); null: none, and not a bit of the run changes.
  const Sensitivities* sensitivities = nullptr;
};

struct Problem {
  const Landscape& landscape;
  const Dynamics& dynamics;
  const Start& start;
  const Region* stop = nullptr;    // leaving it ends a path: Exited
  const Region* target = nullptr;  // entering it ends a path: Hit
  const Restart* restart = nullptr;  // stochastic resetting of running paths (none: null)
};

struct Trajectory {
  std::vector<double> t;
  std::vector<double> x;  // d values per record
};

struct EnsembleResult {
  int dim = 0;
  std::vector<std::int8_t> status;      // Status per path (Running if the run was interrupted first)
  std::vector<double> exit_time;        // NaN unless Exited or Hit
  std::vector<std::int64_t> exit_step;  // step at which the path ended
  std::vector<double> exit_position;    // d x n_paths; NaN unless Exited or Hit
  std::vector<double> final_position;   // d x n_paths; the state at the last step, whatever the status (NaN where
                                        // a coordinate is not finite, and for paths never finished)
  std::vector<Trajectory> trajectories;
  // With sensitivities (p parameters): per path, p numbers each (path-major): S = sum_n s_n and R = sum_n t_n s_n.
  int n_sensitivities = 0;
  std::vector<double> score_sum, score_time;
  // The face a path left `stop` by (0 .. stop->n_faces() - 1) or entered `target` by (stop->n_faces() + the
  // target's face); -1 unless Exited or Hit.
  std::vector<std::int32_t> exit_face;
  std::int64_t total_steps = 0;         // path-steps executed
  bool interrupted = false;
};

// Called about every 0.1 s from the calling thread with the number of finished paths; returns true to stop.
using PollFn = std::function<bool(std::int64_t finished)>;

// A step's normals and uniforms come from one counter's draws 0 .. 65535 (rng.hpp): the dynamics' noise dimension
// plus their uniforms (SGD-k's and SGLD's batch_size with replacement) must fit.
inline void check_draws_per_step(const Dynamics& dynamics, const Landscape& landscape) {
  const int k = dynamics.noise_dim_on(landscape), u = dynamics.uniform_dim_on(landscape);
  const int most = static_cast<int>(kMaxDraw) + 1;  // each count checked first: their sum may not fit an int
  require(k <= most && u <= most && QuadDraws::n_draws(k, u) <= most, "noise dimension",
          std::to_string(k) + " normals and " + std::to_string(u) + " uniforms per step of " + dynamics.name(),
          "at most 65535 in all (a batch_size or a dimension that large is not supported)");
}

// A dynamics against a landscape, as a run checks it (dimensions, a finite sum for minibatches, the batch size,
// the draws per step): for Python to refuse a run, or a splitting, before it starts.
inline void check_dynamics(const Dynamics& dynamics, const Landscape& landscape) {
  dynamics.check_dim(landscape.dim());
  dynamics.check_landscape(landscape);
  check_draws_per_step(dynamics, landscape);
}

inline void validate(const Problem& pb, const RunConfig& cfg) {
  const int d = pb.landscape.dim();
  require(pb.start.dim() == d, "x0", "of dimension " + std::to_string(pb.start.dim()),
          "of the landscape's dimension " + std::to_string(d));
  pb.dynamics.check_dim(d);
  pb.dynamics.check_landscape(pb.landscape);
  if (pb.stop)
    require(pb.stop->dim() == d, "stop", pb.stop->name() + " of dimension " + std::to_string(pb.stop->dim()),
            "of the landscape's dimension " + std::to_string(d));
  if (pb.target)
    require(pb.target->dim() == d, "target", pb.target->name() + " of dimension " + std::to_string(pb.target->dim()),
            "of the landscape's dimension " + std::to_string(d));
  require(cfg.n_paths >= 1, "n_paths", cfg.n_paths, "a positive integer");
  require(cfg.first_path >= 0, "first_path", cfg.first_path, ">= 0");
  if (pb.start.n_points() >= 0)
    require(cfg.first_path + cfg.n_paths <= pb.start.n_points(), "n_paths", cfg.n_paths,
            "at most the number of starting points (" + std::to_string(pb.start.n_points()) + ")");
  require(cfg.max_steps >= 1 && static_cast<std::uint64_t>(cfg.max_steps) <= kMaxStep, "max_steps", cfg.max_steps,
          "between 1 and 2^48 - 2");
  require(cfg.lanes >= 1 && cfg.lanes <= 4096, "lanes", cfg.lanes, "between 1 and 4096");
  require(cfg.threads <= 4096, "threads", cfg.threads, "at most 4096");
  require(cfg.divergence_bound > 0, "divergence_bound", cfg.divergence_bound, "positive");
  require(cfg.record_paths >= 0, "record_paths", cfg.record_paths, ">= 0");
  require(cfg.record_every >= 1, "record_every", cfg.record_every, ">= 1");
  require(cfg.max_time > 0, "max_time", cfg.max_time, "positive");
  require(cfg.noise_refinement >= 1 && cfg.noise_refinement <= kMaxNoiseRefinement, "noise_refinement",
          cfg.noise_refinement, "between 1 and 65536");
  if (cfg.noise_refinement > 1) {
    require(pb.dynamics.time_index(d) < 0,
            "noise_refinement must be 1 for " + pb.dynamics.name() +
                ", which keeps its own clock (adaptive steps), got " + std::to_string(cfg.noise_refinement));
    require(pb.dynamics.noise_dim_on(pb.landscape) > 0,
            "noise_refinement must be 1 for " + pb.dynamics.name() +
                ", which draws no Gaussian noise (there is no Brownian path to refine), got " +
                std::to_string(cfg.noise_refinement));
    const std::uint64_t most = kMaxStep / static_cast<std::uint64_t>(cfg.noise_refinement);
    require(static_cast<std::uint64_t>(cfg.max_steps) <= most, "max_steps", cfg.max_steps,
            "at most (2^48 - 2) / noise_refinement = " + std::to_string(most) + " with noise_refinement = " +
                std::to_string(cfg.noise_refinement) + " (the noise of that many steps of the refined run)");
  }
  if (cfg.sensitivities) cfg.sensitivities->validate(pb.landscape, pb.dynamics);
  if (pb.stop && pb.stop->reflects()) {
    const std::string why = pb.dynamics.time_index(d) >= 0 ? "keeps its own clock (adaptive steps)"
                            : pb.dynamics.state_dim(d) > 0
                                ? "carries a state (momentum, a state-dependent S(x), ...) that a mirror would "
                                  "not update"
                            : !pb.dynamics.continuous_time() ? "is a discrete optimizer map"
                                                             : "";
    require(why.empty(), "stop has reflecting faces, but " + pb.dynamics.name() + " " + why +
                             ": reflection is defined for SDE integrators (Langevin, LevyLangevin)");
  }
  if (pb.target && pb.target->reflects())
    require(false, "target has reflecting faces: only stop regions reflect (a path never enters a target's wall)");
  if (pb.restart) {
    require(pb.dynamics.time_index(d) < 0,
            "restart needs a fixed step, but " + pb.dynamics.name() + " keeps its own clock (adaptive steps)");
    require(static_cast<std::uint64_t>(cfg.max_steps) <= kMaxStep - 8, "max_steps", cfg.max_steps,
            "at most 2^48 - 10 with restarts");
    pb.restart->rule(pb.dynamics.dt());  // validates the period against dt
    if (pb.restart->to())
      require(pb.restart->to()->dim() == d, "restart",
              "a restart point of dimension " + std::to_string(pb.restart->to()->dim()),
              "of the landscape's dimension " + std::to_string(d));
  }
  check_draws_per_step(pb.dynamics, pb.landscape);
}

namespace detail {

// Shared state of one run; every path writes only its own slots.
struct RunState {
  const Problem& pb;
  const RunConfig& cfg;
  EnsembleResult& out;
  std::atomic<std::int64_t> next{0};      // next unstarted path (relative to first_path)
  std::atomic<std::int64_t> finished{0};  // paths retired
  std::atomic<bool> stop{false};          // interrupt or error: every thread leaves at its next block-step
};

class LaneBlock {
 public:
  LaneBlock(RunState& rs, int lanes)
      : rs_(rs),
        f_(rs.pb.landscape),
        dyn_(rs.pb.dynamics),
        d_(f_.dim()),
        k_(dyn_.noise_dim_on(f_)),
        m_(dyn_.uniform_dim_on(f_)),
        sd_(dyn_.state_dim(d_)),
        L_(lanes),
        bridge_(rs.cfg.bridge && (dyn_.bridge_test() || dyn_.lane_diffusion()) && (rs.pb.stop || rs.pb.target)),
        lane_D_(dyn_.lane_diffusion()),
        dt_(dyn_.dt()),
        ti_(dyn_.time_index(d_)),
        dense_(dyn_.has_dense_output()),
        bound_(std::min(rs.cfg.divergence_bound, std::numeric_limits<double>::max())),
        r_(static_cast<int>(rs.cfg.noise_refinement)),
        x_(d_, L_),
        x_next_(d_, L_),
        g_(d_, L_),
        s_(sd_, L_),
        s_next_(sd_, L_),
        xe_(d_, L_),
        path_(L_, 0),
        step_(L_, 0),
        active_(byte_lanes(L_), 0),
        ended_(byte_lanes(L_), kRunning),
        in_stop_(byte_lanes(L_), 1),
        in_target_(byte_lanes(L_), 0),
        flags_(byte_lanes(L_), 0),
        converged_(byte_lanes(L_), 0),
        singular_(byte_lanes(L_), 0),
        p_stop_(L_, 0.0),
        p_target_(L_, 0.0),
        event_hi_(L_, 1.0),
        probe_(d_),
        chord_point_(d_),
        corner_point_(d_),
        normal_(d_),
        sigma_n_(d_),
        spread_(d_),
        exit_point_(d_),
        line_exit_(d_),
        unmoved_(d_),
        te_(L_, std::numeric_limits<double>::quiet_NaN()),
        refined_(L_, 0),
        unrefined_(L_, kRunning),
        unrefined_flags_(L_, 0),
        leaf_a_(d_, L_),
        leaf_b_(d_, L_),
        leaf_t_(L_, 0.0),
        leaf_h_(L_, 0.0),
        leaf_words_(L_),
        midpoints_(static_cast<std::size_t>(d_) * (kRefineLevels + 1)),
        face_(L_, -1),
        reflect_(rs.pb.stop != nullptr && rs.pb.stop->reflects()),
        refine_(bridge_ && !dense_ && rs.pb.stop && rs.pb.target),
        // (not behind walls: a target's face on a wall is no edge)
        refine_edges_(refine_ && !reflect_ && rs.pb.target->has_edges()),
        walled_target_(reflect_ && bridge_ && !dense_ && rs.pb.target != nullptr),
        sens_(rs.cfg.sensitivities),
        np_(sens_ ? sens_->size() : 0) {
    if (rs.pb.restart) {
      restart_rule_ = rs.pb.restart->rule(dt_);
      restart_words_.resize(static_cast<std::size_t>(L_));
      if (r_ > 1 && !restart_rule_.every) fine_restart_rule_ = rs.pb.restart->rule(dt_ / r_);
    }
    if (np_ > 0) {
      ssum_.setZero(L_, np_);
      stime_.setZero(L_, np_);
      sdot_.assign(static_cast<std::size_t>(L_), 0.0);
      snoise_.assign(static_cast<std::size_t>(L_), 0.0);
      spair_.assign(static_cast<std::size_t>(L_), 0.0);
      if (sens_->M.size() > 0) smz_.resize(d_, L_);
      if (sens_->any_pair()) {
        xp_.resize(d_, L_);
        xm_.resize(d_, L_);
        gp_.resize(d_, L_);
        sp_.resize(sd_, L_);
        fp_.assign(byte_lanes(L_), 0);
        fs_.assign(byte_lanes(L_), 0);
      }
    }
    for (int s = 0; s < QuadDraws::kSteps; ++s) {
      z_[s].resize(k_, L_);
      v_[s].resize(m_, L_);
      if (r_ > 1) {
        zf_[s].resize(k_, L_);
        vf_[s].resize(m_, L_);
      }
    }
    if (r_ > 1) fine_step_.assign(L_, 0);
    if (bridge_) u_.assign(L_, 1.0);
    if (walled_target_) {
      free_end_.resize(d_, L_);
      free_bridge_.assign(static_cast<std::size_t>(L_), 0);
      mirrored_.assign(static_cast<std::size_t>(L_), 0);
      fold_a_.resize(static_cast<std::size_t>(d_));
      fold_b_.resize(static_cast<std::size_t>(d_));
    }
    x_.setZero();
    for (int l = 0; l < L_; ++l) refill(l);
  }

  // Work left: running lanes, or unstarted paths (a lane may be waiting for the start of the next quad).
  bool has_work() const { return n_active_ > 0 || rs_.next.load(std::memory_order_relaxed) < rs_.cfg.n_paths; }

  // One block-step. The first block-step of each quad draws the random numbers of the steps 4q .. 4q + 3 of
  // every lane (QuadDraws); the next three read the cache. A lane's step count is therefore kept in phase with
  // the block: paths start only before the first block-step of a quad, and a freed lane waits up to three
  // block-steps (a path costs at most 3 idle lane-steps, nothing in results). Dynamics that draw nothing start
  // paths at once.
  void step() {
    const int w = width_;
    const RunConfig& cfg = rs_.cfg;
    const int s = phase_;
    if (s == 0 && draws_anything()) {
      double* const z[] = {z_[0].data(), z_[1].data(), z_[2].data(), z_[3].data()};
      double* const v[] = {v_[0].data(), v_[1].data(), v_[2].data(), v_[3].data()};
      if (r_ == 1)
        draws_.draw(cfg.seed, path_.data(), step_.data(), w, k_, z, nullptr, m_, v);  // crossing uniforms: below
      else
        draw_refined(w);
    }
    const StepInput in{x_.data(), s_.data(), z_[s].data(), v_[s].data(), step_.data(), w, path_.data(), cfg.seed,
                       cfg.max_time};
    dyn_.advance(f_, in, StepOutput{x_next_.data(), s_next_.data(), g_.data(), converged_.data(), singular_.data()});
    if (np_ > 0) accumulate_scores(in);
    if (walled_target_) std::copy(x_next_.data(), x_next_.data() + static_cast<long>(d_) * w, free_end_.data());
    if (reflect_) rs_.pb.stop->reflect(x_next_.data(), w);
    if (rs_.pb.stop) rs_.pb.stop->contains(x_next_.data(), w, in_stop_.data());
    if (rs_.pb.target) rs_.pb.target->contains(x_next_.data(), w, in_target_.data());
    if (bridge_ && lane_D_) {
      lane_crossing_probabilities(w);
    } else if (bridge_) {
      const Diffusion& D = dyn_.diffusion();
      if (rs_.pb.stop) rs_.pb.stop->crossing_probability(x_.data(), x_next_.data(), w, D, dt_, true, p_stop_.data());
      if (rs_.pb.target)
        rs_.pb.target->crossing_probability(x_.data(), x_next_.data(), w, D, dt_, false, p_target_.data());
      if (rs_.pb.stop && rs_.pb.target)
        for (int l = 0; l < w; ++l) merge_shared_boundary(l, D);
    }
    if (walled_target_) free_steps(w);
    if (bridge_)
      crossing_uniforms_.draw(cfg.seed, path_.data(), step_.data(), static_cast<std::uint64_t>(r_), k_,
                              p_stop_.data(), p_target_.data(), w, u_.data());
    classify(u_.data(), w);
    if (any_ended_ && rs_.pb.stop && rs_.pb.target) order_double_crossings(w);
    x_.swap(x_next_);
    s_.swap(s_next_);
    phase_ = (s + 1) % QuadDraws::kSteps;
    if (dense_ && ti_ >= 0 && (rs_.pb.stop || rs_.pb.target)) check_inside_steps(w);
    if (dense_ && any_ended_) locate_events(w);
    if (refine_) refine_double_crossings(w);
    if (walled_target_ && any_ended_) free_bridge_leaves(w);
    if (bridge_ && any_ended_) locate_crossings(w);
    if (recording_ > 0) record_all();
    if (any_ended_) {
      for (int l = 0; l < w; ++l)
        if (ended_[l] != kRunning) {
          find_face(l, x_next_.col(l).data(), x_.col(l).data());
          retire(l, static_cast<Status>(ended_[l]));
        }
      for (int l = 0; l < w; ++l) ended_[l] = kRunning;  // classify may leave it untouched next time
    }
    if (n_active_ < w) hold_idle(w);
    if (rs_.pb.restart) restart_lanes(w);
    const bool queue_open = rs_.next.load(std::memory_order_relaxed) < cfg.n_paths;
    const bool quad_start = phase_ == 0 || !draws_anything();
    if (quad_start && queue_open && n_active_ < width_) {
      for (int l = 0; l < w; ++l)
        if (!active_[l]) refill(l);
    }
    // Pack only at the start of a quad: the other block-steps read each column's cached draws. A costly
    // landscape packs as soon as 8 lanes can go.
    const bool narrow = f_.keep_blocks_dense() ? (n_active_ + 7) / 8 * 8 < width_ : n_active_ <= width_ / 2;
    if (quad_start && !queue_open && narrow && width_ > 8) pack();
  }

 private:
  static constexpr std::int8_t kRunning = static_cast<std::int8_t>(Status::Running);
  static constexpr double kSameCrossing = 1e-9;  // order_double_crossings: one boundary, given to both regions

  bool draws_anything() const { return k_ > 0 || m_ > 0 || bridge_; }

  // The quad's draws with noise_refinement r > 1. The coarse steps 4q .. 4q + 3 of a lane are the fine steps
  // 4qr .. 4qr + 4r - 1 of a run with r = 1, that is its quads qr + j (j < r), drawn here one at a time with the
  // fine step count r * step + 4 j (step = 4q at a quad's start). Fine step 4qr + f (f = 4 j + s', s' its step in
  // fine quad j) belongs to coarse step 4q + f / r: its normals are added to that step's, in order of f, then
  // the sums are scaled by 1 / sqrt(r); the fine step with f % r == 0 (fine step r n of coarse step n) gives the
  // crossing-test and dynamics' uniforms.
  void draw_refined(int w) {
    const RunConfig& cfg = rs_.cfg;
    const std::uint64_t r = static_cast<std::uint64_t>(r_);
    const std::size_t nz = static_cast<std::size_t>(k_) * w, nv = static_cast<std::size_t>(m_) * w;
    for (int s = 0; s < QuadDraws::kSteps; ++s) std::fill(z_[s].data(), z_[s].data() + nz, 0.0);
    double* const zf[] = {zf_[0].data(), zf_[1].data(), zf_[2].data(), zf_[3].data()};
    double* const vf[] = {vf_[0].data(), vf_[1].data(), vf_[2].data(), vf_[3].data()};
    for (int j = 0; j < r_; ++j) {
      for (int l = 0; l < w; ++l) fine_step_[l] = r * step_[l] + QuadDraws::kSteps * static_cast<std::uint64_t>(j);
      draws_.draw(cfg.seed, path_.data(), fine_step_.data(), w, k_, zf, nullptr, m_, vf);
      for (int sf = 0; sf < QuadDraws::kSteps; ++sf) {
        const int f = QuadDraws::kSteps * j + sf, s = f / r_;
        double* __restrict zs = z_[s].data();
        const double* __restrict zfs = zf[sf];
        for (std::size_t i = 0; i < nz; ++i) zs[i] += zfs[i];
        if (f % r_ != 0) continue;
        std::copy(vf[sf], vf[sf] + nv, v_[s].data());
      }
    }
    const double scale = 1.0 / std::sqrt(static_cast<double>(r_));
    for (int s = 0; s < QuadDraws::kSteps; ++s)
      for (std::size_t i = 0; i < nz; ++i) z_[s].data()[i] *= scale;
  }

  // The bridge's crossing probabilities lane by lane, each with its step's covariance (lane_diffusion: read from
  // the lane's state after the step, frozen at the step's start).
  void lane_crossing_probabilities(int w) {
    for (int l = 0; l < w; ++l) {
      dyn_.step_diffusion(s_next_.col(l).data(), d_, lane_diffusion_);
      const double *x0 = x_.col(l).data(), *x1 = x_next_.col(l).data();
      if (rs_.pb.stop) rs_.pb.stop->crossing_probability(x0, x1, 1, lane_diffusion_, dt_, true, &p_stop_[l]);
      if (rs_.pb.target) rs_.pb.target->crossing_probability(x0, x1, 1, lane_diffusion_, dt_, false, &p_target_[l]);
      if (rs_.pb.stop && rs_.pb.target) merge_shared_boundary(l, lane_diffusion_);
    }
  }

  // Behind reflecting walls a step's end is the free step's end mirrored back (the symmetrized Euler scheme), and the
  // reflected path is the free path folded at the walls: the free path itself up to the first wall it meets. A step
  // whose end was mirrored, and whose free step (from its start to the free end, free_end_) surely entered the target
  // on its way (the free end in the target, or the free chord through it, first entering it inside the walls), has
  // entered it: p_target 1, the hit placed on the free step (free_bridge_, free_bridge_leaves). The bridge between the
  // start and the mirrored end missed such a target: a band 0.01 wide along a wall, from 0.5 in (0, 1), was entered
  // 0.4869 of the time for 0.5051 at dt = 0.05. Other steps keep the mirrored step's test (the free bridge alone would
  // miss the target's mirror image, which the folded path meets where the free path meets the image); a refined step
  // is the free step, each part tested where it folds to (refine). Before the swap: x_ the step's start, x_next_ its
  // mirrored end; mirrored_ marks the lanes whose end the walls moved.
  void free_steps(int w) {
    const Region& target = *rs_.pb.target;
    for (int l = 0; l < w; ++l) {
      free_bridge_[l] = mirrored_[l] = 0;
      const double *x0 = x_.col(l).data(), *x1 = x_next_.col(l).data(), *free = free_end_.col(l).data();
      if (!active_[l] || std::equal(free, free + d_, x1)) continue;  // not mirrored
      mirrored_[l] = 1;
      if (in_target_[l] || !in_stop_[l] || !free_end_.col(l).allFinite()) continue;  // the mirrored end decides
      const double inside = target.contains(free) ? 1.0 : chord_passage(false, x0, free);
      if (inside < 0) continue;  // the mirrored step's test (the free path may meet the target's mirror image)
      chord_crossing(false, x0, free, line_exit_.data(), inside);
      if (beyond_walls(line_exit_.data())) continue;  // a target poking out of the walls, entered out there
      p_target_[l] = 1.0;
      free_bridge_[l] = 1;
    }
  }

  // The lanes of free_steps that are HIT and not refined: the hit is placed on the free step (as on a refined part),
  // its spread mirrored back as any crossing's behind walls. After the swap.
  void free_bridge_leaves(int w) {
    const auto free_hit = [&](int l) {
      return free_bridge_[l] && ended_[l] == static_cast<std::int8_t>(Status::Hit) && !(any_refined_ && refined_[l]);
    };
    bool any = false;
    for (int l = 0; l < w && !any; ++l) any = free_hit(l);
    if (!any) return;
    if (!any_refined_) std::fill(refined_.begin(), refined_.begin() + w, std::uint8_t{0});
    any_refined_ = true;
    for (int l = 0; l < w; ++l) {
      if (!free_hit(l)) continue;
      refined_[l] = 1;
      unrefined_[l] = ended_[l];
      unrefined_flags_[l] = flags_[l];
      leaf_a_.col(l) = x_next_.col(l);
      leaf_b_.col(l) = free_end_.col(l);
      leaf_t_[l] = 0.0;
      leaf_h_[l] = dt_;
      leaf_words_[l] = crossing_words(rs_.cfg.seed, path_[l], step_[l] - 1);
    }
  }

  // A lane near both stop's and target's boundaries (rare): their crossings merged where two of their faces have
  // parallel planes (merge_faces), so that one boundary given twice is crossed once.
  void merge_shared_boundary(int l, const Diffusion& D) {
    if (!(p_stop_[l] > 0 && p_target_[l] > 0)) return;
    merge_faces(x_.col(l).data(), x_next_.col(l).data(), dt_, D, p_stop_[l], p_target_[l]);
  }

  // ps, pt of the step x0 -> x1 over h merged face by face (merge_parallel_faces): a face of one set behind a
  // parallel face of the other, facing the same way, is taken out of its set's probability.
  // (stop_out, target_out, when given: which of stop's faces, in stop_planes_, and of the target's, in
  // target_planes_, were taken out.)
  void merge_faces(const double* x0, const double* x1, double h, const Diffusion& D, double& ps, double& pt,
                   std::vector<char>* stop_out = nullptr, std::vector<char>* target_out = nullptr) {
    stop_planes_.clear();
    target_planes_.clear();
    rs_.pb.stop->inside_planes(x0, x1, D, h, stop_planes_);
    rs_.pb.target->outside_planes(x0, x1, D, h, target_planes_);
    merge_parallel_faces(stop_planes_, target_planes_, ps, pt, stop_out, target_out);
  }

  // A crossing of the step x0 -> x1 drawn with its set's merged probability (merge_faces took out a face of that
  // set behind a parallel face of the other: the path reaches it only through the other) is placed on one of the
  // set's other faces, chosen by u among them as first_crossed chooses (the independent faces the merged probability
  // counts): an exit on stop's, a hit on the target's (a target on both sides of stop's face that shares one
  // boundary with stop: a hit drawn for its other side is not placed on the shared face). `plane`, crossing_plane's
  // choice, is replaced only where a face was taken out: every other crossing keeps its bits.
  void off_merged_faces(bool exited, const double* x0, const double* x1, double h, const Diffusion& D, double u,
                        CrossingPlane& plane) {
    const Region* target = rs_.pb.target;
    if (!target || !rs_.pb.stop || !rs_.pb.stop->contains(x1) || target->contains(x1)) return;  // (as the test merges)
    double ps = 1.0, pt = 1.0;  // (the other set's probability: merged only where it is positive)
    if (exited) {
      target->crossing_probability(x0, x1, 1, D, h, false, &pt);
    } else {
      rs_.pb.stop->crossing_probability(x0, x1, 1, D, h, true, &ps);
    }
    if (!(ps > 0 && pt > 0)) return;
    merge_faces(x0, x1, h, D, ps, pt, exited ? &taken_out_ : nullptr, exited ? nullptr : &taken_out_);
    if (std::find(taken_out_.begin(), taken_out_.end(), 1) == taken_out_.end()) return;
    std::vector<CrossingPlane>& planes = exited ? stop_planes_ : target_planes_;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < planes.size(); ++i)
      if (!taken_out_[i]) planes[kept++] = planes[i];
    planes.resize(kept);
    if (kept > 0) plane = first_crossed(planes, u);
  }

  // Whether a hit of the step x0 -> x1 over h, placed at xe by the target's plane c, crossed a boundary stop shares:
  // xe on stop's boundary (to a placement's tolerance) and c one of stop's planes (same_plane). It is an exit then,
  // as where the two coincide everywhere else; the plane test alone would take a union member's plane for stop's
  // boundary where it runs inside stop. Not behind walls, whose faces are no exits (a target's face on an absorbing
  // face of a stop with walls elsewhere is left as it was). The point first: most hits lie off stop's boundary.
  bool hit_on_shared_face(const double* x0, const double* x1, double h, const Diffusion& D, const CrossingPlane& c,
                          const double* xe, double reach) {
    if (!rs_.pb.stop || reflect_ || !on_stop_boundary(xe, reach)) return false;
    stop_planes_.clear();
    rs_.pb.stop->inside_planes(x0, x1, D, h, stop_planes_);
    return std::any_of(stop_planes_.begin(), stop_planes_.end(),
                       [&](const CrossingPlane& f) { return same_plane(f, c); });
  }

  // The score of the step just computed (x_ -> x_next_, normals in.z, gradient at x_ in g_) added to each lane's
  // S and Q (sensitivity.hpp; retire turns Q into R = sum_n t_n s_n, t_n = n dt the time at the step's start).
  void accumulate_scores(const StepInput& in) {
    const int w = in.width, k = k_, d = d_;
    const double* z = in.z;
    const Sensitivities& S = *sens_;
    const bool has_m = S.M.size() > 0;
    // M z per lane (d numbers), or z itself.
    const double* mz = z;
    if (has_m) {  // each entry summed in index order: the same bits at every instruction-set level
      const long dm = S.M.rows();
      const double* __restrict m = S.M.data();
      double* __restrict out = smz_.data();
      for (int l = 0; l < w; ++l) {
        const double* __restrict zl = z + static_cast<long>(l) * k;
        for (long i = 0; i < dm; ++i) {
          double a = 0.0;
          for (int j = 0; j < k; ++j) a += m[i + j * dm] * zl[j];
          out[static_cast<long>(l) * dm + i] = a;
        }
      }
      mz = out;
    }
    // The common case (one-dimensional noise, gradient form only): one fused pass per parameter.
    if (d == 1 && k == 1 && !has_m && !S.any_noise() && !S.any_pair()) {
      const double* __restrict g = g_.data();
      const double* __restrict zz = z;
      for (int j = 0; j < np_; ++j) {
        const double cg = S.params[static_cast<std::size_t>(j)].c_grad;
        double* __restrict acc = ssum_.col(j).data();
        double* __restrict qacc = stime_.col(j).data();
        for (int l = 0; l < w; ++l) {
          const double a = acc[l] + cg * (g[l] * zz[l]);
          acc[l] = a;
          qacc[l] += a;
        }
      }
      return;
    }
    double* __restrict dot = sdot_.data();
    if (S.any_grad()) {
      const double* __restrict g = g_.data();
      if (d == 1) {
        for (int l = 0; l < w; ++l) dot[l] = g[l] * mz[l];
      } else {
        for (int l = 0; l < w; ++l) {
          double a = 0;
          for (int i = 0; i < d; ++i) a += g[l * d + i] * mz[l * d + i];
          dot[l] = a;
        }
      }
    }
    double* __restrict nz = snoise_.data();
    if (S.any_noise()) {
      for (int l = 0; l < w; ++l) {
        double a = 0;
        for (int i = 0; i < k; ++i) a += z[l * k + i] * z[l * k + i];
        nz[l] = a - k;
      }
    }
    for (int j = 0; j < np_; ++j) {
      const SensitivityParam& p = S.params[static_cast<std::size_t>(j)];
      double* __restrict pr = spair_.data();
      if (p.c_pair != 0.0) {
        std::fill(fp_.begin(), fp_.end(), 0);
        std::fill(fs_.begin(), fs_.end(), 0);
        const Dynamics& dp = p.dyn_plus ? *p.dyn_plus : dyn_;
        const Dynamics& dm = p.dyn_minus ? *p.dyn_minus : dyn_;
        const Landscape& lp = p.land_plus ? *p.land_plus : f_;
        const Landscape& lm = p.land_minus ? *p.land_minus : f_;
        dp.advance(lp, in, StepOutput{xp_.data(), sp_.data(), gp_.data(), fp_.data(), fs_.data()});
        std::fill(fp_.begin(), fp_.end(), 0);
        std::fill(fs_.begin(), fs_.end(), 0);
        dm.advance(lm, in, StepOutput{xm_.data(), sp_.data(), gp_.data(), fp_.data(), fs_.data()});
        const double* a = xp_.data();
        const double* b = xm_.data();
        for (int l = 0; l < w; ++l) {
          double s = 0;
          for (int i = 0; i < d; ++i) s += (a[l * d + i] - b[l * d + i]) * mz[l * d + i];
          pr[l] = s;
        }
      }
      // S += s_n, then Q += S: Q = sum_n (N - n) s_n after N steps (see retire).
      const double cg = p.c_grad, cn = p.c_noise, cp = p.c_pair;
      double* __restrict acc = ssum_.col(j).data();
      double* __restrict qacc = stime_.col(j).data();
      if (cn == 0.0 && cp == 0.0) {
        for (int l = 0; l < w; ++l) {
          const double a = acc[l] + cg * dot[l];
          acc[l] = a;
          qacc[l] += a;
        }
        continue;
      }
      for (int l = 0; l < w; ++l) {
        const double a = acc[l] + ((cg * dot[l] + cn * nz[l]) + cp * pr[l]);
        acc[l] = a;
        qacc[l] += a;
      }
    }
  }

  static int byte_lanes(int lanes) { return (lanes + 63) / 64 * 64; }  // size of the per-lane byte arrays

  // A coordinate past the divergence bound, or non-finite: NaN and infinities fail the comparison with the
  // (finite) effective bound even when the user's bound is infinite. classify() inlines the same test.
  bool diverged(double a) const { return !(std::abs(a) <= bound_); }

  // kThrough: set after classify by order_double_crossings, for a step ordered by its chord (a HIT through a thin
  // target, an EXIT through a hole of stop), which locate_crossings places where the chord crossed. kFar: a step
  // past the bound kept for its bridge crossing (keep_far_exits), diverged if locate_crossings drops the crossing.
  static constexpr std::uint8_t kBad = 1, kCapped = 2, kBridgeExit = 4, kBridgeHit = 8, kThrough = 16, kFar = 32;
  // The status of each lane from its flags (the final pass of classify); returns how many lanes ended. A
  // function of its own so that the restrict parameters spare the loop run-time alias checks.
  static int lane_status(int w, const std::uint8_t* __restrict flags, const std::uint8_t* __restrict in_stop,
                         const std::uint8_t* __restrict in_target, const std::uint8_t* __restrict active,
                         std::uint8_t* __restrict converged, std::uint8_t* __restrict singular,
                         std::int8_t* __restrict ended_out) {
    constexpr std::int8_t censored = static_cast<std::int8_t>(Status::Censored),
                          hit = static_cast<std::int8_t>(Status::Hit), exited = static_cast<std::int8_t>(Status::Exited),
                          diverged = static_cast<std::int8_t>(Status::Diverged);
    int ended = 0;
    for (int l = 0; l < w; ++l) {
      const std::uint8_t f = flags[l];
      std::int8_t s = (f & kCapped) ? censored : kRunning;
      s = (f & kBridgeHit) ? hit : s;
      s = (f & kBridgeExit) ? exited : s;
      s = in_target[l] ? hit : s;
      s = in_stop[l] ? s : exited;
      s = converged[l] ? static_cast<std::int8_t>(Status::Converged) : s;
      s = singular[l] ? static_cast<std::int8_t>(Status::Singular) : s;
      s = (f & kBad) ? diverged : s;
      s = active[l] ? s : kRunning;
      converged[l] = 0;
      singular[l] = 0;
      ended_out[l] = s;
      ended += s != kRunning;
    }
    return ended;
  }

  // ended_[l] = how lane l's path ended at this step (kRunning if it goes on); branch-free so it vectorizes.
  // Between block-steps ended_ is all kRunning.
  // Priority: diverged, singular, converged, left `stop`, entered `target`, bridge exit, bridge hit, step cap; a
  // finite end past the bound that left `stop` or entered `target` is not diverged (keep_far_exits).
  // Two passes: the per-lane tests on doubles and step counts give one byte of flags (kBad, kCapped,
  // kBridgeExit, kBridgeHit), then one pass over bytes gives the status. The dynamics' converged and singular
  // flags are reset to 0 there for the next step.
  void classify(const double* u, int w) {
    // Local restrict pointers: byte-sized stores could otherwise alias the vectors' own pointers and block
    // vectorization.
    const std::uint64_t cap = static_cast<std::uint64_t>(rs_.cfg.max_steps);
    const double bound = bound_;
    const double* __restrict xn = x_next_.data();
    const double* __restrict ps = p_stop_.data();
    const double* __restrict pt = p_target_.data();
    std::uint64_t* __restrict step = step_.data();
    std::uint8_t* __restrict flags = flags_.data();
    const std::uint8_t* __restrict in_stop = in_stop_.data();
    const std::uint8_t* __restrict in_target = in_target_.data();
    const std::uint8_t* __restrict active = active_.data();
    std::uint8_t* __restrict converged = converged_.data();
    std::uint8_t* __restrict singular = singular_.data();
    std::int8_t* __restrict ended_out = ended_.data();
    const int d = d_;
    if (d == 1) {
      for (int l = 0; l < w; ++l) {
        const std::uint64_t st = step[l] + 1;
        step[l] = st;
        const std::uint8_t c = st >= cap ? kCapped : 0;
        flags[l] = std::abs(xn[l]) <= bound ? c : static_cast<std::uint8_t>(c | kBad);
      }
    } else {
      for (int l = 0; l < w; ++l) {
        int b = 0;  // no short circuit: the test of all d coordinates vectorizes
        for (int i = 0; i < d; ++i) b |= !(std::abs(xn[static_cast<long>(l) * d + i]) <= bound);
        flags[l] = b ? kBad : 0;
      }
      for (int l = 0; l < w; ++l) {
        const std::uint64_t st = step[l] + 1;
        step[l] = st;
        flags[l] |= st >= cap ? kCapped : 0;
      }
    }
    if (ti_ >= 0) {  // the dynamics' own time against the time cap
      const double t_cap = rs_.cfg.max_time;
      for (int l = 0; l < w; ++l) flags[l] |= s_next_(ti_, l) >= t_cap ? kCapped : 0;
    }
    if (bridge_) {  // the crossing test draws one uniform for both regions
      for (int l = 0; l < w; ++l) {
        const std::uint8_t e = u[l] < ps[l] ? kBridgeExit : 0;
        const std::uint8_t h = u[l] < ps[l] + (1.0 - ps[l]) * pt[l] ? kBridgeHit : 0;
        flags[l] |= static_cast<std::uint8_t>(e | h);
      }
    }
    // Most block-steps end no path and raise no flag: then ended_ keeps its all-kRunning state (step() restores
    // it after retiring lanes) and the status pass is skipped. A dynamics' flag on an idle lane still counts,
    // so that the pass resets it. Both byte passes run over whole 64-byte vectors, which spares them a scalar
    // tail of up to 63 lanes: lanes past w are inactive and carry no dynamics flag.
    const int wb = byte_lanes(w);
    std::uint8_t any = 0;
    for (int l = 0; l < wb; ++l) {
      const std::uint8_t e = flags[l] | in_target[l] | static_cast<std::uint8_t>(in_stop[l] == 0);
      any |= static_cast<std::uint8_t>((active[l] ? e : 0) | converged[l] | singular[l]);
    }
    int ended = 0;
    if (any) {
      keep_far_exits(w);
      ended = lane_status(wb, flags, in_stop, in_target, active, converged, singular, ended_out);
    }
    any_ended_ = ended > 0;
  }

  // A step that lands past divergence_bound, at a finite point outside `stop` or inside `target`, has left: the
  // path exited or hit there (a jump of heavy-tailed noise, an unstable step's last one), as it would have a hair
  // inside the bound; so has one whose bridge crossed either boundary on the way (kFar). Diverged is a non-finite
  // state, or one past the bound still inside `stop` and outside `target` that the bridge did not see leave.
  void keep_far_exits(int w) {
    for (int l = 0; l < w; ++l) {
      const std::uint8_t f = flags_[l];
      if (!(f & kBad) || !x_next_.col(l).allFinite()) continue;
      if (in_stop_[l] == 0 || in_target_[l]) {
        flags_[l] = static_cast<std::uint8_t>(f & ~kBad);
      } else if (f & (kBridgeExit | kBridgeHit)) {
        flags_[l] = static_cast<std::uint8_t>((f & ~kBad) | kFar);
      }
    }
  }

  std::int64_t relative(int l) const { return static_cast<std::int64_t>(path_[l]) - rs_.cfg.first_path; }
  bool is_recorded(int l) const {
    return active_[l] && static_cast<std::int64_t>(path_[l]) < rs_.cfg.record_paths;
  }

  // Lane l's time: step * dt, or the dynamics' own clock.
  double time_of(int l) const { return ti_ >= 0 ? s_(ti_, l) : static_cast<double>(step_[l]) * dt_; }

  // An adaptive step grows long where the path is smooth, and a visit to the target (or outside `stop`) that
  // starts and ends inside one step is invisible at its ends: each accepted step's dense output is also tested at
  // kInterior - 1 points inside it, and the first one in the event's region ends the path there (event_hi_, the
  // bracket locate_events bisects below). A visit shorter than 1/kInterior of a step can still be missed.
  void check_inside_steps(int w) {
    constexpr int kInterior = 8;
    for (int l = 0; l < w; ++l) {
      event_hi_[l] = 1.0;
      const bool open = ended_[l] == kRunning || ended_[l] == static_cast<std::int8_t>(Status::Censored);
      if (!active_[l] || !open || !(s_(ti_, l) > s_next_(ti_, l))) continue;  // idle, ended, or a rejected step
      const double *x0 = x_next_.col(l).data(), *x1 = x_.col(l).data(), *st = s_.col(l).data();
      for (int q = 1; q < kInterior; ++q) {
        const double theta = static_cast<double>(q) / kInterior;
        dyn_.dense_output(x0, x1, st, nullptr, theta, probe_.data(), d_);
        const bool left = rs_.pb.stop && in_event_region(true, probe_.data());
        if (!left && !(rs_.pb.target && in_event_region(false, probe_.data()))) continue;
        ended_[l] = static_cast<std::int8_t>(left ? Status::Exited : Status::Hit);
        event_hi_[l] = theta;
        any_ended_ = true;
        break;
      }
    }
  }

  // Whether x lies where the event happened: outside `stop` (exited) or inside `target`.
  bool in_event_region(bool exited, const double* x) const {
    return exited ? !rs_.pb.stop->contains(x) : rs_.pb.target->contains(x);
  }

  // Lanes that entered `target` or left `stop` in the step just taken (x_ and s_ now after it, x_next_ before):
  // bisect the dense output for the time of the event, to the dynamics' tolerance, and end the path there (the
  // located exit in xe_ and te_; x_ stays the point the step reached). The step is [last_step_start,
  // + last_step_length] for dynamics with their own clock, else [(step - 1) dt, step dt]. Dynamics with
  // dense_work_dim > 0 prepare their interpolant here, for these lanes only.
  void locate_events(int w) {
    const double tol = dyn_.event_tolerance();
    std::vector<double> xm(static_cast<std::size_t>(d_));
    std::vector<double> work(static_cast<std::size_t>(dyn_.dense_work_dim(d_)));
    for (int l = 0; l < w; ++l) {
      const bool hit = ended_[l] == static_cast<std::int8_t>(Status::Hit);
      const bool exited = ended_[l] == static_cast<std::int8_t>(Status::Exited);
      if (!hit && !exited) continue;
      const double* x0 = x_next_.col(l).data();
      const double* x1 = x_.col(l).data();
      const double* st = s_.col(l).data();
      const double t0 = ti_ >= 0 ? dyn_.last_step_start(st, d_) : static_cast<double>(step_[l] - 1) * dt_;
      const double h = ti_ >= 0 ? dyn_.last_step_length(st, d_) : dt_;
      if (!work.empty()) dyn_.dense_prepare(f_, x0, x1, t0, h, path_[l], rs_.cfg.seed, work.data(), d_);
      double lo = 0.0, hi = event_hi_[l];  // no event by lo; an event by hi
      for (int it = 0; it < 200 && (hi - lo) * h > tol; ++it) {
        const double mid = 0.5 * (lo + hi);
        dyn_.dense_output(x0, x1, st, work.data(), mid, xm.data(), d_);
        (in_event_region(exited, xm.data()) ? hi : lo) = mid;
      }
      if (hi < 1.0) {
        dyn_.dense_output(x0, x1, st, work.data(), hi, xm.data(), d_);
        for (int i = 0; i < d_; ++i) xe_(i, l) = xm[static_cast<std::size_t>(i)];
        te_[l] = t0 + hi * h;
      }
    }
  }

  // A step whose bridge could have both left `stop` and entered `target` (each with probability above
  // kBothLikely, counting an end beyond a boundary as a sure crossing), or entered the target near one of its edges
  // or corners (Region::edge_within_reach: there its one tangent plane overstates the entry), is refined
  // (bridge.hpp): the first part of its bridge with an event decides, EXITED or HIT (or running on), and
  // locate_crossings places the event on that part. Draws: a stream of its own key (the seed mixed with a
  // constant), counter (path, step). After the swap: x_next_ the step's start, x_ its end.
  void refine_double_crossings(int w) {
    // Most block-steps have no such lane: a branch-free pass over the probabilities settles that.
    const double* __restrict ps = p_stop_.data();
    const double* __restrict pt = p_target_.data();
    const std::uint8_t* __restrict in_stop = in_stop_.data();
    const std::uint8_t* __restrict in_target = in_target_.data();
    const bool edges = refine_edges_;
    int any = 0;
    for (int l = 0; l < w; ++l) {
      const double pe = in_stop[l] ? ps[l] : 1.0, ph = in_target[l] ? 1.0 : pt[l];
      any |= static_cast<int>(ph > kBothLikely) & static_cast<int>(pe > kBothLikely || (edges && !in_target[l]));
    }
    any_refined_ = any != 0;
    if (!any_refined_) return;
    const std::uint64_t seed = rs_.cfg.seed;
    for (int l = 0; l < w; ++l) {
      refined_[l] = 0;
      const std::int8_t e = ended_[l];
      const bool open = e == kRunning || e == static_cast<std::int8_t>(Status::Censored) ||
                        e == static_cast<std::int8_t>(Status::Exited) || e == static_cast<std::int8_t>(Status::Hit);
      if (!active_[l] || !open || (flags_[l] & (kBad | kFar))) continue;
      const double pe = in_stop_[l] ? p_stop_[l] : 1.0, ph = in_target_[l] ? 1.0 : p_target_[l];
      if (!(ph > kBothLikely) || (!(pe > kBothLikely) && (in_target_[l] || !refine_edges_))) continue;
      if (lane_D_) dyn_.step_diffusion(s_.col(l).data(), d_, lane_diffusion_);
      const Diffusion& D = lane_D_ ? lane_diffusion_ : dyn_.diffusion();
      if (!(pe > kBothLikely) &&
          !rs_.pb.target->edge_within_reach(x_next_.col(l).data(), x_.col(l).data(), D, dt_, kBothLikely))
        continue;
      const std::uint64_t k = step_[l] - 1;
      WordStream ws(seed ^ 0x94D049BB133111EBull, path_[l], k);
      unrefined_[l] = e;
      unrefined_flags_[l] = flags_[l];
      flags_[l] = static_cast<std::uint8_t>(flags_[l] & ~kThrough);  // refine sets it for a part ordered by its chord
      // behind walls the free step (free_steps), its midpoints where they are drawn: the reflected path's up to the
      // first wall, folded back beyond it
      const bool free = walled_target_ && mirrored_[l] && free_end_.col(l).allFinite();
      const int event = refine(x_next_.col(l).data(), (free ? free_end_ : x_).col(l).data(), D, ws, l);
      refined_[l] = event != 0;
      if (event == 0 && free && (in_target_[l] || !in_stop_[l])) {  // no event before the wall: the mirrored end's
        ended_[l] = e;
        flags_[l] = unrefined_flags_[l];
      } else if (event != 0) {
        ended_[l] = static_cast<std::int8_t>(event == 1 ? Status::Exited : Status::Hit);
        any_ended_ = true;
      } else {
        ended_[l] = (flags_[l] & kCapped) ? static_cast<std::int8_t>(Status::Censored) : kRunning;
      }
    }
  }

  // The step of lane l from a to b, refined (bridge.hpp): 0 if its bridge neither left stop nor entered the target,
  // else 1 (exited) or 2 (hit), with the part of it where that happened in the lane's leaf_a_, leaf_b_, leaf_t_,
  // leaf_h_. Behind walls a and b are the free step's ends where the walls mirrored the end: a part beyond a wall is
  // the free path's, which the reflected path folds back (free_steps).
  int refine(const double* a, const double* b, const Diffusion& D, WordStream& ws, int l) {
    const Region& stop = *rs_.pb.stop;
    const Region& target = *rs_.pb.target;
    // Behind walls the parts are the free path's (their midpoints drawn so): one with both ends beyond the walls is
    // the folded path's mirror image, so it is tested (and its event placed) mirrored back, exactly for one flat
    // wall; one across a wall is halved on (the folded path turns inside it), and where it cannot be, decided between
    // its ends folded back, as semantics 21 to 24 decided every part (tested unfolded, it reached a target beyond the
    // wall).
    bool across = false;
    auto view = [&](const double*& x0, const double*& x1) {
      across = false;
      if (!walled_target_) return;
      std::copy(x0, x0 + d_, fold_a_.begin());  // each end folded once (beyond_walls' test, kept)
      std::copy(x1, x1 + d_, fold_b_.begin());
      stop.reflect(fold_a_.data(), 1);
      stop.reflect(fold_b_.data(), 1);
      const std::size_t bytes = static_cast<std::size_t>(d_) * sizeof(double);
      const bool beyond0 = std::memcmp(fold_a_.data(), x0, bytes) != 0;
      const bool beyond1 = std::memcmp(fold_b_.data(), x1, bytes) != 0;
      if (!beyond0 && !beyond1) return;
      x0 = fold_a_.data();
      x1 = fold_b_.data();
      across = beyond0 != beyond1;
    };
    auto test = [&](const double* x0, const double* x1, double h, double* p) {
      view(x0, x1);
      const bool out = !stop.contains(x1), in = target.contains(x1);
      p[0] = p[1] = 1.0;
      if (!out) stop.crossing_probability(x0, x1, 1, D, h, true, &p[0]);
      if (!in) target.crossing_probability(x0, x1, 1, D, h, false, &p[1]);
      if (!out && !in && p[0] > 0 && p[1] > 0) merge_faces(x0, x1, h, D, p[0], p[1]);
      return both_likely(p) || across ||
             (refine_edges_ && !in && p[1] > kBothLikely && target.edge_within_reach(x0, x1, D, h, kBothLikely));
    };
    auto leaf = [&](const double* x0, const double* x1, double h, double t, const double* p) {
      view(x0, x1);
      const bool out = !stop.contains(x1), in = target.contains(x1);
      int event = 0;
      if (out && in) {  // both ends beyond: the chord's order, as order_double_crossings
        double* q = probe_.data();
        event = first_crossing(false, x0, x1, q) < first_crossing(true, x0, x1, q) - kSameCrossing ? 2 : 1;
      } else if (out || in) {  // one end beyond: its event, unless the chord passed through the other region first
        const bool first = out ? target_passed_first(x0, x1) : hole_passed_first(x0, x1);
        event = out != first ? 1 : 2;
        if (first) flags_[l] = static_cast<std::uint8_t>(flags_[l] | kThrough);  // placed by the chord
      } else {
        const double u = ws.uniform();
        event = u < p[0] ? 1 : u < p[0] + (1.0 - p[0]) * p[1] ? 2 : 0;
      }
      if (event == 0) return 0;
      Words4& r = leaf_words_[l];
      for (int i = 0; i < 4; ++i) r[i] = ws.next();
      if (!out && !in) {  // a crossing the test drew that cannot be placed (as locate_lane would) is none: go on
        const bool exited = event == 1;
        double z, unused;
        box_muller(r[0], r[1], z, unused);
        double* xe = xe_.col(l).data();  // scratch until locate_lane
        const double reach = std::max(largest_coordinate(x0, d_), largest_coordinate(x1, d_));
        locate(h, exited, x0, x1, reach, D, r, z, path_[l], step_[l] - 1, xe);
        if (!admissible(exited, xe, reach) && !(chord_passage(exited, x0, x1) >= 0)) return 0;
      }
      std::copy(x0, x0 + d_, leaf_a_.col(l).data());
      std::copy(x1, x1 + d_, leaf_b_.col(l).data());
      leaf_t_[l] = t;
      leaf_h_[l] = h;
      return event;
    };
    const Matrix* R = D.isotropic ? nullptr : noise_root(D);
    RefineBudget budget = refine_budget(d_, D);
    return refine_bridge(a, b, dt_, 0.0, 0, budget, d_, D, R, ws, midpoints_.data(), spread_.data(), test, leaf);
  }

  // Lanes that left `stop` or entered `target` in the step just taken (x_ now after it, x_next_ before), with
  // the bridge test on, whether the bridge fired (end point on the near side) or the end point is beyond: the
  // crossing time inside the step from the bridge's law given that it crossed the region's crossing plane
  // (crossing_time), and the exit drawn from the bridge's law at that time given the crossing (place). The draws
  // are the lane's crossing words of that step and its spread normals (rng.hpp, draw_spread_normals), used by
  // nothing else: ordinary steps draw nothing more.
  // A crossing is placed on one face's plane, which for a region of several members (an Intersection entered,
  // a Union left) or behind stop's reflecting walls can lie where the path cannot cross: inside another member,
  // or beyond a wall (a target poking out of the walled domain). A bridge draw placed there is no crossing, and
  // the path goes on; a step that ended in the region is placed where its chord crosses the boundary instead.
  void locate_crossings(int w) {
    for (int l = 0; l < w; ++l) locate_lane(l);
  }

  // locate_crossings' work for lane l.
  void locate_lane(int l) {
    const std::uint64_t seed = rs_.cfg.seed;
    const bool hit = ended_[l] == static_cast<std::int8_t>(Status::Hit);
    bool exited = ended_[l] == static_cast<std::int8_t>(Status::Exited);
    if (!hit && !exited) return;
    if (lane_D_) dyn_.step_diffusion(s_.col(l).data(), d_, lane_diffusion_);  // s_: the state after the step
    const Diffusion& D = lane_D_ ? lane_diffusion_ : dyn_.diffusion();
    const std::uint64_t k = step_[l] - 1;  // the step just taken
    // the step, or the part of its bridge where refine_double_crossings found the event (and that part's words)
    const bool refined = any_refined_ && refined_[l] != 0;
    const Words4 r = refined ? leaf_words_[l] : crossing_words(seed, path_[l], k);
    double z, unused;
    box_muller(r[0], r[1], z, unused);
    const double* x0 = refined ? leaf_a_.col(l).data() : x_next_.col(l).data();
    const double* x1 = refined ? leaf_b_.col(l).data() : x_.col(l).data();
    const double h = refined ? leaf_h_[l] : dt_;
    const double start = static_cast<double>(k) * dt_ + (refined ? leaf_t_[l] : 0.0);
    const bool end_outside = refined ? !rs_.pb.stop->contains(x1) : in_stop_[l] == 0;
    const bool end_inside = refined ? rs_.pb.target->contains(x1) : in_target_[l] != 0;
    double* xe = xe_.col(l).data();
    const bool through = (flags_[l] & kThrough) != 0;  // ordered by the chord: placed by it
    const double reach = std::max(largest_coordinate(x0, d_), largest_coordinate(x1, d_));
    double tau = locate(h, exited, x0, x1, reach, D, r, z, path_[l], k, xe);
    bool on_both = hit_on_stop_face_;  // a hit placed on a face stop shares (made an exit below)
    // A way out of stop placed inside the target (a target around stop's boundary, both ends of the step
    // outside it): no path leaves there without entering the target first. It is the target's crossing, placed by
    // the target's own plane where that lies within stop's closure. Else the chord's rule, on the bridge's way
    // out (the line from the step's start to the exit point, in the exit's time): whichever the line does first,
    // enter the target (a hit) or leave stop (an exit: a non-convex stop whose notch the line passes through), where
    // that point can be the event's; the exit stands where neither can. Where the target's plane is a face of stop
    // too (the exit placed on another face of stop, beyond the one both share: past a wedge's corner), the path left
    // stop there as it entered the target, and the line's rule gives that exit (stop first where the two crossings
    // coincide, as in order_double_crossings). "Inside the target" to the step's tolerance, as admissible's.
    if (exited && !through && rs_.pb.target && inside_target(xe, reach)) {
      std::copy(xe, xe + d_, exit_point_.begin());
      const int exit_face = face_of_plane_;
      const double hit_tau = locate(h, false, x0, x1, reach, D, r, z, path_[l], k, xe);
      if (admissible(false, xe, reach) && !hit_on_stop_face_) {
        exited = false;
        tau = hit_tau;
        ended_[l] = static_cast<std::int8_t>(Status::Hit);
      } else {
        double* out = line_exit_.data();
        const double g = first_crossing(true, x0, exit_point_.data(), out);
        const bool can_exit = admissible(true, out, reach) && !inside_target(out, reach);
        const double f = first_crossing(false, x0, exit_point_.data(), xe);
        face_of_plane_ = -1;  // find_face: the face the line crossed
        if (!(can_exit && g < f + kSameCrossing) && admissible(false, xe, reach)) {
          exited = false;
          tau *= f;
          ended_[l] = static_cast<std::int8_t>(Status::Hit);
        } else if (can_exit) {
          std::copy(out, out + d_, xe);
          tau *= g;
        } else {
          std::copy(exit_point_.begin(), exit_point_.end(), xe);
          face_of_plane_ = exit_face;
        }
      }
    }
    face_[l] = face_of_plane_;
    if (through || !admissible(exited, xe, reach)) {
      face_[l] = -1;  // find_face: the face the chord crossed
      on_both = false;  // (placed by the chord: ordered as the step's chord is)
      if (exited ? end_outside : end_inside) {  // the step ended in the event's region
        tau = chord_crossing(exited, x0, x1, xe) * h;
      } else if (const double inside = chord_passage(exited, x0, x1); inside >= 0) {  // the chord passed through
        tau = chord_crossing(exited, x0, x1, xe, inside) * h;
      } else if (refined) {  // a refined part's event that cannot be placed: the step as the test drew it
        refined_[l] = 0;
        ended_[l] = unrefined_[l];
        flags_[l] = unrefined_flags_[l];
        locate_lane(l);
        return;
      } else {  // the bridge's draw alone: the step cap stays, or the bound it was kept past
        ended_[l] = (flags_[l] & kFar)      ? static_cast<std::int8_t>(Status::Diverged)
                    : (flags_[l] & kCapped) ? static_cast<std::int8_t>(Status::Censored)
                                            : kRunning;
        return;
      }
    }
    // A hit on a face stop shares, placed by the target's plane (chosen among the target's faces): the path left stop
    // there as it entered the target, and a crossing of both is an exit (stop's face found from the chord to it).
    if (!exited && on_both) {
      ended_[l] = static_cast<std::int8_t>(Status::Exited);
      face_[l] = -1;
    }
    if (reflect_) rs_.pb.stop->reflect(xe, 1);  // a free step's chord beyond a wall: the folded path's place
    te_[l] = start + tau;
  }

  // The crossing of the step x0 -> x1 (of `path`, step k) with stop (exited) or the target, drawn from the bridge's
  // law given that it crossed: its time within the step (returned) and its place xe, with the bridge's spread where
  // that stays admissible, else its mean. The face's plane is kept in face_of_plane_. reach: the ends' largest
  // coordinate (admissible).
  double locate(double h, bool exited, const double* x0, const double* x1, double reach, const Diffusion& D,
                const Words4& r, double z, std::uint64_t path, std::uint64_t k, double* xe) {
    const Region& region = exited ? *rs_.pb.stop : *rs_.pb.target;
    CrossingPlane plane = region.crossing_plane(x0, x1, D, h, exited, open_uniform(r[3]));
    off_merged_faces(exited, x0, x1, h, D, open_uniform(r[3]), plane);
    const double tau = crossing_time(plane, h, z, open_uniform(r[2]));
    place(region, plane, x0, x1, tau / h, h, D, path, k, true, xe);
    // a spread that took the point where the path cannot cross (beyond stop's walls, outside another member of a
    // set): the bridge's mean there instead, before giving up on the bridge's point; a mean beyond the walls (a free
    // step's, free_steps) is the folded path's place mirrored back
    if (!admissible(exited, xe, reach)) {
      place(region, plane, x0, x1, tau / h, h, D, path, k, false, xe);
      if (reflect_ && !admissible(exited, xe, reach)) rs_.pb.stop->reflect(xe, 1);
    }
    const bool moved = onto_set_boundary(exited, region, reach, xe);
    face_of_plane_ = plane.nearest || moved ? region.face_at(xe, plane.face) : plane.face;  // onto another face?
    hit_on_stop_face_ = !exited && hit_on_shared_face(x0, x1, h, D, plane, xe, reach);
    return tau;
  }

  // A crossing placed on one member's face of an Intersection left (stop) or a Union entered (target) but beyond
  // another member (outside it, or inside another member of the Union): the path crossed that member's face first.
  // Moved onto the set's boundary there (Region::to_set_boundary), where it lands on it and stays admissible (else
  // left as it was); true if moved.
  bool onto_set_boundary(bool exited, const Region& region, double reach, double* xe) {
    if (!admissible(exited, xe, reach)) return false;
    const auto off = [&](double* x) {  // how far beyond the set x lies, in units of the tolerance
      const double s = region.signed_distance(x);
      return (exited ? -s : s) / placement_tolerance(region, x, std::max(largest_coordinate(x, d_), reach));
    };
    if (!(off(xe) > 1)) return false;
    double* unmoved = unmoved_.data();
    std::copy(xe, xe + d_, unmoved);
    region.to_set_boundary(xe);
    if (std::abs(off(xe)) <= 1 && admissible(exited, xe, reach)) return true;
    std::copy(unmoved, unmoved + d_, xe);
    return false;
  }

  // xe = the crossing of `plane` at fraction theta of the step x0 -> x1 of `path` (step k), drawn from the bridge's
  // law given that it crossed there. Across the plane it is on it; along it, the components independent of the
  // crossing (Sigma-orthogonal to the normal n) are the bridge's own at theta: Gaussian, with the chord's point as
  // mean and covariance (Sigma - Sigma n n^T Sigma / n^T Sigma n) theta (1 - theta) dt. So: the chord's point,
  // moved along Sigma n onto the plane (along n itself under isotropic noise: to_boundary), plus that spread, then
  // onto the boundary (for the tangent plane where the chord entered a curved region, from that side first).
  // Without `spread`, the bridge's conditional mean there.
  void place(const Region& region, const CrossingPlane& plane, const double* x0, const double* x1, double theta,
             double h, const Diffusion& D, std::uint64_t path, std::uint64_t k, bool spread, double* xe) {
    const auto onto_boundary = [&](double* x) {
      if (plane.entry >= 0) {
        for (int i = 0; i < d_; ++i) probe_[static_cast<std::size_t>(i)] = x0[i] + plane.entry * (x1[i] - x0[i]);
        region.to_entered_boundary(x, plane.face, probe_.data());
      } else {
        region.to_boundary(x, plane.face);
      }
      if (plane.corner >= 0) onto_corner(region, plane, x);
      if (plane.nearest) region.to_set_boundary(x);
    };
    double* chord = chord_point_.data();
    double* n = normal_.data();
    double* sn = sigma_n_.data();
    for (int i = 0; i < d_; ++i) chord[i] = xe[i] = x0[i] + theta * (x1[i] - x0[i]);
    onto_boundary(xe);
    // a corner's crossing (on two faces at once) is left at the bridge's mean there
    if (d_ == 1 || plane.corner >= 0 || !region.normal(xe, plane.face, n)) return;
    to_unit(n, d_);
    double nsn = D.scalar;  // n^T Sigma n, and sn = Sigma n
    if (D.isotropic) {
      for (int i = 0; i < d_; ++i) sn[i] = D.scalar * n[i];
    } else {
      nsn = 0;
      for (int i = 0; i < d_; ++i) {
        double s = 0;
        for (int j = 0; j < d_; ++j) s += D.Sigma(i, j) * n[j];
        sn[i] = s;
        nsn += s * n[i];
      }
    }
    // With no noise across the face the crossing is the drift's: the chord's point moved onto it is the mean, and
    // the whole noise spreads it (nothing to condition on).
    const bool across_noise = nsn > 0 && std::isfinite(nsn);
    if (!D.isotropic && across_noise) {  // along Sigma n onto the tangent plane there, then onto the boundary
      double across = 0;
      for (int i = 0; i < d_; ++i) across += n[i] * (chord[i] - xe[i]);
      for (int i = 0; i < d_; ++i) xe[i] = chord[i] - across / nsn * sn[i];
      onto_boundary(xe);
    }
    const double variance = theta * (1.0 - theta) * h;
    if (!spread || !(variance > 0)) return;
    double* v = spread_.data();  // v = R w, R R^T = Sigma, w standard normals
    draw_spread_normals(path, k, v);
    if (!D.isotropic) {
      const Matrix* R = noise_root(D);
      if (!R) return;  // no finite square root: the mean stands
      for (int i = 0; i < d_; ++i) probe_[static_cast<std::size_t>(i)] = v[i];
      for (int i = 0; i < d_; ++i) {
        double s = 0;
        for (int j = 0; j < d_; ++j) s += (*R)(i, j) * probe_[static_cast<std::size_t>(j)];
        v[i] = s;
      }
    } else {
      for (int i = 0; i < d_; ++i) v[i] *= std::sqrt(D.scalar);
    }
    double t = 0;  // n . v / n^T Sigma n: the part of the spread that the crossing fixes, taken out along Sigma n
    if (across_noise) {
      for (int i = 0; i < d_; ++i) t += n[i] * v[i];
      t /= nsn;
    }
    const double root = std::sqrt(variance);
    std::copy(xe, xe + d_, chord);  // the mean, kept
    for (int i = 0; i < d_; ++i) xe[i] += root * (v[i] - t * sn[i]);
    // Beyond stop's reflecting walls the spread is mirrored back, as the path is (on a free step, free_steps, that is
    // the folded path's own place; on a mirrored step the reflected bridge's law, which mixes in the bridge to the
    // end point's mirror image, is approximated so). Beyond the face's edge (a box's other face, another member of a
    // set) it cannot stand: the bridge would have crossed that face first, a case the face's choice has weighed.
    // Then the mean, as for an overflow.
    if (reflect_) rs_.pb.stop->reflect(xe, 1);
    if (!std::all_of(xe, xe + d_, [](double x) { return std::isfinite(x); }) || !region.over_face(xe, plane.face)) {
      std::copy(chord, chord + d_, xe);
      return;
    }
    onto_boundary(xe);
  }

  // x, on plane.face, moved onto plane.corner's face too: onto each in turn until neither moves it (once for a box's
  // faces, which clamp; a few times for planes at other angles), at most kCornerRounds times.
  void onto_corner(const Region& region, const CrossingPlane& plane, double* x) {
    double* before = corner_point_.data();
    for (int round = 0; round < kCornerRounds; ++round) {
      std::copy(x, x + d_, before);
      region.to_boundary(x, plane.corner);
      region.to_boundary(x, plane.face);
      if (std::equal(x, x + d_, before)) return;
    }
  }
  static constexpr int kCornerRounds = 100;

  // d standard normals for the spread of the crossing of `path` in step k: streams of their own key (the seed
  // mixed with a constant, and with the block of kMaxStreamDim coordinates beyond the first), counter (path, k).
  void draw_spread_normals(std::uint64_t path, std::uint64_t k, double* w) const {
    for (long first = 0, block = 0; first < d_; first += kMaxStreamDim, ++block) {
      const std::uint64_t key =
          (rs_.cfg.seed ^ 0x5851F42D4C957F2Dull) + static_cast<std::uint64_t>(block) * 0x9E3779B97F4A7C15ull;
      WordStream rs(key, path, k);
      for (long i = first; i < std::min<long>(d_, first + kMaxStreamDim); ++i) w[i] = rs.normal();
    }
  }

  // A square root R of the noise's covariance rate (R R^T = Sigma; covariance_root), or null where none is finite.
  // Once per run, or per crossing where the noise depends on the state.
  const Matrix* noise_root(const Diffusion& D) {
    if (root_ready_) return &root_;
    if (!covariance_root(D.Sigma, root_)) return nullptr;
    root_ready_ = !lane_D_;
    return &root_;
  }

  // Whether x, a crossing placed from a step of `reach` (admissible's), lies inside the target beyond the tolerance
  // of a placed crossing.
  bool inside_target(const double* x, double reach) const {
    const Region& target = *rs_.pb.target;
    return target.signed_distance(x) > placement_tolerance(target, x, std::max(largest_coordinate(x, d_), reach));
  }
  // Whether x, a placed crossing, lies on stop's boundary, to the same tolerance.
  bool on_stop_boundary(const double* x, double reach) const {
    const Region& stop = *rs_.pb.stop;
    const double at = std::max(largest_coordinate(x, d_), reach);
    return std::abs(stop.signed_distance(x)) <= placement_tolerance(stop, x, at);
  }

  // Whether a crossing placed at xe can be one (to 1e-9 of the largest of |xe|, the step's `reach` (its ends' largest
  // coordinate: xe is computed from them, a corner at the origin to their rounding) and the region's scale there):
  // not beyond stop's walls (which reflect() would move), and on or beyond stop's boundary when leaving it; on or
  // inside the target's boundary and within stop's closure when entering the target.
  bool admissible(bool exited, const double* xe, double reach) {
    const double at = std::max(largest_coordinate(xe, d_), reach);
    const auto tol = [at, xe](const Region& r) { return placement_tolerance(r, xe, at); };
    const Region* stop = rs_.pb.stop;
    const double stop_tol = stop ? tol(*stop) : 0.0;  // once: a set's scale evaluates every member
    if (reflect_) {
      std::copy(xe, xe + d_, probe_.begin());
      stop->reflect(probe_.data(), 1);
      for (int i = 0; i < d_; ++i)
        if (!(std::abs(probe_[static_cast<std::size_t>(i)] - xe[i]) <= stop_tol)) return false;
    }
    if (exited) return !(stop->signed_distance(xe) > stop_tol);
    return !(rs_.pb.target->signed_distance(xe) < -tol(*rs_.pb.target)) &&
           !(stop && stop->signed_distance(xe) < -stop_tol);
  }

  // A fraction of the chord x0 -> x1 in the event's region (outside stop, or in the target) before the chord's
  // end comes back out of it: the middle of its first part there (a hole of stop, a thin target), or -1 if the
  // chord does not pass through it (or the region cannot give its chord).
  double chord_passage(bool exited, const double* x0, const double* x1) {
    std::vector<Interval>& parts = exited ? chord_stop_ : chord_target_;
    parts.clear();
    const Region& region = exited ? *rs_.pb.stop : *rs_.pb.target;
    if (!region.chord_inside(x0, x1, parts)) return -1.0;
    const Interval a = exited ? first_gap(parts) : first_part(parts);
    return a.first < a.second ? 0.5 * (a.first + a.second) : -1.0;
  }

  // The first part of a chord inside a region (Region::chord_inside's intervals), or an empty interval.
  static Interval first_part(const std::vector<Interval>& parts) { return parts.empty() ? Interval{} : parts.front(); }
  // The first gap of a chord that starts inside the region: where it leaves and where it comes back (1 if never), or
  // an empty interval when it stays inside.
  static Interval first_gap(const std::vector<Interval>& parts) {
    if (parts.empty() || !(parts.front().first <= 0.0 && parts.front().second < 1.0)) return {};
    return {parts.front().second, parts.size() > 1 ? parts[1].first : 1.0};
  }

  // The fraction of the line x0 -> end (whose end lies in the event's region) at which it first enters the region
  // (leaves stop, or enters the target), and that point in xe: bisected within the line's first part there where
  // the region gives its chord (a member of a union passed through before the one the end lies in), else over it.
  double first_crossing(bool exited, const double* x0, const double* end, double* xe) {
    const double inside = chord_passage(exited, x0, end);
    return chord_crossing(exited, x0, end, xe, inside >= 0 ? inside : 1.0);
  }

  // The fraction of the chord x0 -> x1 at which it first enters the event's region (leaves stop, or enters the
  // target), by bisection to rounding, and that point in xe; the chord's point at `end` lies in the region.
  double chord_crossing(bool exited, const double* x0, const double* x1, double* xe, double end = 1.0) const {
    auto in_event = [&](double t) {
      for (int i = 0; i < d_; ++i) xe[i] = x0[i] + t * (x1[i] - x0[i]);
      return in_event_region(exited, xe);
    };
    double lo = 0.0, hi = end;
    for (int it = 0; it < 60 && hi - lo > 0x1p-52; ++it) {
      const double mid = 0.5 * (lo + hi);
      (in_event(mid) ? hi : lo) = mid;
    }
    in_event(hi);
    return hi;
  }

  // The face lane l's path left `stop` or entered `target` by, unless the bridge chose it: the face the step
  // from x0 to x1 (or to its located exit) crossed.
  void find_face(int l, const double* x0, const double* x1) {
    if (face_[l] >= 0) return;
    const bool hit = ended_[l] == static_cast<std::int8_t>(Status::Hit);
    const bool exited = ended_[l] == static_cast<std::int8_t>(Status::Exited);
    if (!hit && !exited) return;
    const double* end = located(l) ? xe_.col(l).data() : x1;
    face_[l] = exited ? rs_.pb.stop->exit_face(x0, end, true) : rs_.pb.target->exit_face(x0, end, false);
  }

  // Idle lanes are stepped with the others (a block moves as one) until they are refilled or packed away, but their
  // numbers are nobody's. Each is held at the state it had before its last step, a point its callbacks already
  // returned finite values at, so that a path that ended (a diverged one above all) does not wander off to where a
  // user's function overflows to NaN and stops the run.
  void hold_idle(int w) {
    for (int l = 0; l < w; ++l)
      if (!active_[l]) hold(l);
  }

  // A step that ends outside `stop` and inside `target` crossed both boundaries: the one its chord crosses first
  // decides, so that of two nested parallel planes the nearer takes it, as in the bridge test (stop where they
  // coincide: within kSameCrossing of the chord, the rounding of two regions' formulas for one boundary). With
  // the bridge test on, so does a step that ends outside `stop` and outside `target` after its chord passed
  // through the target (a band thinner than a step inside stop's face): the bridge's sure crossing of a target
  // (kThrough). Before the swap: x_ the step's start, x_next_ its end. (Taking `stop` always lost a target band
  // inside stop's face the steps that went on past the face: P(hit) 0.41 for 0.53 at dt = 0.01.)
  void order_double_crossings(int w) {
    constexpr std::int8_t exited = static_cast<std::int8_t>(Status::Exited);
    constexpr std::int8_t hit = static_cast<std::int8_t>(Status::Hit);
    const bool through = bridge_ && !dense_;
    for (int l = 0; l < w; ++l) {
      if (through && ended_[l] == hit && in_target_[l] && in_stop_[l]) {
        order_hole_first(l);
        continue;
      }
      if (ended_[l] != exited || in_stop_[l]) continue;
      const double* x0 = x_.col(l).data();
      const double* x1 = x_next_.col(l).data();
      if (!in_target_[l]) {  // outside both: HIT if the chord passed through the target first (the bridge test only)
        if (through && target_passed_first(x0, x1)) {
          ended_[l] = static_cast<std::int8_t>(Status::Hit);
          flags_[l] = static_cast<std::uint8_t>(flags_[l] | kThrough);
        }
        continue;
      }
      chord_target_.clear();
      const bool target_chord = rs_.pb.target->chord_inside(x0, x1, chord_target_);
      chord_stop_.clear();
      const bool stop_chord = rs_.pb.stop->chord_inside(x0, x1, chord_stop_);
      // A region that cannot give its chord (none a user can give): by bisection along it.
      const double leave = !stop_chord ? chord_crossing(true, x0, x1, probe_.data())
                           : !chord_stop_.empty() && chord_stop_.front().first <= 0.0 ? chord_stop_.front().second
                                                                                     : 0.0;
      const double enter = !target_chord ? chord_crossing(false, x0, x1, probe_.data())
                           : chord_target_.empty() ? 1.0
                                                   : chord_target_.front().first;
      if (enter < leave - kSameCrossing) ended_[l] = static_cast<std::int8_t>(Status::Hit);
    }
  }

  // A step that ended inside both `stop` and `target` but whose chord left `stop` first, through a hole thinner than
  // a step (a sure crossing of the bridge, as a chord through a target is): EXITED where the chord left (kThrough).
  // Before the swap: x_ the step's start, x_next_ its end.
  void order_hole_first(int l) {
    if (hole_passed_first(x_.col(l).data(), x_next_.col(l).data())) {
      ended_[l] = static_cast<std::int8_t>(Status::Exited);
      flags_[l] = static_cast<std::uint8_t>(flags_[l] | kThrough);
    }
  }

  // Whether the chord x0 -> x1, whose end lies inside stop and the target, left stop through a hole before it
  // entered the target.
  bool hole_passed_first(const double* x0, const double* x1) {
    chord_stop_.clear();
    if (!rs_.pb.stop->chord_inside(x0, x1, chord_stop_)) return false;
    const Interval gap = first_gap(chord_stop_);
    if (!(gap.first < gap.second)) return false;  // the chord stays in stop
    chord_target_.clear();
    if (!rs_.pb.target->chord_inside(x0, x1, chord_target_) || chord_target_.empty()) return false;
    return gap.first < chord_target_.front().first - kSameCrossing;
  }

  // Whether the chord x0 -> x1, whose end lies outside stop and the target, passed through the target before it
  // left stop (a band thinner than the step inside stop's face): a first part of the chord inside the target of
  // positive length, given by the region (no bisection without an end point inside), and stop's chord (bisection
  // finds an exit but not always the first, as for a stop with a hole).
  bool target_passed_first(const double* x0, const double* x1) {
    chord_target_.clear();
    if (!rs_.pb.target->chord_inside(x0, x1, chord_target_)) return false;
    const Interval part = first_part(chord_target_);
    if (!(part.first < part.second)) return false;
    chord_stop_.clear();
    if (!rs_.pb.stop->chord_inside(x0, x1, chord_stop_)) return false;
    const double leave = !chord_stop_.empty() && chord_stop_.front().first <= 0.0 ? chord_stop_.front().second : 0.0;
    return part.first < leave - kSameCrossing;
  }

  // Lane l back at its state before the step just taken (x_next_, s_next_ after the swap).
  void hold(int l) {
    std::copy(x_next_.col(l).data(), x_next_.col(l).data() + d_, x_.col(l).data());
    if (sd_ > 0) std::copy(s_next_.col(l).data(), s_next_.col(l).data() + sd_, s_.col(l).data());
  }

  // Running lanes whose restart fires at the end of the step just taken move to their restart point (the
  // dynamics' state is set anew from it); a restart takes no time.
  void restart_lanes(int w) {
    const Restart& rst = *rs_.pb.restart;
    const std::uint64_t seed = rs_.cfg.seed;
    for (int l = 0; l < w; ++l) {
      if (!active_[l] || step_[l] == 0) continue;
      // One Philox call per lane per four steps: a lane's words are drawn at the first step of each of its quads
      // (its path starts at one) and move with it when the block is packed.
      const std::uint64_t k = step_[l] - 1;
      // The step whose count keys the restart point: with noise_refinement r, the fine run's count at the same
      // time (r step), so that a sharp restart of both runs of a coupled pair lands on one point.
      std::uint64_t at = step_[l] * static_cast<std::uint64_t>(r_);
      if (fine_restart_rule_.p > 0) {
        at = fine_restart(seed, path_[l], step_[l]);
        if (at == 0) continue;
      } else {
        if (!restart_rule_.every && k % 4 == 0) restart_words_[l] = Restart::words(seed, path_[l], k / 4);
        if (!Restart::fires(restart_rule_, restart_words_[l], step_[l])) continue;
      }
      rst.point(rs_.pb.start, seed, path_[l], at, x_.col(l).data());
      if (sd_ > 0) dyn_.init_state(x_.col(l).data(), s_.col(l).data(), d_);
      // The restart point is tested as a start is: one outside `stop` or inside `target` ends the path there, at
      // this step's time (a recorded trajectory ends with the jump to it).
      const Status s = placed(l);
      if (s == Status::Running) continue;
      if (recording_ > 0 && is_recorded(l)) record(l);
      retire(l, s);
      hold(l);  // idle at the state before the step, where the callbacks were evaluated, not at the new point
    }
  }

  // Poisson restarts with noise_refinement r > 1, coupled to the run at dt / r: coarse step n restarts when one of
  // the fine run's steps r (n - 1) + 1 .. r n does (probability 1 - e^(-rate dt), as without r), at the point the
  // fine run drew at the last of them. Returns that fine step's count, or 0.
  std::uint64_t fine_restart(std::uint64_t seed, std::uint64_t path, std::uint64_t step) const {
    const std::uint64_t r = static_cast<std::uint64_t>(r_);
    std::uint64_t last = 0;
    Words4 words{};
    for (std::uint64_t f = r * (step - 1) + 1; f <= r * step; ++f) {
      if ((f - 1) % 4 == 0 || f == r * (step - 1) + 1) words = Restart::words(seed, path, (f - 1) / 4);
      if (Restart::fires(fine_restart_rule_, words, f)) last = f;
    }
    return last;
  }

  // Whether lane l's path ended at a located exit (xe_, te_) in this block-step.
  bool located(int l) const { return !std::isnan(te_[l]); }
  int stop_faces() const { return rs_.pb.stop ? rs_.pb.stop->n_faces() : 0; }

  // A trajectory ends at a located exit.
  void record(int l) {
    Trajectory& tr = rs_.out.trajectories[static_cast<std::size_t>(relative(l))];
    const bool at_exit = located(l);
    tr.t.push_back(at_exit ? te_[l] : time_of(l));
    for (int i = 0; i < d_; ++i) tr.x.push_back(at_exit ? xe_(i, l) : x_(i, l));
  }

  void record_all() {
    const std::uint64_t every = static_cast<std::uint64_t>(rs_.cfg.record_every);
    for (int l = 0; l < width_; ++l)
      if (is_recorded(l) && (step_[l] % every == 0 || ended_[l] != kRunning))
        record(l);
  }

  void retire(int l, Status s) {
    EnsembleResult& out = rs_.out;
    const std::size_t i = static_cast<std::size_t>(relative(l));
    // Exits and hits have a time and a place; so has convergence (the optimizer's answer).
    const bool stopped = s == Status::Exited || s == Status::Hit || s == Status::Converged || s == Status::Singular;
    out.status[i] = static_cast<std::int8_t>(s);
    out.exit_step[i] = static_cast<std::int64_t>(step_[l]);
    // A singular path stays at the start of the step where its drift broke down: its time is that step's start.
    // Exits located inside the step (dense output, or the bridge) have their own time and place.
    const bool at_exit = located(l);
    double t = time_of(l);
    if (at_exit)
      t = te_[l];
    else if (s == Status::Singular && ti_ < 0)
      t = static_cast<double>(step_[l] - 1) * dt_;
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    out.exit_time[i] = stopped ? t : nan;
    if (face_[l] >= 0) out.exit_face[i] = s == Status::Hit ? stop_faces() + face_[l] : face_[l];
    face_[l] = -1;
    for (int j = 0; j < d_; ++j) {
      const double x = x_(j, l);
      out.exit_position[i * d_ + j] = stopped ? (at_exit ? xe_(j, l) : x) : nan;
      out.final_position[i * d_ + j] = std::isfinite(x) ? x : nan;
    }
    // sum_n t_n s_n = t_N S - dt sum_n (N - n) s_n, t_N = N dt the end of the last step
    for (int j = 0; j < np_; ++j) {
      const double S = ssum_(l, j), Q = stime_(l, j);
      out.score_sum[i * np_ + j] = S;
      out.score_time[i * np_ + j] = static_cast<double>(step_[l]) * dt_ * S - dt_ * Q;
    }
    te_[l] = nan;
    if (recording_ > 0 && is_recorded(l)) --recording_;
    active_[l] = 0;
    --n_active_;
    rs_.finished.fetch_add(1, std::memory_order_relaxed);
  }

  // Give lane l the next unstarted path; a path that starts outside `stop` or inside `target` ends at step 0.
  void refill(int l) {
    const Problem& pb = rs_.pb;
    for (;;) {
      const std::int64_t p = rs_.next.fetch_add(1, std::memory_order_relaxed);
      if (p >= rs_.cfg.n_paths) {
        mirror_running(l);
        return;
      }
      path_[l] = static_cast<std::uint64_t>(rs_.cfg.first_path + p);
      step_[l] = 0;
      active_[l] = 1;
      if (np_ > 0) {
        ssum_.row(l).setZero();
        stime_.row(l).setZero();
      }
      ++n_active_;
      pb.start.sample(rs_.cfg.seed, path_[l], x_.col(l).data());
      if (sd_ > 0) dyn_.init_state(x_.col(l).data(), s_.col(l).data(), d_);
      const bool recorded = is_recorded(l);
      if (recorded) {
        ++recording_;
        record(l);
      }
      const Status s = placed(l);
      if (s == Status::Running) return;
      retire(l, s);
    }
  }

  // Whether x lies beyond a reflecting wall of `stop`, outside the domain (contains() counts such faces as never
  // crossed, which holds for a path that steps, not for a point placed there): reflect() would move it.
  bool beyond_walls(const double* x) {
    if (!reflect_) return false;
    probe_.assign(x, x + d_);
    rs_.pb.stop->reflect(probe_.data(), 1);
    return std::memcmp(probe_.data(), x, static_cast<std::size_t>(d_) * sizeof(double)) != 0;
  }

  // How lane l's path stands where it was placed (its start, or a restart point), before any step from there:
  // DIVERGED not finite or past the bound, EXITED outside `stop`, HIT inside `target` (with the face), or running.
  Status placed(int l) {
    const Problem& pb = rs_.pb;
    const double* x0 = x_.col(l).data();
    bool bad = false;
    for (int i = 0; i < d_; ++i) bad = bad || diverged(x0[i]);
    // as in keep_far_exits: a finite point past the bound that is outside `stop` or inside `target` has left
    if (bad && x_.col(l).allFinite())
      bad = !((pb.stop && !pb.stop->contains(x0)) || (pb.target && pb.target->contains(x0)));
    if (bad) return Status::Diverged;
    Status s = Status::Running;
    if (pb.stop && (!pb.stop->contains(x0) || beyond_walls(x0)))
      s = Status::Exited;
    else if (pb.target && pb.target->contains(x0))
      s = Status::Hit;
    if (s != Status::Running)
      face_[l] = s == Status::Exited ? pb.stop->exit_face(x0, x0, true) : pb.target->exit_face(x0, x0, false);
    return s;
  }

  // An idle lane with no path to start takes a running lane's state, where that lane's callbacks are evaluated this
  // step anyway: zeros, or a start that ended at step 0, may be where a user's function is NaN or raises, which
  // would stop the run for some thread counts, block sizes and n_paths only. Idle lanes' numbers are nobody's.
  void mirror_running(int l) {
    for (int j = 0; j < L_; ++j) {
      if (!active_[j]) continue;
      x_.col(l) = x_.col(j);
      if (sd_ > 0) s_.col(l) = s_.col(j);
      return;
    }
  }

  // Move the surviving lanes to the front and narrow the block to a multiple of 8 lanes.
  void pack() {
    int dst = 0;
    for (int l = 0; l < width_; ++l) {
      if (!active_[l]) continue;
      if (dst != l) {
        x_.col(dst) = x_.col(l);
        s_.col(dst) = s_.col(l);
        if (np_ > 0) {
          ssum_.row(dst) = ssum_.row(l);
          stime_.row(dst) = stime_.row(l);
        }
        path_[dst] = path_[l];
        step_[dst] = step_[l];
        if (!restart_words_.empty())
          restart_words_[static_cast<std::size_t>(dst)] = restart_words_[static_cast<std::size_t>(l)];
        active_[dst] = 1;
        active_[l] = 0;  // idles at the moved path's state, which lane dst steps from
      }
      ++dst;
    }
    width_ = std::max(8, (n_active_ + 7) / 8 * 8);
    width_ = std::min(width_, L_);
  }

  RunState& rs_;
  const Landscape& f_;
  const Dynamics& dyn_;
  const int d_, k_, m_, sd_, L_;
  const bool bridge_;
  const bool lane_D_;  // the bridge's covariance per lane (Dynamics::lane_diffusion)
  Diffusion lane_diffusion_;
  const double dt_;
  const int ti_;       // index of the lane's time in its state, or -1 (time = step * dt)
  const bool dense_;   // locate events with the dynamics' dense output
  const double bound_;  // min(divergence_bound, largest finite double)
  const int r_;         // noise_refinement
  int width_ = L_;
  int n_active_ = 0;
  int recording_ = 0;
  int phase_ = 0;  // step within the quad of the block-step about to run (= every running lane's step mod 4)
  bool any_ended_ = false;
  Block x_, x_next_, g_, s_, s_next_;
  Block xe_;  // located exits: the place (te_ not NaN) of a lane's path that ended inside its last step
  Block z_[QuadDraws::kSteps], v_[QuadDraws::kSteps];  // the quad's normals and dynamics' uniforms, per step
  std::vector<std::uint64_t> path_, step_;
  std::vector<std::uint8_t> active_;
  std::vector<std::int8_t> ended_;
  std::vector<std::uint8_t> in_stop_, in_target_, flags_, converged_, singular_;  // converged_, singular_: all 0 between steps
  std::vector<double> u_;  // the crossing test's uniforms of the step, where drawn (CrossingUniforms)
  std::vector<double> p_stop_, p_target_;
  std::vector<CrossingPlane> stop_planes_, target_planes_;  // merge_faces' scratch
  std::vector<char> taken_out_;                              // off_merged_faces': stop's faces taken out
  std::vector<Interval> chord_stop_, chord_target_;  // order_double_crossings' scratch
  std::vector<double> event_hi_;            // check_inside_steps: where a step's event is bracketed (1: its end)
  std::vector<double> probe_;               // one point's scratch (check_inside_steps, admissible, place)
  std::vector<double> chord_point_, corner_point_, normal_, sigma_n_, spread_;  // place's scratch
  std::vector<double> exit_point_;  // locate_crossings': an exit's place while the target's is tried
  std::vector<double> line_exit_;   // and where the line to it first leaves stop
  std::vector<double> unmoved_;     // onto_set_boundary's: a crossing's place before it moved
  int face_of_plane_ = 0;           // locate's: the face of the plane it placed on
  bool hit_on_stop_face_ = false;   // locate's: a hit on a boundary stop shares (hit_on_shared_face)
  Matrix root_;              // noise_root's square root of Sigma
  bool root_ready_ = false;  // root_ holds the run's (constant) noise
  std::vector<double> te_;  // located exits' times; NaN except between locating a lane's exit and retiring it
  // refine_double_crossings: the lanes whose step it decided (1), and for each the part of the bridge where the event
  // lies (from leaf_a_ to leaf_b_, starting leaf_t_ into the step, of length leaf_h_) and the words that locate it
  bool any_refined_ = false;  // whether refine_double_crossings looked at any lane in this block-step
  std::vector<std::uint8_t> refined_;
  std::vector<std::int8_t> unrefined_;  // and the status and flags the step had before (an event it cannot place)
  std::vector<std::uint8_t> unrefined_flags_;
  Block leaf_a_, leaf_b_;
  std::vector<double> leaf_t_, leaf_h_;
  std::vector<Words4> leaf_words_;
  std::vector<double> midpoints_;  // one per level of the refinement
  std::vector<int> face_;   // the face of a lane's exit; -1 except between finding it and retiring the lane
  const bool reflect_;      // `stop` has reflecting faces
  const bool refine_;       // refine_double_crossings: the bridge test on fixed steps, stop and target
  const bool refine_edges_;  // and steps near a target box's edges or corners
  const bool walled_target_;  // free_steps: the bridge test behind walls, with a target
  Block free_end_;            // the step's ends before the walls mirrored them
  std::vector<std::uint8_t> free_bridge_;  // lanes whose target test was the free step's (free_steps)
  std::vector<std::uint8_t> mirrored_;     // lanes whose step's end the walls mirrored
  std::vector<double> fold_a_, fold_b_;    // refine's: a part's ends mirrored back inside the walls
  Restart::Rule restart_rule_;
  Restart::Rule fine_restart_rule_;  // Poisson restarts coupled to the run at dt / r (noise_refinement r > 1)
  std::vector<Words4> restart_words_;  // Poisson restarts: each lane's words of its current quad
  QuadDraws draws_;
  // noise_refinement > 1 only: one fine quad's draws, and each lane's fine step count
  Block zf_[QuadDraws::kSteps], vf_[QuadDraws::kSteps];
  std::vector<std::uint64_t> fine_step_;
  CrossingUniforms crossing_uniforms_;
  // Sensitivities: each lane's S and R (np_ x L), per-lane scratch, and the perturbed steps of the pair form.
  const Sensitivities* sens_;
  const int np_;
  // ssum_, stime_: L x np (a parameter's lanes contiguous); stime_ holds Q = sum_n (N - n) s_n until retire
  Block ssum_, stime_, smz_, xp_, xm_, gp_, sp_;
  std::vector<double> sdot_, snoise_, spair_;
  std::vector<std::uint8_t> fp_, fs_;
};

}  // namespace detail

namespace detail {

// Asks the caller (Ctrl-C, progress) at most every 100 ms, unless forced, with the number of finished items; a
// true answer stops the run and marks it interrupted. Called from the calling thread only (thread 0).
class Poller {
 public:
  Poller(const PollFn& poll, const std::atomic<std::int64_t>& finished, std::atomic<bool>& stop, bool& interrupted)
      : poll_(poll), finished_(finished), stop_(stop), interrupted_(interrupted) {}
  bool active() const { return static_cast<bool>(poll_); }
  void operator()(bool force) {
    if (!poll_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    if (poll_(finished_.load(std::memory_order_relaxed))) {
      interrupted_ = true;
      stop_.store(true);
    }
  }

 private:
  const PollFn& poll_;
  const std::atomic<std::int64_t>& finished_;
  std::atomic<bool>& stop_;
  bool& interrupted_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Whether this thread is stepping a run's blocks. Dynamics, samplers and landscapes keep per-thread scratch space
// across their calls into a user's callback; a run started from inside such a callback on the same thread would
// share it (write over the outer run's numbers, or free its buffers under it), so run_blocks refuses to start one.
inline thread_local bool in_run = false;

// Marks this thread as in a run for the mark's lifetime (`owner` false: it already was, and stays so after).
class RunMark {
 public:
  RunMark() : owner_(!in_run) { in_run = true; }
  ~RunMark() {
    if (owner_) in_run = false;
  }
  RunMark(const RunMark&) = delete;
  RunMark& operator=(const RunMark&) = delete;

 private:
  bool owner_;
};

// Each of `threads` OpenMP threads builds a block (make_block()) and steps it while it has work and nothing stopped
// the run; the first exception stops every thread and is rethrown here. Thread 0, the calling thread, polls.
template <class MakeBlock>
void run_blocks(int threads, std::atomic<bool>& stop, Poller& poll, MakeBlock&& make_block) {
  if (in_run)
    throw std::runtime_error(
        "a run cannot start inside a callback of another run on the same thread (they would share the thread's "
        "scratch space): run it before or after the outer run, or in a thread of its own");
  const RunMark mark;
  using clock = std::chrono::steady_clock;
  std::atomic<int> working{threads};
  std::mutex done_mutex;  // with `done`: the calling thread sleeps until the last block finishes
  std::condition_variable done;
  std::exception_ptr error;
  std::mutex error_mutex;
  auto fail = [&] {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (!error) error = std::current_exception();
    stop.store(true);
  };
#pragma omp parallel num_threads(threads)
  {
    const bool master = omp_get_thread_num() == 0;
    const RunMark worker;
    try {
      auto block = make_block();
      // A clock read costs tens of ns, and a block-step takes from about 0.2 us (64 lanes in 1-D) to seconds
      // (large d): the master reads the clock every `stride` block-steps, the stride doubling while reads come
      // less than 1 ms apart and halving once they are more than 4 ms apart (at most 256, so a poll is late
      // by a few ms, or by one block-step when a block-step is slow).
      int stride = 1, countdown = 1;
      auto last_read = clock::now();
      while (block.has_work() && !stop.load(std::memory_order_relaxed)) {
        block.step();
        if (master && poll.active() && --countdown == 0) {
          const auto now = clock::now();
          const auto gap = now - last_read;
          last_read = now;
          if (gap < std::chrono::milliseconds(1) && stride < 256)
            stride *= 2;
          else if (gap > std::chrono::milliseconds(4) && stride > 1)
            stride /= 2;
          countdown = stride;
          poll(false);
        }
      }
    } catch (...) {
      fail();
    }
    {
      std::lock_guard<std::mutex> lock(done_mutex);
      working.fetch_sub(1);
    }
    done.notify_all();
    // The calling thread keeps answering Ctrl-C and progress until every block is done: it wakes when the last
    // block finishes, or every 20 ms to poll.
    if (master) {
      try {
        std::unique_lock<std::mutex> lock(done_mutex);
        while (working.load() > 0 && !stop.load()) {
          done.wait_for(lock, std::chrono::milliseconds(20));
          if (working.load() == 0) break;
          lock.unlock();  // the poll may wait for the GIL: the other threads must not wait for it
          poll(false);
          lock.lock();
        }
      } catch (...) {
        fail();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace detail

inline int default_threads() { return omp_get_max_threads(); }

inline EnsembleResult run(const Problem& pb, const RunConfig& cfg_in, const PollFn& poll = {}) {
  validate(pb, cfg_in);
  RunConfig cfg = cfg_in;
  if (cfg.threads <= 0) cfg.threads = default_threads();
  // Never more blocks than paths can fill: small runs use fewer threads and narrower blocks.
  const std::int64_t per_thread = (cfg.n_paths + cfg.threads - 1) / cfg.threads;
  cfg.lanes = static_cast<int>(std::min<std::int64_t>(cfg.lanes, per_thread));
  cfg.threads = static_cast<int>(std::min<std::int64_t>(cfg.threads, (cfg.n_paths + cfg.lanes - 1) / cfg.lanes));

  const int d = pb.landscape.dim();
  const std::size_t n = static_cast<std::size_t>(cfg.n_paths);
  EnsembleResult out;
  out.dim = d;
  out.status.assign(n, static_cast<std::int8_t>(Status::Running));
  out.exit_time.assign(n, std::numeric_limits<double>::quiet_NaN());
  out.exit_step.assign(n, 0);
  out.exit_position.assign(n * d, std::numeric_limits<double>::quiet_NaN());
  out.final_position.assign(n * d, std::numeric_limits<double>::quiet_NaN());
  out.exit_face.assign(n, -1);
  // Trajectories of the recorded paths in this range, by relative index.
  if (cfg.sensitivities) {
    out.n_sensitivities = cfg.sensitivities->size();
    out.score_sum.assign(n * static_cast<std::size_t>(out.n_sensitivities), std::numeric_limits<double>::quiet_NaN());
    out.score_time.assign(n * static_cast<std::size_t>(out.n_sensitivities), std::numeric_limits<double>::quiet_NaN());
  }
  out.trajectories.resize(static_cast<std::size_t>(std::clamp<std::int64_t>(cfg.record_paths - cfg.first_path, 0, cfg.n_paths)));

  detail::RunState rs{pb, cfg, out};
  detail::Poller poller(poll, rs.finished, rs.stop, out.interrupted);
  detail::run_blocks(cfg.threads, rs.stop, poller, [&] { return detail::LaneBlock(rs, cfg.lanes); });
  for (std::size_t i = 0; i < n; ++i) {
    if (!out.interrupted && out.status[i] == static_cast<std::int8_t>(Status::Running))
      throw std::logic_error("escapade engine: path " + std::to_string(cfg.first_path + static_cast<std::int64_t>(i)) +
                             " was never finished (internal error)");
    out.total_steps += out.exit_step[i];
  }
  if (!out.interrupted) poller(true);
  return out;
}

}  // namespace escapade
