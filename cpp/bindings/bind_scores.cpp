// Scores, the reaction coordinates of splitting: thin constructors. Apart from bind_splitting.cpp so that the two
// compile in parallel.
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "escapade/score.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

void bind_scores(py::module_& m) {
  py::class_<Score, std::shared_ptr<Score>>(m, "Score")
      .def_property_readonly("dim", &Score::dim)
      .def(
          "evaluate",
          [](const Score& s, const DoubleArray& x) {
            const Matrix P = points_of(x, s.dim(), "x");
            std::vector<double> out(static_cast<std::size_t>(P.cols()));
            {
              py::gil_scoped_release nogil;
              s.evaluate(P.data(), static_cast<int>(P.cols()), out.data());
            }
            return to_numpy(std::move(out), {static_cast<py::ssize_t>(P.cols())});
          },
          "x"_a, "The score of each row of x (n, d); returns (n,).");
  py::class_<LinearScore, Score, std::shared_ptr<LinearScore>>(m, "LinearScore")
      .def(py::init([](const DoubleArray& weights, double offset) {
             return std::make_shared<LinearScore>(to_vector(weights, "weights"), offset);
           }),
           py::kw_only(), "weights"_a, "offset"_a);
  py::class_<DistanceScore, Score, std::shared_ptr<DistanceScore>>(m, "DistanceScore")
      .def(py::init([](const DoubleArray& point, double radius) {
             return std::make_shared<DistanceScore>(to_vector(point, "point"), radius);
           }),
           py::kw_only(), "point"_a, "radius"_a);
  py::class_<NormalizedDistanceScore, Score, std::shared_ptr<NormalizedDistanceScore>>(m, "NormalizedDistanceScore")
      .def(py::init([](const DoubleArray& a, const DoubleArray& b) {
             return std::make_shared<NormalizedDistanceScore>(to_vector(a, "a"), to_vector(b, "b"));
           }),
           py::kw_only(), "a"_a, "b"_a);
  py::class_<QuadraticScore, Score, std::shared_ptr<QuadraticScore>>(m, "QuadraticScore")
      .def(py::init([](const DoubleArray& matrix, const DoubleArray& center) {
             return std::make_shared<QuadraticScore>(to_matrix(matrix, "matrix"), to_vector(center, "center"));
           }),
           py::kw_only(), "matrix"_a, "center"_a);
  py::class_<RegionScore, Score, std::shared_ptr<RegionScore>>(m, "RegionScore")
      .def(py::init<std::shared_ptr<const Region>>(), py::kw_only(), "region"_a);
  py::class_<NegatedScore, Score, std::shared_ptr<NegatedScore>>(m, "NegatedScore")
      .def(py::init<std::shared_ptr<const Score>>(), py::kw_only(), "score"_a);
  py::class_<CompiledScore, Score, std::shared_ptr<CompiledScore>>(m, "CompiledScore")
      .def(py::init([](int dim, std::string name, std::uintptr_t fn) {
             return std::make_shared<CompiledScore>(dim, std::move(name), reinterpret_cast<ValueFn>(fn));
           }),
           py::kw_only(), "dim"_a, "name"_a, "score"_a);
  py::class_<ScoreLevel, Region, std::shared_ptr<ScoreLevel>>(m, "ScoreLevel")
      .def(py::init<std::shared_ptr<const Score>, double>(), py::kw_only(), "score"_a, "level"_a);
}
