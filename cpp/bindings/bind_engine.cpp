// The ensemble run: GIL released while the core works; Ctrl-C and progress polled from the calling thread.
#include <pybind11/stl.h>

#include "escapade/engine.hpp"
#include "numpy.hpp"
#include "poll.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

namespace {

py::dict to_python(EnsembleResult&& r) {
  const auto n = static_cast<py::ssize_t>(r.status.size());
  py::list trajectories;
  for (Trajectory& tr : r.trajectories) {
    const auto k = static_cast<py::ssize_t>(tr.t.size());
    trajectories.append(py::make_tuple(to_numpy(std::move(tr.t), {k}), to_numpy(std::move(tr.x), {k, r.dim})));
  }
  py::dict out;
  out["status"] = to_numpy(std::move(r.status), {n});
  out["exit_time"] = to_numpy(std::move(r.exit_time), {n});
  out["exit_step"] = to_numpy(std::move(r.exit_step), {n});
  out["exit_position"] = to_numpy(std::move(r.exit_position), {n, r.dim});
  out["final_position"] = to_numpy(std::move(r.final_position), {n, r.dim});
  out["exit_face"] = to_numpy(std::move(r.exit_face), {n});
  out["trajectories"] = trajectories;
  if (r.n_sensitivities > 0) {
    const auto p = static_cast<py::ssize_t>(r.n_sensitivities);
    out["score_sum"] = to_numpy(std::move(r.score_sum), {n, p});
    out["score_time"] = to_numpy(std::move(r.score_time), {n, p});
  }
  out["total_steps"] = r.total_steps;
  return out;
}

}  // namespace

void bind_engine(py::module_& m) {
  py::enum_<Status>(m, "Status")
      .value("EXITED", Status::Exited)
      .value("HIT", Status::Hit)
      .value("CENSORED", Status::Censored)
      .value("DIVERGED", Status::Diverged)
      .value("CONVERGED", Status::Converged)
      .value("SINGULAR", Status::Singular)
      .value("RUNNING", Status::Running);
  py::class_<Restart, std::shared_ptr<Restart>>(m, "Restart")
      .def(py::init([](double rate, double period, std::shared_ptr<Start> to) {
             return std::make_shared<Restart>(rate, period, std::move(to));
           }),
           py::kw_only(), "rate"_a = 0.0, "period"_a = 0.0, "to"_a.none(true) = py::none(),
           "Stochastic resetting: rate (Poisson) or period (sharp), to a start (None: the path's own start).");
  m.def("default_threads", &default_threads, "Threads used when threads <= 0: OpenMP's maximum.");
  m.def(
      "check_dynamics",
      [](const Landscape& landscape, const Dynamics& dynamics) { escapade::check_dynamics(dynamics, landscape); },
      py::kw_only(), "landscape"_a, "dynamics"_a,
      "The engine's checks of a dynamics against a landscape (dimensions, a finite sum for minibatches, the batch "
      "size, the draws per step), for a run to be refused before it starts.");
  m.def(
      "run",
      [](const Landscape& landscape, const Dynamics& dynamics, const Start& start, const Region* stop,
         const Region* target, std::int64_t n_paths, std::int64_t max_steps, std::uint64_t seed, int threads, int lanes,
         bool bridge, double divergence_bound, std::int64_t record_paths, std::int64_t record_every,
         std::int64_t first_path, double max_time, std::int64_t noise_refinement, py::object progress,
         py::object sensitivities, py::object sensitivity_matrix, const Restart* restart) {
        RunConfig cfg;
        cfg.n_paths = n_paths;
        cfg.first_path = first_path;
        cfg.max_steps = max_steps;
        cfg.seed = seed;
        cfg.threads = threads;
        cfg.lanes = lanes;
        cfg.bridge = bridge;
        cfg.divergence_bound = divergence_bound;
        cfg.record_paths = record_paths;
        cfg.record_every = record_every;
        cfg.max_time = max_time;
        cfg.noise_refinement = noise_refinement;
        // sensitivities: a list of (c_grad, c_noise, c_pair, dyn_plus, land_plus, dyn_minus, land_minus), the
        // objects None for the run's own; the caller keeps them alive for the run.
        Sensitivities sens;
        if (!sensitivities.is_none()) {
          for (py::handle item : sensitivities) {
            auto t = py::cast<py::tuple>(item);
            if (t.size() != 7) throw py::value_error("sensitivities: each entry is a 7-tuple");
            SensitivityParam sp;
            sp.c_grad = t[0].cast<double>();
            sp.c_noise = t[1].cast<double>();
            sp.c_pair = t[2].cast<double>();
            if (!t[3].is_none()) sp.dyn_plus = t[3].cast<const Dynamics*>();
            if (!t[4].is_none()) sp.land_plus = t[4].cast<const Landscape*>();
            if (!t[5].is_none()) sp.dyn_minus = t[5].cast<const Dynamics*>();
            if (!t[6].is_none()) sp.land_minus = t[6].cast<const Landscape*>();
            sens.params.push_back(sp);
          }
          if (!sensitivity_matrix.is_none()) sens.M = to_matrix(sensitivity_matrix.cast<DoubleArray>(), "sensitivity_matrix");
          if (!sens.params.empty()) cfg.sensitivities = &sens;
        }
        // Runs on the calling thread with the GIL re-acquired. A signal (KeyboardInterrupt) or an exception from
        // `progress` is left set as the Python error and stops the run; it is raised once the core has returned.
        bool python_error = false;
        const PollFn poll = python_poll(progress, python_error);
        EnsembleResult r;
        {
          py::gil_scoped_release nogil;
          r = escapade::run(Problem{landscape, dynamics, start, stop, target, restart}, cfg, poll);
        }
        if (python_error) throw py::error_already_set();
        return to_python(std::move(r));
      },
      py::kw_only(), "landscape"_a, "dynamics"_a, "start"_a, "stop"_a.none(true), "target"_a.none(true), "n_paths"_a,
      "max_steps"_a, "seed"_a, "threads"_a = 0, "lanes"_a = 64, "bridge"_a = true, "divergence_bound"_a = 1e8,
      "record_paths"_a = 0, "record_every"_a = 1, "first_path"_a = 0,
      "max_time"_a = std::numeric_limits<double>::infinity(), "noise_refinement"_a = 1, "progress"_a = py::none(),
      "sensitivities"_a = py::none(), "sensitivity_matrix"_a = py::none(),
      "restart"_a.none(true) = py::none(),
      "Run n_paths paths until each one's stop rule fires; returns a dict of per-path numpy arrays.");
}
