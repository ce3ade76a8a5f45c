// Starting points: path i's start is a function of (seed, i) only, drawn from the reserved step kStartStep.
#pragma once

#include <cmath>
#include <string>

#include "escapade/jacobi.hpp"
#include "escapade/rng.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

class Start {
 public:
  virtual ~Start() = default;
  virtual int dim() const = 0;
  virtual std::string name() const = 0;
  // Number of paths the start fixes (a list of points), or -1 for any number.
  virtual long n_points() const { return -1; }
  virtual void sample(std::uint64_t seed, std::uint64_t path, double* x) const = 0;
};

inline void require_finite(const char* name, const Eigen::Ref<const Matrix>& a) {
  require(a.size() >= 1, name, "empty", "non-empty");
  require(a.allFinite(), name, "an array with NaN or inf", "finite");
}

// A random start draws its d coordinates from one WordStream, which has room for kMaxStreamDim.
inline void require_stream_dim(const char* name, long d) {
  require(d <= kMaxStreamDim, name, "length " + std::to_string(d),
          "of length at most " + std::to_string(kMaxStreamDim) + " (a random start's coordinates)");
}

// Every path starts at the same point.
class FixedStart final : public Start {
 public:
  explicit FixedStart(Vector x0) : x0_(std::move(x0)) { require_finite("x0", x0_); }
  int dim() const override { return static_cast<int>(x0_.size()); }
  std::string name() const override { return "Fixed"; }
  void sample(std::uint64_t, std::uint64_t, double* x) const override {
    for (int i = 0; i < dim(); ++i) x[i] = x0_[i];
  }

 private:
  Vector x0_;
};

// Path i starts at column i of a d x n matrix (row i of the user's (n, d) array).
class PointsStart final : public Start {
 public:
  explicit PointsStart(Matrix points) : P_(std::move(points)) { require_finite("x0", P_); }
  int dim() const override { return static_cast<int>(P_.rows()); }
  std::string name() const override { return "Points"; }
  long n_points() const override { return static_cast<long>(P_.cols()); }
  void sample(std::uint64_t, std::uint64_t path, double* x) const override {
    for (int i = 0; i < dim(); ++i) x[i] = P_(i, static_cast<long>(path));
  }

 private:
  Matrix P_;
};

// Uniform in the box [low, high].
class UniformBoxStart final : public Start {
 public:
  UniformBoxStart(Vector low, Vector high) : lo_(std::move(low)), hi_(std::move(high)) {
    require_finite("low", lo_);
    require_finite("high", hi_);
    require(lo_.size() == hi_.size(), "high", "length " + std::to_string(hi_.size()),
            "of the same length as low (" + std::to_string(lo_.size()) + ")");
    require((lo_.array() < hi_.array()).all(), "low", "not below high", "below high in every coordinate");
    require_stream_dim("low", lo_.size());
  }
  int dim() const override { return static_cast<int>(lo_.size()); }
  std::string name() const override { return "UniformBox"; }
  void sample(std::uint64_t seed, std::uint64_t path, double* x) const override {
    WordStream rs(seed, path, kStartStep);
    for (int i = 0; i < dim(); ++i) {
      const double u = rs.uniform(), width = hi_[i] - lo_[i];
      // A width beyond the doubles (bounds near +-1.8e308): the same point as a weighted mean of the bounds.
      x[i] = std::isfinite(width) ? lo_[i] + width * u : lo_[i] * (1.0 - u) + hi_[i] * u;
    }
  }

 private:
  Vector lo_, hi_;
};

// Uniform in the ball |x - center| <= radius: a normal direction times radius * U^(1/d).
class UniformBallStart final : public Start {
 public:
  UniformBallStart(Vector center, double radius) : c_(std::move(center)), r_(radius) {
    require_finite("center", c_);
    require_stream_dim("center", c_.size());
    require(std::isfinite(radius) && radius > 0, "radius", radius, "a positive finite number");
  }
  int dim() const override { return static_cast<int>(c_.size()); }
  std::string name() const override { return "UniformBall"; }
  void sample(std::uint64_t seed, std::uint64_t path, double* x) const override {
    WordStream rs(seed, path, kStartStep);
    const int d = dim();
    const double n2 = rs.direction_normals(x, d);
    const double scale = r_ * std::pow(rs.uniform(), 1.0 / d) / std::sqrt(n2);
    for (int i = 0; i < d; ++i) x[i] = c_[i] + scale * x[i];
  }

 private:
  Vector c_;
  double r_;
};

// Gaussian N(mean, cov) via the Cholesky factor of cov (positive definite required).
class GaussianStart final : public Start {
 public:
  GaussianStart(Vector mean, Matrix cov) : m_(std::move(mean)) {
    require_finite("mean", m_);
    require_stream_dim("mean", m_.size());
    require_finite("cov", cov);
    require(cov.rows() == m_.size() && cov.cols() == m_.size(), "cov", std::to_string(cov.rows()) + "x" + std::to_string(cov.cols()),
            "a square matrix matching mean (" + std::to_string(m_.size()) + ")");
    require((cov - cov.transpose()).cwiseAbs().maxCoeff() <= 1e-12 * cov.cwiseAbs().maxCoeff(), "cov",
            "a non-symmetric matrix", "symmetric");
    // In plain arithmetic (jacobi.hpp), not Eigen's LLT, whose vectorized sums gave different bits at different
    // instruction sets from d = 8 on.
    const int d = static_cast<int>(m_.size());
    L_.resize(d, d);
    require(plain_cholesky(cov.data(), L_.data(), d), "cov", "not positive definite", "positive definite");
  }
  int dim() const override { return static_cast<int>(m_.size()); }
  std::string name() const override { return "Gaussian"; }
  void sample(std::uint64_t seed, std::uint64_t path, double* x) const override {
    WordStream rs(seed, path, kStartStep);
    const int d = dim();
    Vector z(d);
    for (int i = 0; i < d; ++i) z[i] = rs.normal();
    for (int i = 0; i < d; ++i) {
      double s = m_[i];
      for (int j = 0; j <= i; ++j) s += L_(i, j) * z[j];
      x[i] = s;
    }
  }

 private:
  Vector m_;
  Matrix L_;
};

}  // namespace escapade
