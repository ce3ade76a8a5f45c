#pragma once

#include <cmath>
#include <vector>

#include "escapade/jacobi.hpp"
#include "escapade/kernels.hpp"
#include "escapade/landscape.hpp"

namespace escapade {

// f(x) = (x - c)^T H (x - c) / 2 with a dense symmetric H (any signature: minima, saddles, flat directions).
class Quadratic final : public Landscape {
 public:
  Quadratic(Matrix H, Vector center) : H_(std::move(H)), c_(std::move(center)) {
    require(H_.rows() == H_.cols() && H_.rows() >= 1, "H", std::to_string(H_.rows()) + "x" + std::to_string(H_.cols()),
            "a non-empty square matrix");
    require(H_.allFinite(), "H", "a matrix with NaN or inf", "finite");
    const double scale = H_.cwiseAbs().maxCoeff();
    require((H_ - H_.transpose()).cwiseAbs().maxCoeff() <= 1e-12 * scale, "H", "a non-symmetric matrix", "symmetric");
    require(c_.size() == H_.rows(), "center", "a vector of length " + std::to_string(c_.size()),
            "of length " + std::to_string(H_.rows()) + " (the size of H)");
    require(c_.allFinite(), "center", "a vector with NaN or inf", "finite");
    Hp_ = PaddedMatrix(H_);
    // x - (+0.0) is x bit for bit (-0.0 included), so a centre of positive zeros needs no shifted copy.
    plus_zero_center_ = true;
    for (long i = 0; i < c_.size(); ++i) plus_zero_center_ = plus_zero_center_ && c_[i] == 0.0 && !std::signbit(c_[i]);
  }
  int dim() const override { return static_cast<int>(H_.rows()); }
  std::string name() const override { return "Quadratic"; }
  double value(const double* x) const override {
    // Not Eigen's products, whose order and FMA follow the instruction set.
    return 0.5 * plain_quadratic_form(H_.data(), x, c_.data(), dim());
  }
  // g = H (x - c) as one matrix-matrix product over the block, each entry summed over k in a fixed order: a
  // lane's bits do not depend on the block width (see kernels.hpp).
  void gradient(const double* x, double* g, int width) const override {
    const int d = dim();
    if (plus_zero_center_) {
      fixed_order_matmul(Hp_, x, width, g);
      return;
    }
    thread_local std::vector<double> y;
    y.resize(static_cast<std::size_t>(d) * width);
    for (int l = 0; l < width; ++l)
      for (int k = 0; k < d; ++k) y[static_cast<std::size_t>(l) * d + k] = x[static_cast<long>(l) * d + k] - c_[k];
    fixed_order_matmul(Hp_, y.data(), width, g);
  }
  void hessian(const double*, double* H) const override { Eigen::Map<Matrix>(H, dim(), dim()) = H_; }
  // A lane's gradient is a d x d product, moving a lane d numbers: from d = 8 on, finished lanes are packed away.
  bool keep_blocks_dense() const override { return dim() >= 8; }

 private:
  Matrix H_;
  Vector c_;
  PaddedMatrix Hp_;  // H with its rows padded for the kernel
  bool plus_zero_center_ = false;
};

}  // namespace escapade
