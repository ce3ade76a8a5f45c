#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "escapade/validate.hpp"

namespace escapade {

// Step size eta_t of a discrete optimizer map at iteration t = 0, 1, 2, ...:
//   constant c | c / sqrt(t + 1) | A / (t + 1) (the A/t schedule with t counted from 1) | a table eta[t].
class StepPolicy {
 public:
  enum class Kind { Constant, InverseSqrt, Inverse, Table };

  StepPolicy(Kind kind, double scale, std::vector<double> table = {})
      : kind_(kind), scale_(scale), table_(std::move(table)) {
    if (kind_ == Kind::Table) {
      require(!table_.empty(), "lr", "an empty table", "a non-empty array of step sizes");
      for (double v : table_) require(std::isfinite(v) && v >= 0, "lr", v, "finite and >= 0 in every entry");
    } else {
      require(std::isfinite(scale) && scale >= 0, "lr", scale, "finite and >= 0");
    }
  }

  // Beyond the end of a table the last entry is used (the Python layer requires the table to cover the run).
  double operator()(std::uint64_t t) const {
    switch (kind_) {
      case Kind::Constant: return scale_;
      case Kind::InverseSqrt: return scale_ / std::sqrt(static_cast<double>(t) + 1.0);
      case Kind::Inverse: return scale_ / (static_cast<double>(t) + 1.0);
      case Kind::Table: return table_[t < table_.size() ? t : table_.size() - 1];
    }
    return scale_;
  }
  bool constant() const { return kind_ == Kind::Constant; }

 private:
  Kind kind_;
  double scale_;
  std::vector<double> table_;
};

}  // namespace escapade
