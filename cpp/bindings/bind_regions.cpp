// Regions (stop and target sets): thin constructors; validation lives in the core.
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "escapade/region.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

void bind_regions(py::module_& m) {
  py::class_<Region, std::shared_ptr<Region>>(m, "Region")
      .def_property_readonly("dim", &Region::dim)
      .def_property_readonly("n_faces", &Region::n_faces)
      .def_property_readonly("reflects", &Region::reflects)
      .def(
          "contains",
          [](const Region& r, const DoubleArray& x) {
            const Matrix P = points_of(x, r.dim(), "x");
            std::vector<std::uint8_t> in(P.cols());
            r.contains(P.data(), static_cast<int>(P.cols()), in.data());
            return to_numpy(std::move(in), {static_cast<py::ssize_t>(P.cols())});
          },
          "x"_a, "1 where the row of x (n, d) lies in the region; returns (n,) uint8.");
  py::class_<HalfSpace, Region, std::shared_ptr<HalfSpace>>(m, "HalfSpace")
      .def(py::init([](const DoubleArray& normal, double offset, bool reflecting) {
             return std::make_shared<HalfSpace>(to_vector(normal, "normal"), offset, reflecting);
           }),
           py::kw_only(), "normal"_a, "offset"_a, "reflecting"_a = false);
  py::class_<Ball, Region, std::shared_ptr<Ball>>(m, "Ball")
      .def(py::init([](const DoubleArray& center, double radius) {
             return std::make_shared<Ball>(to_vector(center, "center"), radius);
           }),
           py::kw_only(), "center"_a, "radius"_a);
  py::class_<Ellipsoid, Region, std::shared_ptr<Ellipsoid>>(m, "Ellipsoid")
      .def(py::init([](const DoubleArray& center, const DoubleArray& matrix) {
             return std::make_shared<Ellipsoid>(to_vector(center, "center"), to_matrix(matrix, "matrix"));
           }),
           py::kw_only(), "center"_a, "matrix"_a)
      .def(
          "distance",
          [](const Ellipsoid& r, const DoubleArray& x) {
            const Matrix P = points_of(x, r.dim(), "x");
            std::vector<double> out(P.cols());
            for (long l = 0; l < P.cols(); ++l) out[l] = r.distance(P.col(l).data());
            return to_numpy(std::move(out), {static_cast<py::ssize_t>(P.cols())});
          },
          "x"_a, "The Euclidean distance from each row of x (n, d) to the boundary; returns (n,).")
      .def(
          "nearest",
          [](const Ellipsoid& r, const DoubleArray& x) {
            Matrix P = points_of(x, r.dim(), "x");
            for (long l = 0; l < P.cols(); ++l) r.nearest_point(P.col(l).data());
            std::vector<double> out(P.data(), P.data() + P.size());
            return to_numpy(std::move(out), {static_cast<py::ssize_t>(P.cols()), static_cast<py::ssize_t>(P.rows())});
          },
          "x"_a, "The boundary point nearest to each row of x (n, d); returns (n, d).");
  py::class_<Box, Region, std::shared_ptr<Box>>(m, "Box")
      .def(py::init([](const DoubleArray& low, const DoubleArray& high, const std::vector<std::uint8_t>& reflecting) {
             if (reflecting.empty()) return std::make_shared<Box>(to_vector(low, "low"), to_vector(high, "high"));
             return std::make_shared<Box>(to_vector(low, "low"), to_vector(high, "high"), reflecting);
           }),
           py::kw_only(), "low"_a, "high"_a, "reflecting"_a = std::vector<std::uint8_t>{});
  py::class_<Intersection, Region, std::shared_ptr<Intersection>>(m, "Intersection")
      .def(py::init([](const std::vector<std::shared_ptr<Region>>& regions) {
             std::vector<std::shared_ptr<const Region>> members(regions.begin(), regions.end());
             return std::make_shared<Intersection>(std::move(members));
           }),
           "regions"_a, "The intersection of regions (faces numbered member by member).")
      .def(
          "project",
          [](const Intersection& r, const DoubleArray& x) {
            if (!r.convex())
              throw py::value_error("project: the intersection must be convex (half-spaces, balls, ellipsoids and boxes "
                                    "without reflecting faces), got members that are not");
            Matrix P = points_of(x, r.dim(), "x");
            for (long l = 0; l < P.cols(); ++l)
              if (!r.nearest_point(P.col(l).data())) P.col(l).setConstant(std::numeric_limits<double>::quiet_NaN());
            std::vector<double> out(P.data(), P.data() + P.size());
            return to_numpy(std::move(out), {static_cast<py::ssize_t>(P.cols()), static_cast<py::ssize_t>(P.rows())});
          },
          "x"_a,
          "The point of the set's closure nearest to each row of x (n, d), the row itself inside; NaN rows where "
          "none is found (members without a common point, a degenerate set); returns (n, d).");
  py::class_<Outside, Region, std::shared_ptr<Outside>>(m, "Outside")
      .def(py::init([](const std::shared_ptr<Region>& region) {
             if (!region) throw py::type_error("region: expected a region, got None");
             return std::make_shared<Outside>(region);
           }),
           "region"_a)
      .def_property_readonly(
          "region", [](const Outside& o) { return std::const_pointer_cast<Region>(o.inner()); },
          "The region this is the complement of.");
}
