// Elementary functions written as straight-line IEEE arithmetic.
//
// libm's log/exp/sin/cos are opaque calls that GCC vectorizes only under -ffast-math (glibc's libmvec), whose
// results then differ from the scalar ones. These versions use only +, -, *, /, integer bit operations and
// selects, so loops over lanes vectorize at -O3 with -ffp-contract=off, and a lane's value is the same bits
// whatever the vector width or machine. Accuracy is about 1 ulp on the ranges the samplers use; the general exp
// and sincos at the end (for landscapes and forcings) are within 2 ulp on the whole double range.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// The kernels must inline into the callers' lane loops to vectorize; GCC's heuristics sometimes decline.
#if defined(__GNUC__)
#define ESCAPADE_KERNEL inline __attribute__((always_inline))
#define ESCAPADE_LIKELY(c) __builtin_expect(!!(c), 1)
#else
#define ESCAPADE_KERNEL inline
#define ESCAPADE_LIKELY(c) (c)
#endif

namespace escapade::mathfn {

inline std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

inline double from_bits(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// Natural log for positive normal x (the samplers pass x in (0, 1]).
inline double log_pos(double x) {
  const std::uint64_t b = bits_of(x);
  double m = from_bits((b & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);  // m in [1, 2)
#if defined(__AVX512F__)
  std::int64_t e = static_cast<std::int64_t>(b >> 52) - 1023;
  const bool big = m > 1.4142135623730951;
  m = big ? 0.5 * m : m;  // m in [sqrt(1/2), sqrt(2))
  e = big ? e + 1 : e;
#else
  // The same numbers in a form GCC vectorizes without AVX-512 (a 32-bit exponent, the halving as an exact product,
  // no select): Box-Muller's pairs 12.9 -> 4.4 ns at x86-64-v3 on Zen 4. With AVX-512 the form above is faster
  // (2.6 against 2.9 ns).
  std::int32_t e = static_cast<std::int32_t>(b >> 52) - 1023;
  const std::int32_t big = m > 1.4142135623730951;
  m = m * (1.0 - 0.5 * big);  // m in [sqrt(1/2), sqrt(2))
  e = e + big;
#endif
  // log(m) = log(1 + f) = 2 atanh(s), s = f / (2 + f), |s| <= 0.1716, with fdlibm's (e_log.c) minimax
  // polynomial R(s^2) ~ 2 atanh(s)/s - 2 in seven coefficients (error below 2^-58.45), evaluated as two
  // interleaved halves, and its rounding-error-compensated sum: within 1 ulp (0.83 ulp measured on (0, 1]).
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s, w = z * z;
  const double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
  const double t2 =
      z * (6.666666666666735130e-01 +
           w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
  const double R = t2 + t1;
  const double hfsq = 0.5 * f * f;
  const double de = static_cast<double>(e);
  // ln 2 split in two so that de * ln2_hi is exact.
  return de * 6.93147180369123816490e-01 - ((hfsq - (s * (hfsq + R) + de * 1.90821492927058770002e-10)) - f);
}

// cos and sin of a + q quarter turns, for |a| <= pi/4: fdlibm's (k_sin.c, k_cos.c) minimax kernels, six
// coefficients each (errors below 2^-58), cos with its compensated 1 - a^2/2: within about 1.3 units of 2^-53 of
// the exact values measured.
ESCAPADE_KERNEL void sincos_quadrant(double a, std::uint64_t q, double& c, double& s) {
  const double z = a * a;
  const double r = 8.33333333332248946124e-03 +
                   z * (-1.98412698298579493134e-04 +
                        z * (2.75573137070700676789e-06 +
                             z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)));
  const double sa = a + (z * a) * (-1.66666666666666324348e-01 + z * r);
  const double rc =
      z * (4.16666666666666019037e-02 +
           z * (-1.38888888888741095749e-03 +
                z * (2.48015872894767294178e-05 +
                     z * (-2.75573143513906633035e-07 +
                          z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11)))));
  const double hz = 0.5 * z, wc = 1.0 - hz;
  const double ca = wc + (((1.0 - wc) - hz) + z * rc);
  // Rotate by q quarter turns: (c, s) -> (-s, c) per quarter.
  const bool odd = (q & 1u) != 0;
  const double c0 = odd ? -sa : ca;
  const double s0 = odd ? ca : sa;
  const bool neg = (q & 2u) != 0;
  c = neg ? -c0 : c0;
  s = neg ? -s0 : s0;
}

// cos and sin of 2*pi*w/2^32 for a 32-bit word w: the quadrant comes from the top bits, exactly.
inline void sincos_turns(std::uint32_t w, double& c, double& s) {
  const std::uint32_t q = (w + 0x20000000u) >> 30;                         // nearest quarter turn
  const std::int32_t rem = static_cast<std::int32_t>(w - (q << 30));       // in [-2^29, 2^29)
  const double a = static_cast<double>(rem) * (6.283185307179586 / 4294967296.0);  // |a| <= pi/4
  sincos_quadrant(a, q, c, s);
}

// --- General arguments, for landscapes and forcings ----------------------------------------------------------
// The same straight-line style for any double argument, so that loops over lanes of a landscape's gradient or
// a forcing vectorize and give the same bits on every machine (libm's results may differ between libraries).

// exp(x) for any x: about 1 ulp; inf above 709.78, 0 (through subnormals) below -745.1, NaN for NaN.
// x is not clamped before the arithmetic: out-of-range and NaN arguments compute garbage that the selects at the end
// replace. A clamp up front let GCC thread a constant argument into a branch of its own whose constant products
// overflow, and such a branch "could trap" under -ftrapping-math, so the lane loops stayed scalar without AVX-512
// (x86-64-v3: 7.5 -> 2.3 ns per exp on Zen 4; the same bits).
ESCAPADE_KERNEL double exp(double x) {
  constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer in the low bits
  const double kn = x * 1.4426950408889634 + kRound;
  const double n = kn - kRound;
  const double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;  // |r| <= ln2/2
  double p = 1.0 / 6227020800.0;  // Taylor to r^13: truncation below 1e-17 for |r| <= 0.347
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^n as two normal powers of two (|n| <= 1077), so that overflow and subnormal results round correctly.
  const std::int64_t ni = static_cast<std::int64_t>(bits_of(kn) - bits_of(kRound));
  const std::int64_t n1 = ni / 2, n2 = ni - n1;
  const double y = p * from_bits(static_cast<std::uint64_t>(n1 + 1023) << 52) *
                   from_bits(static_cast<std::uint64_t>(n2 + 1023) << 52);
  // The expected branches keep the arithmetic above unconditional (not sunk into the branch that uses y).
  const double yc = ESCAPADE_LIKELY(x < 710.0) ? y : HUGE_VAL;
  return ESCAPADE_LIKELY(x > -746.0) ? yc : (x == x ? 0.0 : x);  // below -746: 0; NaN: itself
}

// Largest |x| that sincos_reduced handles: Cody-Waite reduction by pi/2 in three parts keeps about 1 ulp while
// the quadrant count stays below 2^19 (the leading parts of pi/2 carry 33 bits, so k * part is exact).
constexpr double kSincosMaxArg = 823549.0;

// cos and sin of x for |x| <= kSincosMaxArg, straight-line (other arguments: see sincos below).
ESCAPADE_KERNEL void sincos_reduced(double x, double& c, double& s) {
  constexpr double kRound = 6755399441055744.0;
  const double kq = x * 6.36619772367581382433e-01 + kRound;  // x * 2/pi, rounded
  const double k = kq - kRound;
  const std::uint64_t q = bits_of(kq) - bits_of(kRound);  // quadrant; only its low two bits matter
  const double a = ((x - k * 1.57079632673412561417e+00) - k * 6.07710050630396597660e-11) -
                   k * 2.02226624879595063154e-21;  // |a| <= pi/4
  sincos_quadrant(a, q, c, s);
}

// c[i] = cos(x[i]), s[i] = sin(x[i]) for i < n: one vectorizable pass, then libm for the rare arguments beyond
// kSincosMaxArg and for non-finite ones (NaN out). x may not alias c or s.
inline void sincos(const double* x, double* c, double* s, long n) {
  long wide = 0;  // an integer count, not a bool: GCC vectorizes the sum but not an or-reduction
  for (long i = 0; i < n; ++i) {
    const double xi = x[i];
    const bool ok = std::abs(xi) <= kSincosMaxArg;  // false for NaN
    wide += !ok;
    // Out of range: a signed zero to work on (its results are replaced below), not the constant 0, which lets GCC
    // fold that branch's sincos into a branch of its own and so keeps the loop scalar without AVX-512 (x86-64-v3
    // on Zen 4: 7.1 -> 2.3 ns per sincos). Both results are stored: were one dead, GCC would sink each polynomial
    // into its quadrant's branch, with the same effect.
    sincos_reduced(ok ? xi : std::copysign(0.0, xi), c[i], s[i]);
  }
  if (wide)
    for (long i = 0; i < n; ++i)
      if (!(std::abs(x[i]) <= kSincosMaxArg)) {
        c[i] = std::cos(x[i]);
        s[i] = std::sin(x[i]);
      }
}

inline void sincos(double x, double& c, double& s) { sincos(&x, &c, &s, 1); }

}  // namespace escapade::mathfn
