// Scores (reaction coordinates) for adaptive multilevel splitting: a real function of the state that increases
// from the reactant set toward the product set. Splitting kills the replicas whose highest score is lowest and
// branches survivors at the step where their score first passed that level, so a score only has to order the
// states sensibly: a poor one gives a correct but noisier answer.
#pragma once

#include <cmath>
#include <memory>
#include <string>

#include "escapade/compiled.hpp"
#include "escapade/jacobi.hpp"
#include "escapade/region.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

class Score {
 public:
  virtual ~Score() = default;
  virtual int dim() const = 0;
  virtual std::string name() const = 0;
  // out[l] = the score of column l, for `width` points stored dim x width.
  virtual void evaluate(const double* x, int width, double* out) const = 0;
  double operator()(const double* x) const {
    double v;
    evaluate(x, 1, &v);
    return v;
  }
};

// w . x + b.
class LinearScore final : public Score {
 public:
  LinearScore(Vector weights, double offset) : w_(std::move(weights)), b_(offset) {
    require(w_.size() >= 1, "weights", "an empty vector", "a non-empty vector");
    require(w_.allFinite() && w_.cwiseAbs().maxCoeff() > 0, "weights", "zero or non-finite", "finite and non-zero");
    require(std::isfinite(offset), "offset", offset, "finite");
  }
  int dim() const override { return static_cast<int>(w_.size()); }
  std::string name() const override { return "Linear"; }
  void evaluate(const double* x, int width, double* out) const override {
    const int d = dim();
    const double b = b_;
    if (d == 1) {
      const double w0 = w_[0];
      for (int l = 0; l < width; ++l) out[l] = w0 * x[l] + b;
      return;
    }
    for (int l = 0; l < width; ++l) {
      double s = b;
      for (int i = 0; i < d; ++i) s += w_[i] * x[static_cast<long>(l) * d + i];
      out[l] = s;
    }
  }

 private:
  Vector w_;
  double b_;
};

// radius - |x - point|: increases toward the point, 0 on the sphere of that radius around it.
class DistanceScore final : public Score {
 public:
  DistanceScore(Vector point, double radius) : p_(std::move(point)), r_(radius) {
    require(p_.size() >= 1 && p_.allFinite(), "point", "empty or non-finite", "a finite vector");
    require(std::isfinite(radius) && radius >= 0, "radius", radius, "finite and >= 0");
  }
  int dim() const override { return static_cast<int>(p_.size()); }
  std::string name() const override { return "Distance"; }
  void evaluate(const double* x, int width, double* out) const override {
    const int d = dim();
    for (int l = 0; l < width; ++l) {
      double s = 0;
      for (int i = 0; i < d; ++i) {
        const double e = x[static_cast<long>(l) * d + i] - p_[i];
        s += e * e;
      }
      out[l] = r_ - std::sqrt(s);
    }
  }

 private:
  Vector p_;
  double r_;
};

// |x - a| / (|x - a| + |x - b|): 0 at a, 1 at b.
class NormalizedDistanceScore final : public Score {
 public:
  NormalizedDistanceScore(Vector a, Vector b) : a_(std::move(a)), b_(std::move(b)) {
    require(a_.size() >= 1 && a_.allFinite(), "a", "empty or non-finite", "a finite vector");
    require(b_.size() == a_.size() && b_.allFinite(), "b", "of another length or non-finite",
            "a finite vector of a's length");
    require((a_ - b_).cwiseAbs().maxCoeff() > 0, "b", "equal to a", "a point other than a");
  }
  int dim() const override { return static_cast<int>(a_.size()); }
  std::string name() const override { return "NormalizedDistance"; }
  void evaluate(const double* x, int width, double* out) const override {
    const int d = dim();
    for (int l = 0; l < width; ++l) {
      double sa = 0, sb = 0;
      for (int i = 0; i < d; ++i) {
        const double xi = x[static_cast<long>(l) * d + i], ea = xi - a_[i], eb = xi - b_[i];
        sa += ea * ea;
        sb += eb * eb;
      }
      const double ra = std::sqrt(sa), rb = std::sqrt(sb);
      out[l] = ra / (ra + rb);
    }
  }

 private:
  Vector a_, b_;
};

