#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "escapade/kernels.hpp"
#include "escapade/landscapes/finite_sum.hpp"

namespace escapade {

// Quadratic-circle sums on R^2 (004, Problem 4.1 and Appendix A): F(x) = sum_i p_i min{g_i(x), h_i(x)} with
//   the quadratic basin (A1)  g(x) = q1 (x2 - q2 x1^2 - q3)^2,
//   the circular basin (A2)   h(x) = c4 for |x| <= c2, c4 + c1 for |x| >= c3, and in between
//                             c4 + c1 s^3 (6 s^2 - 15 s + 10) with s = (|x| - c2) / (c3 - c2)  (C^2 across both circles),
//   their minimum (A3). Where g(x) <= h(x) (ties included: Remark 3) a term's gradient and Hessian are g's.
class QuadraticCircleSum final : public FiniteSum {
 public:
  // One entry per term in each vector.
  QuadraticCircleSum(Vector q1, Vector q2, Vector q3, Vector c1, Vector c2, Vector c3, Vector c4, Vector p)
      : q1_(std::move(q1)), q2_(std::move(q2)), q3_(std::move(q3)), c1_(std::move(c1)), c2_(std::move(c2)),
        c3_(std::move(c3)), c4_(std::move(c4)), p_(std::move(p)) {
    const long n = q1_.size();
    require(n >= 1, "q1", "no terms", "at least one term");
    const Vector* all[] = {&q1_, &q2_, &q3_, &c1_, &c2_, &c3_, &c4_};
    const char* names[] = {"q1", "q2", "q3", "c1", "c2", "c3", "c4"};
    for (int k = 0; k < 7; ++k) {
      require(all[k]->size() == n, names[k], "a vector of length " + std::to_string(all[k]->size()),
              "of length " + std::to_string(n) + " (one entry per term)");
      require(all[k]->allFinite(), names[k], "a vector with NaN or inf", "finite");
      if (k != 2) require((all[k]->array() >= 0).all(), names[k], "a vector with a negative entry", ">= 0");
    }
    require((c3_.array() > c2_.array()).all(), "c3", "a vector with c3 <= c2 in some term",
            "larger than c2 in every term");
    uniform_ = check_weights(p_, n);
  }
  int dim() const override { return 2; }
  std::string name() const override { return "QuadraticCircleSum"; }
  int n_terms() const override { return static_cast<int>(q1_.size()); }
  const Vector& weights() const override { return p_; }
  bool uniform() const override { return uniform_; }

  double value(const double* x) const override {
    double f = 0;
    for (int i = 0; i < n_terms(); ++i) f += p_[i] * term(i, x, nullptr, nullptr);
    return f;
  }
  void add_term_gradient(int i, const double* x, double* g) const override {
    double gi[2];
    term(i, x, gi, nullptr);
    g[0] += gi[0];
    g[1] += gi[1];
  }
  // The block kernel: term by term, the lanes that drew the term 8 at a time in vectors (the last fewer than 8 one
  // by one), every branch of term()
  // evaluated for all 8 and the lane's own picked by comparisons (no data-dependent jumps), each with term()'s
  // expressions in term()'s order (sqrt and division are correctly rounded in vectors too): the bits of the
  // scalar terms in increasing order.
  void add_batch_gradients(const TermBatch& b, const double* x, double* g) const override {
    using V = detail::Vec8;
    using M = decltype(V{} < V{});  // lane masks: all ones where true
    auto pick = [](M m, V a, V c) { return m ? a : c; };
    for (int i = 0; i < b.n_terms; ++i) {
      const double q1 = q1_[i], q2 = q2_[i], q3 = q3_[i], c1 = c1_[i], c2 = c2_[i], c3 = c3_[i], c4 = c4_[i];
      const double w = c3 - c2;
      int e0 = b.start[i];
      for (; e0 + 8 <= b.start[i + 1]; e0 += 8) {
        V x1, x2;
        for (int t = 0; t < 8; ++t) {
          const long o = 2L * b.lane[e0 + t];
          x1[t] = x[o];
          x2[t] = x[o + 1];
        }
        const V u = x2 - q2 * (x1 * x1) - q3;
        const V gq = q1 * (u * u);
        V r;
        const V r2 = x1 * x1 + x2 * x2;
        for (int t = 0; t < 8; ++t) r[t] = std::sqrt(r2[t]);
        const V sv = (r - c2) / w;
        const M inner = r <= c2, outer = r >= c3, mid = ~(inner | outer);
        const V hmid = c4 + c1 * (sv * sv * sv) * (6.0 * sv * sv - 15.0 * sv + 10.0);
        const V hc = pick(inner, V{} + c4, pick(outer, V{} + (c4 + c1), hmid));
        const V dhmid = c1 * 30.0 * (sv * sv) * ((sv - 1.0) * (sv - 1.0)) / w;
        const V dh = pick(mid, dhmid, V{});
        const M quad = gq <= hc, flat = dh == 0.0;
        const V g0 = pick(quad, -4.0 * q1 * q2 * x1 * u, pick(flat, V{}, dh * x1 / r));
        const V g1 = pick(quad, 2.0 * q1 * u, pick(flat, V{}, dh * x2 / r));
        for (int t = 0; t < 8; ++t) {
          double* gl = g + 2L * b.lane[e0 + t];
          if (!b.weight) {
            gl[0] += g0[t];
            gl[1] += g1[t];
          } else {
            const double wi = b.weight[i];
            gl[0] += wi * (0.0 + g0[t]);
            gl[1] += wi * (0.0 + g1[t]);
          }
        }
      }
      for (; e0 < b.start[i + 1]; ++e0) {  // the last lanes of the term one by one (a vector would be mostly idle)
        const long o = 2L * b.lane[e0];
        double gi[2];
        term(i, x + o, gi, nullptr);
        if (!b.weight) {
          g[o] += gi[0];
          g[o + 1] += gi[1];
        } else {
          g[o] += b.weight[i] * (0.0 + gi[0]);
          g[o + 1] += b.weight[i] * (0.0 + gi[1]);
        }
      }
    }
  }
  void hessian(const double* x, double* H) const override {
    double h[4];
    for (int k = 0; k < 4; ++k) H[k] = 0.0;
    for (int i = 0; i < n_terms(); ++i) {
      double g[2];
      term(i, x, g, h);
      for (int k = 0; k < 4; ++k) H[k] += p_[i] * h[k];
    }
  }

