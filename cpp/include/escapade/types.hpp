// Shared vocabulary of the core: lane blocks, path status codes, index types.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace escapade {

// A block of lanes: d x lanes, column-major, one column per path. A C-ordered numpy array of shape
// (n_paths, d) has the same memory layout, so results map without transposes.
using Block = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

// How a path ended. Values are part of the Python API (escapade.Status).
enum class Status : std::int8_t {
  Exited = 0,    // left the `stop` region
  Hit = 1,       // entered the `target` region
  Censored = 2,  // reached the step cap first
  Diverged = 3,  // state became non-finite or exceeded the divergence bound
  Converged = 4,  // the optimizer declared convergence (perturbed GD's stopping rule)
  Singular = 5,   // the constraint Jacobian lost rank (J J^T numerically singular): the projected flow is undefined
  Running = -1,  // internal: not finished
};

}  // namespace escapade
