// Dynamics: how a block of lanes moves one step, given the landscape and the step's standard normals.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "escapade/landscape.hpp"
#include "escapade/perturbation.hpp"
#include "escapade/types.hpp"

namespace escapade {

// What a block-step hands the dynamics, for `width` lanes stored column by column.
struct StepInput {
  const double* x;               // d x width
  const double* state;           // state_dim x width
  const double* z;               // noise_dim standard normals per lane
  const double* u;               // uniform_dim uniforms in (0, 1) per lane
  const std::uint64_t* step;     // each lane's step index t = 0, 1, ... (for step-size schedules)
  int width;
  const std::uint64_t* path = nullptr;  // each lane's path index (for forcing drawn as a function of (seed, path))
  std::uint64_t seed = 0;
  // Dynamics that keep their own time (time_index >= 0) never step past this time (the run's time cap).
  double t_end = std::numeric_limits<double>::infinity();
};

struct StepOutput {
  double* x;      // d x width, the next state
  double* state;  // state_dim x width
  double* g;      // d x width scratch (the gradient)
  std::uint8_t* converged;  // width flags, all 0 on entry: set to end a path as Converged (x then the answer)
  std::uint8_t* singular = nullptr;  // width flags, all 0 on entry: set to end a path as Singular (x then the
                                     // last point where the step was defined)
};

class Dynamics {
 public:
  virtual ~Dynamics() = default;
  virtual std::string name() const = 0;
  virtual double dt() const = 0;
  // Throws std::invalid_argument if the dynamics cannot run on a landscape of dimension d, or on this landscape.
  virtual void check_dim(int d) const = 0;
  virtual void check_landscape(const Landscape& /*f*/) const {}
  // Standard normals a lane consumes per step in dimension d.
  virtual int noise_dim(int d) const = 0;
  // The same on a given landscape: a dynamics whose noise size depends on more than the dimension (a finite
  // sum's number of terms) overrides this one. The engine asks this one, after check_landscape.
  virtual int noise_dim_on(const Landscape& f) const { return noise_dim(f.dim()); }
  // True for time-discretized SDEs (time in units of dt).
  virtual bool continuous_time() const = 0;
  // Whether exits between steps are tested with the Brownian bridge: Gaussian increments whose covariance is
  // the constant diffusion(). Jump noise and state-dependent diffusion turn it off.
  virtual bool bridge_test() const { return continuous_time(); }
  virtual const Diffusion& diffusion() const = 0;
  // A state-dependent diffusion may keep the bridge test with each lane's covariance frozen at the step's start:
  // lane_diffusion() true, and step_diffusion() reads that covariance from the lane's state after the step.
  virtual bool lane_diffusion() const { return false; }
  virtual void step_diffusion(const double* /*state*/, int /*d*/, Diffusion& /*D*/) const {}
  // Uniforms in (0, 1) a lane consumes per step besides the normals (index sampling, heavy tails, ...).
  virtual int uniform_dim(int /*d*/) const { return 0; }
  // The same on a given landscape (a full batch of a finite sum draws none); the engine asks this one.
  virtual int uniform_dim_on(const Landscape& f) const { return uniform_dim(f.dim()); }
  // Per-lane optimizer state (momentum, accumulated gradients, ...), state_dim(d) numbers per lane, stored and
  // moved with the lane; init_state sets one lane's state from its starting point.
  virtual int state_dim(int /*d*/) const { return 0; }
  virtual void init_state(const double* /*x0*/, double* /*state*/, int /*d*/) const {}
  // One step for in.width lanes: out.x (and out.state) from in.x (and in.state).
  virtual void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const = 0;
  // Integrators with their own step size keep each lane's time t in its state, at this index (-1: the time is
  // step * dt). The engine then reports that time, and censors a path once t reaches the run's time cap.
  virtual int time_index(int /*d*/) const { return -1; }
  // Dense output: with it, the engine locates the time a path entered `target` or left `stop` within the last
  // step by bisection on theta in [0, 1] (tolerance event_tolerance() in time), and reports that time and the
  // interpolated point. x0: the point before the step; state: the lane's state after it; work: what
  // dense_prepare left for the lane (dense_work_dim numbers, none for most); x: the interpolated point at
  // t0 + theta h, where t0 and h are last_step_start and last_step_length (time_index >= 0) or (step - 1) dt
  // and dt (fixed steps).
  virtual bool has_dense_output() const { return false; }
  virtual double event_tolerance() const { return 0.0; }
  virtual void dense_output(const double* /*x0*/, const double* /*x1*/, const double* /*state*/,
                            const double* /*work*/, double /*theta*/, double* /*x*/, int /*d*/) const {}
  // An interpolant that needs more than the lane's state (a fixed-step method's, from the vector field at both
  // ends of the step) is prepared once per located lane, only for lanes whose path ended in the step: work gets
  // dense_work_dim(d) numbers. path and seed as in StepInput.
  virtual int dense_work_dim(int /*d*/) const { return 0; }
  virtual void dense_prepare(const Landscape& /*f*/, const double* /*x0*/, const double* /*x1*/, double /*t0*/,
                             double /*h*/, std::uint64_t /*path*/, std::uint64_t /*seed*/, double* /*work*/,
                             int /*d*/) const {}
  // Start and length of the last step, read from a lane's state (dynamics with time_index >= 0).
  virtual double last_step_start(const double* /*state*/, int /*d*/) const { return 0.0; }
  virtual double last_step_length(const double* /*state*/, int /*d*/) const { return 0.0; }
};

}  // namespace escapade
