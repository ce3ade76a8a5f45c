#pragma once

#include <cmath>
#include <vector>

#include "escapade/dynamics/discrete_map.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Perturbed gradient descent (Jin et al. 2017). At iteration t:
//   if |grad f(x_t)| <= g_thres and t - t_noise > t_thres: remember x~ = x_t, t_noise = t, and move x_t to a
//     uniform point of the ball of radius r around it;
//   if t - t_noise = t_thres and f(x_t) - f(x~) > -f_thres: stop, answering x~ (status Converged);
//   x_{t+1} = x_t - eta grad f(x_t).
// Per-path state: t_noise, f(x~), x~. Each step draws d normals and one uniform (used when perturbing).
class PerturbedGD final : public DiscreteMap {
 public:
  PerturbedGD(StepPolicy lr, double radius, double g_thres, double f_thres, double t_thres)
      : DiscreteMap(std::move(lr)), r_(radius), g_thres_(g_thres), f_thres_(f_thres), t_thres_(t_thres) {
    require(std::isfinite(radius) && radius >= 0, "radius", radius, "finite and >= 0");
    require(std::isfinite(g_thres) && g_thres >= 0, "g_thres", g_thres, "finite and >= 0");
    require(std::isfinite(f_thres) && f_thres >= 0, "f_thres", f_thres, "finite and >= 0");
    require(std::isfinite(t_thres) && t_thres >= 1 && t_thres == std::floor(t_thres), "t_thres", t_thres,
            "a whole number of iterations >= 1");
  }
  std::string name() const override { return "PerturbedGD"; }
  int noise_dim(int d) const override { return d; }
  int uniform_dim(int) const override { return 1; }
  int state_dim(int d) const override { return d + 2; }
  void init_state(const double* x0, double* s, int d) const override {
    s[0] = -(t_thres_ + 1.0);  // no perturbation yet
    s[1] = 0.0;
    for (int i = 0; i < d; ++i) s[2 + i] = x0[i];
  }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim(), sd = d + 2;
    f.gradient(in.x, out.g, in.width);
    std::vector<double> y(d);
    for (int l = 0; l < in.width; ++l) {
      const long o = static_cast<long>(l) * d;
      const double* s = in.state + static_cast<long>(l) * sd;
      double* sn = out.state + static_cast<long>(l) * sd;
      double* g = out.g + o;
      for (int i = 0; i < sd; ++i) sn[i] = s[i];
      for (int i = 0; i < d; ++i) y[i] = in.x[o + i];
      const double t = static_cast<double>(in.step[l]);
      double g2 = 0;
      for (int i = 0; i < d; ++i) g2 += g[i] * g[i];
      if (std::sqrt(g2) <= g_thres_ && t - s[0] > t_thres_) {
        sn[0] = t;
        sn[1] = f.value(y.data());
        for (int i = 0; i < d; ++i) sn[2 + i] = y[i];
        const double* z = in.z + o;
        double z2 = 0;
        for (int i = 0; i < d; ++i) z2 += z[i] * z[i];
        const double scale = z2 > 0 ? r_ * std::pow(in.u[l], 1.0 / d) / std::sqrt(z2) : 0.0;
        for (int i = 0; i < d; ++i) y[i] += scale * z[i];
        f.gradient(y.data(), g, 1);
      }
      if (t - sn[0] == t_thres_ && f.value(y.data()) - sn[1] > -f_thres_) {
        for (int i = 0; i < d; ++i) out.x[o + i] = sn[2 + i];
        out.converged[l] = 1;
        continue;
      }
      const double eta = lr_(in.step[l]);
      for (int i = 0; i < d; ++i) out.x[o + i] = y[i] - eta * g[i];
    }
  }

 private:
  double r_, g_thres_, f_thres_, t_thres_;
};

}  // namespace escapade