// (x - c)^T M (x - c) / 2, M symmetric (the quasi-potential of a linear system: M = P^-1).
class QuadraticScore final : public Score {
 public:
  QuadraticScore(Matrix M, Vector center) : M_(std::move(M)), c_(std::move(center)) {
    require(c_.size() >= 1 && c_.allFinite(), "center", "empty or non-finite", "a finite vector");
    require(M_.rows() == c_.size() && M_.cols() == c_.size(), "matrix",
            std::to_string(M_.rows()) + "x" + std::to_string(M_.cols()), "square, matching center");
    require(M_.allFinite(), "matrix", "a matrix with NaN or inf", "finite");
  }
  int dim() const override { return static_cast<int>(c_.size()); }
  std::string name() const override { return "Quadratic"; }
  void evaluate(const double* x, int width, double* out) const override {
    const int d = dim();  // in index order, whatever the instruction set
    for (int l = 0; l < width; ++l)
      out[l] = 0.5 * plain_quadratic_form(M_.data(), x + static_cast<long>(l) * d, c_.data(), d);
  }

 private:
  Matrix M_;
  Vector c_;
};

// The signed distance to a region's boundary, positive inside: minus the distance to the region from outside.
// Splitting's default score toward a product set.
class RegionScore final : public Score {
 public:
  explicit RegionScore(std::shared_ptr<const Region> region) : region_(std::move(region)) {
    require(region_ != nullptr, "region", "None", "a region");
  }
  int dim() const override { return region_->dim(); }
  std::string name() const override { return "SignedDistance(" + region_->name() + ")"; }
  void evaluate(const double* x, int width, double* out) const override { region_->signed_distance(x, width, out); }

 private:
  std::shared_ptr<const Region> region_;
};

// -score.
class NegatedScore final : public Score {
 public:
  explicit NegatedScore(std::shared_ptr<const Score> inner) : inner_(std::move(inner)) {
    require(inner_ != nullptr, "score", "None", "a score");
  }
  int dim() const override { return inner_->dim(); }
  std::string name() const override { return "-" + inner_->name(); }
  void evaluate(const double* x, int width, double* out) const override {
    inner_->evaluate(x, width, out);
    for (int l = 0; l < width; ++l) out[l] = -out[l];
  }

 private:
  std::shared_ptr<const Score> inner_;
};

// A compiled function of one point (a numba cfunc with the landscape value's signature), called without the GIL.
class CompiledScore final : public Score {
 public:
  CompiledScore(int dim, std::string name, ValueFn fn) : d_(dim), name_(std::move(name)), fn_(fn) {
    require(dim >= 1, "dim", dim, ">= 1");
    require(fn != nullptr, "score", "a null function", "a compiled function");
  }
  int dim() const override { return d_; }
  std::string name() const override { return name_; }
  void evaluate(const double* x, int width, double* out) const override {
    for (int l = 0; l < width; ++l) {
      const double* xl = x + static_cast<long>(l) * d_;
      out[l] = fn_(xl, d_);
      detail::check_failure("score", name_, xl, d_, 1);
    }
  }

 private:
  int d_;
  std::string name_;
  ValueFn fn_;
};

// {x : score(x) >= level}, tested at the steps only (no Brownian-bridge test: a level set of a score has no
// crossing law): the level set Sigma of splitting's mean exit time.
class ScoreLevel final : public Region {
 public:
  ScoreLevel(std::shared_ptr<const Score> score, double level) : score_(std::move(score)), level_(level) {
    require(score_ != nullptr, "score", "None", "a score");
    require(std::isfinite(level), "level", level, "finite");
  }
  int dim() const override { return score_->dim(); }
  std::string name() const override { return "ScoreLevel"; }
  bool contains(const double* x) const override { return (*score_)(x) >= level_; }
  void contains(const double* x, int width, std::uint8_t* inside) const override {
    double v[64];
    for (int l0 = 0; l0 < width; l0 += 64) {
      const int n = std::min(64, width - l0);
      score_->evaluate(x + static_cast<long>(l0) * dim(), n, v);
      for (int l = 0; l < n; ++l) inside[l0 + l] = v[l] >= level_;
    }
  }
  void crossing_probability(const double*, const double*, int width, const Diffusion&, double, bool,
                            double* p) const override {
    for (int l = 0; l < width; ++l) p[l] = 0.0;
  }
  // No crossing between steps: a path that ends a step in the set is placed at the step's end (a plane at
  // infinite distance from the start and none from the end gives crossing_time = the whole step).
  CrossingPlane crossing_plane(const double*, const double*, const Diffusion&, double, bool, double) const override {
    return {std::numeric_limits<double>::infinity(), 0.0, 0.0, 0};
  }
  void to_boundary(double*, int) const override {}
  double signed_distance(const double* x) const override { return (*score_)(x) - level_; }

 private:
  std::shared_ptr<const Score> score_;
  double level_;
};

}  // namespace escapade
