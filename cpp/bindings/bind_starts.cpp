// Starting-point samplers: thin constructors; validation lives in the core.
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "escapade/start.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

void bind_starts(py::module_& m) {
  py::class_<Start, std::shared_ptr<Start>>(m, "Start")
      .def_property_readonly("dim", &Start::dim)
      .def(
          "sample",
          [](const Start& s, std::uint64_t seed, std::uint64_t first, std::uint64_t n) {
            std::vector<double> x(static_cast<std::size_t>(n) * s.dim());
            for (std::uint64_t i = 0; i < n; ++i) s.sample(seed, first + i, x.data() + i * s.dim());
            return to_numpy(std::move(x), {static_cast<py::ssize_t>(n), s.dim()});
          },
          "seed"_a, "first"_a, "n"_a, "Starting points of paths first .. first + n - 1; returns (n, d).");
  py::class_<FixedStart, Start, std::shared_ptr<FixedStart>>(m, "FixedStart")
      .def(py::init([](const DoubleArray& x0) { return std::make_shared<FixedStart>(to_vector(x0, "x0")); }), "x0"_a);
  py::class_<PointsStart, Start, std::shared_ptr<PointsStart>>(m, "PointsStart")
      .def(py::init([](const DoubleArray& points) {
             if (points.ndim() != 2) throw std::invalid_argument("x0 must be 2-dimensional (n, d)");
             return std::make_shared<PointsStart>(Eigen::Map<const Matrix>(points.data(), points.shape(1), points.shape(0)));
           }),
           "points"_a);
  py::class_<UniformBoxStart, Start, std::shared_ptr<UniformBoxStart>>(m, "UniformBoxStart")
      .def(py::init([](const DoubleArray& low, const DoubleArray& high) {
             return std::make_shared<UniformBoxStart>(to_vector(low, "low"), to_vector(high, "high"));
           }),
           py::kw_only(), "low"_a, "high"_a);
  py::class_<UniformBallStart, Start, std::shared_ptr<UniformBallStart>>(m, "UniformBallStart")
      .def(py::init([](const DoubleArray& center, double radius) {
             return std::make_shared<UniformBallStart>(to_vector(center, "center"), radius);
           }),
           py::kw_only(), "center"_a, "radius"_a);
  py::class_<GaussianStart, Start, std::shared_ptr<GaussianStart>>(m, "GaussianStart")
      .def(py::init([](const DoubleArray& mean, const DoubleArray& cov) {
             return std::make_shared<GaussianStart>(to_vector(mean, "mean"), to_matrix(cov, "cov"));
           }),
           py::kw_only(), "mean"_a, "cov"_a);
}