 private:
  // min{g_i, h_i} at x; with grad (2) and hess (2 x 2, symmetric) when not null.
  double term(int i, const double* x, double* grad, double* hess) const {
    const double x1 = x[0], x2 = x[1];
    const double u = x2 - q2_[i] * (x1 * x1) - q3_[i];
    const double gq = q1_[i] * (u * u);
    const double r = std::sqrt(x1 * x1 + x2 * x2);
    const double c1 = c1_[i], c2 = c2_[i], w = c3_[i] - c2_[i], c4 = c4_[i];
    double hc, dh = 0.0, d2h = 0.0;  // h(r), h'(r), h''(r)
    if (r <= c2) {
      hc = c4;
    } else if (r >= c3_[i]) {
      hc = c4 + c1;
    } else {
      const double s = (r - c2) / w;
      hc = c4 + c1 * (s * s * s) * (6.0 * s * s - 15.0 * s + 10.0);
      dh = c1 * 30.0 * (s * s) * ((s - 1.0) * (s - 1.0)) / w;
      d2h = c1 * 60.0 * s * (s - 1.0) * (2.0 * s - 1.0) / (w * w);
    }
    if (gq <= hc) {
      const double q1 = q1_[i], q2 = q2_[i];
      if (grad) {
        grad[0] = -4.0 * q1 * q2 * x1 * u;
        grad[1] = 2.0 * q1 * u;
      }
      if (hess) {
        hess[0] = -4.0 * q1 * q2 * u + 8.0 * q1 * (q2 * q2) * (x1 * x1);
        hess[1] = hess[2] = -4.0 * q1 * q2 * x1;
        hess[3] = 2.0 * q1;
      }
      return gq;
    }
    // Radial: grad = h' x / r, Hessian = h'' x x^T / r^2 + (h' / r)(I - x x^T / r^2); zero on the flat parts.
    if (grad) {
      grad[0] = dh == 0.0 ? 0.0 : dh * x1 / r;
      grad[1] = dh == 0.0 ? 0.0 : dh * x2 / r;
    }
    if (hess) {
      for (int k = 0; k < 4; ++k) hess[k] = 0.0;
      if (dh != 0.0 || d2h != 0.0) {
        const double e1 = x1 / r, e2 = x2 / r, t = dh / r;
        hess[0] = d2h * e1 * e1 + t * (1.0 - e1 * e1);
        hess[1] = hess[2] = (d2h - t) * e1 * e2;
        hess[3] = d2h * e2 * e2 + t * (1.0 - e2 * e2);
      }
    }
    return hc;
  }

  Vector q1_, q2_, q3_, c1_, c2_, c3_, c4_, p_;
  bool uniform_ = false;
};

}  // namespace escapade
