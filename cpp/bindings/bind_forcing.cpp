// Forcings w(t) of the constrained flow: thin constructors; validation lives in the core.
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "escapade/forcing.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

void bind_forcing(py::module_& m) {
  py::class_<Forcing, std::shared_ptr<Forcing>>(m, "Forcing")
      .def_property_readonly("dim", &Forcing::dim)
      .def_property_readonly("name", &Forcing::name)
      .def(
          "eval",
          [](const Forcing& w, const DoubleArray& t, std::uint64_t seed, std::uint64_t path) {
            if (t.ndim() != 1) throw std::invalid_argument("t must be 1-dimensional");
            const long n = t.shape(0);
            std::vector<double> out(static_cast<std::size_t>(n) * w.dim());
            for (long i = 0; i < n; ++i) w.eval(t.data()[i], seed, path, out.data() + i * w.dim());
            return to_numpy(std::move(out), {static_cast<py::ssize_t>(n), w.dim()});
          },
          "t"_a, "seed"_a, "path"_a, "w(t) of path `path` of the run with seed `seed` at each time of t; returns (n, d).");
  py::class_<PeriodicForcing, Forcing, std::shared_ptr<PeriodicForcing>>(m, "PeriodicForcing")
      .def(py::init([](const DoubleArray& directions, double amplitude, double omega, double phase) {
             return std::make_shared<PeriodicForcing>(to_matrix(directions, "directions"), amplitude, omega, phase);
           }),
           py::kw_only(), "directions"_a, "amplitude"_a, "omega"_a, "phase"_a = 0.0);
  py::class_<BrownianForcing, Forcing, std::shared_ptr<BrownianForcing>>(m, "BrownianForcing")
      .def(py::init<int, double, double, int>(), py::kw_only(), "dim"_a, "scale"_a, "horizon"_a, "levels"_a);
  py::class_<RandomDirectionForcing, Forcing, std::shared_ptr<RandomDirectionForcing>>(m, "RandomDirectionForcing")
      .def(py::init<int, double, double>(), py::kw_only(), "dim"_a, "amplitude"_a, "tau"_a);
  py::class_<TableForcing, Forcing, std::shared_ptr<TableForcing>>(m, "TableForcing")
      .def(py::init([](const DoubleArray& times, const DoubleArray& values) {
             return std::make_shared<TableForcing>(to_vector(times, "times"), to_matrix(values, "values"));
           }),
           py::kw_only(), "times"_a, "values"_a);
}
