// Adaptive multilevel splitting: the run, GIL released while the core works (the scores are in bind_scores.cpp).
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "escapade/score.hpp"
#include "escapade/splitting.hpp"
#include "numpy.hpp"
#include "poll.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

void bind_splitting(py::module_& m) {
  m.def(
      "check_splitting_dynamics",
      [](const Landscape& landscape, const Dynamics& dynamics) {
        check_dynamics(dynamics, landscape);
        validate_splitting_dynamics(landscape, dynamics);
      },
      py::kw_only(), "landscape"_a, "dynamics"_a,
      "ValueError unless the dynamics can run splitting on the landscape (fixed steps, some noise).");
  m.def(
      "splitting",
      [](const Landscape& landscape, const Dynamics& dynamics, const Start& start, const Region& reactant,
         const Region& product, const Score& score, int n_replicas, std::int64_t n_runs, std::uint64_t seed,
         int threads, int lanes, bool bridge, double divergence_bound, std::int64_t max_iterations,
         std::int64_t max_steps, int record_reactive, std::int64_t first_run, int k, py::object progress) {
        SplittingConfig cfg;
        cfg.n_replicas = n_replicas;
        cfg.n_runs = n_runs;
        cfg.first_run = first_run;
        cfg.seed = seed;
        cfg.threads = threads;
        cfg.lanes = lanes;
        cfg.bridge = bridge;
        cfg.divergence_bound = divergence_bound;
        cfg.max_iterations = max_iterations;
        cfg.max_steps = max_steps;
        cfg.record_reactive = record_reactive;
        cfg.k = k;
        // As in `run`: Ctrl-C or an exception from `progress` stops the core and is raised once it has returned.
        bool python_error = false;
        const PollFn poll = python_poll(progress, python_error);
        SplittingResult r;
        {
          py::gil_scoped_release nogil;
          r = escapade::splitting(SplittingProblem{landscape, dynamics, start, reactant, product, score}, cfg, poll);
        }
        if (python_error) throw py::error_already_set();
        const auto n = static_cast<py::ssize_t>(r.status.size());
        const int d = landscape.dim();
        py::list trajectories;
        for (Trajectory& tr : r.trajectories) {
          const auto k = static_cast<py::ssize_t>(tr.t.size());
          trajectories.append(py::make_tuple(to_numpy(std::move(tr.t), {k}), to_numpy(std::move(tr.x), {k, d})));
        }
        py::dict out;
        out["log_weight"] = to_numpy(std::move(r.log_weight), {n});
        out["n_reached"] = to_numpy(std::move(r.n_reached), {n});
        out["iterations"] = to_numpy(std::move(r.iterations), {n});
        out["killed"] = to_numpy(std::move(r.killed), {n});
        out["steps"] = to_numpy(std::move(r.steps), {n});
        out["censored"] = to_numpy(std::move(r.censored), {n});
        out["diverged"] = to_numpy(std::move(r.diverged), {n});
        out["status"] = to_numpy(std::move(r.status), {n});
        out["reactive_time"] = to_numpy(std::move(r.reactive_time), {n});
        out["trajectories"] = trajectories;
        out["total_steps"] = r.total_steps;
        out["bridge"] = r.bridge;
        out["interrupted"] = r.interrupted;
        return out;
      },
      py::kw_only(), "landscape"_a, "dynamics"_a, "start"_a, "reactant"_a, "product"_a, "score"_a, "n_replicas"_a,
      "n_runs"_a, "seed"_a, "threads"_a = 0, "lanes"_a = 64, "bridge"_a = true, "divergence_bound"_a = 1e8,
      "max_iterations"_a, "max_steps"_a, "record_reactive"_a = 0, "first_run"_a = 0, "k"_a = 1,
      "progress"_a = py::none(),
      "Adaptive multilevel splitting: n_runs independent runs of n_replicas replicas; returns a dict of per-run "
      "numpy arrays.");
}
