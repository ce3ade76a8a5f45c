// Counter-based randomness: Philox4x32-10 (Salmon et al., SC'11), keyed by the seed, with a counter made of
// (draw, step, path). A path's random numbers are a pure function of (seed, path, step, draw), so they do not
// depend on the thread count, the block size, the order in which lanes are refilled, or how a run is split.
//
// Counter layout, four 32-bit words:
//   c0 = draw index (low 16 bits) | step-field bits 32..47 (high 16 bits)
//   c1 = step-field bits 0..31  (the step field is the index m of the step pair (2m, 2m + 1) in the engine,
//                                and kStartStep for the draws of a starting point)
//   c2, c3 = path index, low and high word
// Key = the 64-bit seed. Each call yields four 32-bit words; a step uses as many draws as it needs words.
// The 32x32->64 multiplies map to SIMD integer multiplies, so a loop over lanes vectorizes.
#pragma once

#include <array>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <cmath>
#include <cstdint>
#include <vector>

#include "escapade/mathfn.hpp"

namespace escapade {

using Words4 = std::array<std::uint32_t, 4>;

inline Words4 philox4x32_10(Words4 ctr, std::array<std::uint32_t, 2> key) {
  constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(M0) * ctr[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(M1) * ctr[2];
    ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<std::uint32_t>(p1),
           static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<std::uint32_t>(p0)};
    key[0] += W0;
    key[1] += W1;
  }
  return ctr;
}

// Steps at or beyond this index are reserved: kStartStep draws the path's starting point.
constexpr std::uint64_t kMaxStep = (std::uint64_t{1} << 48) - 2;
constexpr std::uint64_t kStartStep = kMaxStep + 1;
constexpr std::uint32_t kMaxDraw = 0xFFFFu;

inline Words4 random_words(std::uint64_t seed, std::uint64_t path, std::uint64_t step, std::uint32_t draw) {
  const Words4 ctr = {draw | static_cast<std::uint32_t>((step >> 32) << 16), static_cast<std::uint32_t>(step),
                      static_cast<std::uint32_t>(path), static_cast<std::uint32_t>(path >> 32)};
  return philox4x32_10(ctr, {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
}

// Uniform in the open interval (0, 1): (w + 1/2) / 2^32. Written through the signed word w - 2^31, whose
// conversion is one vector instruction (the unsigned one needs a fix-up); every step is exact, so the value is
// the same.
inline double open_uniform(std::uint32_t w) {
  return (static_cast<double>(static_cast<std::int32_t>(w ^ 0x80000000u)) + 2147483648.5) * (1.0 / 4294967296.0);
}

// Box-Muller on two words: r = sqrt(-2 log u), angle = 2 pi w2 / 2^32. Branch-free, so it vectorizes, and
// uses exactly two words per pair of normals (no rejection), which keeps the word budget of a step fixed.
// |z| <= sqrt(2 ln 2^33) = 6.76: the normal's tail beyond that (mass 1.4e-11) is cut off.
inline void box_muller(std::uint32_t w_radius, std::uint32_t w_angle, double& z0, double& z1) {
  const double r = std::sqrt(-2.0 * mathfn::log_pos(open_uniform(w_radius)));
  double c, s;
  mathfn::sincos_turns(w_angle, c, s);
  z0 = r * c;
  z1 = r * s;
}

// A serial stream of normals and uniforms for one (seed, path, step); used off the hot path (starting points).
class WordStream {
 public:
  WordStream(std::uint64_t seed, std::uint64_t path, std::uint64_t step) : seed_(seed), path_(path), step_(step) {}
  std::uint32_t next() {
    if (used_ == 4) {
      words_ = random_words(seed_, path_, step_, draw_++);
      used_ = 0;
    }
    return words_[used_++];
  }
  double uniform() { return open_uniform(next()); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double z0;
    const std::uint32_t a = next();
    box_muller(a, next(), z0, spare_);
    has_spare_ = true;
    return z0;
  }

 private:
  std::uint64_t seed_, path_, step_;
  std::uint32_t draw_ = 0;
  Words4 words_{};
  int used_ = 4;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace escapade

namespace escapade {

// Philox4x32-10 for many lanes at once: counter (draw | pair_hi << 16, pair_lo, path_lo, path_hi), one key.
// Integer arithmetic is exact, so the explicit SIMD paths give the scalar path's bits. Compilers turn the
// portable loop's 32x32->64 products into shuffles and 64-bit multiplies; the intrinsics keep each word in a
// 64-bit lane where one vpmuludq does the job. w2 = w3 = nullptr asks for words 0 and 1 only: the last round
// then skips the product and the xor that only words 2 and 3 depend on.
inline void philox_lanes(const std::uint64_t* path, const std::uint64_t* pair, std::uint32_t draw,
                         std::uint32_t key0, std::uint32_t key1, int width, std::uint32_t* w0, std::uint32_t* w1,
                         std::uint32_t* w2, std::uint32_t* w3) {
  int l = 0;
#if defined(__AVX512F__)
  {
    const __m512i lo = _mm512_set1_epi64(0xFFFFFFFFll);
    const __m512i m0 = _mm512_set1_epi64(0xD2511F53ll), m1 = _mm512_set1_epi64(0xCD9E8D57ll);
    __m512i k0[10], k1[10];
    for (int r = 0; r < 10; ++r) {
      k0[r] = _mm512_set1_epi64(static_cast<std::uint32_t>(key0 + 0x9E3779B9u * static_cast<std::uint32_t>(r)));
      k1[r] = _mm512_set1_epi64(static_cast<std::uint32_t>(key1 + 0xBB67AE85u * static_cast<std::uint32_t>(r)));
    }
    for (; l + 8 <= width; l += 8) {
      const __m512i pa = _mm512_loadu_si512(pair + l), pt = _mm512_loadu_si512(path + l);
      __m512i c0 = _mm512_or_si512(_mm512_set1_epi64(draw), _mm512_slli_epi64(_mm512_srli_epi64(pa, 32), 16));
      __m512i c1 = _mm512_and_si512(pa, lo), c2 = _mm512_and_si512(pt, lo), c3 = _mm512_srli_epi64(pt, 32);
      // Only the low 32 bits of each lane are the word: vpmuludq reads just those and the stores truncate, so
      // the high halves may carry junk and no masking is needed inside the rounds. 0x96 = three-way xor.
      for (int r = 0; r < 9; ++r) {
        const __m512i p0 = _mm512_mul_epu32(c0, m0), p1 = _mm512_mul_epu32(c2, m1);
        c0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1, k0[r], 0x96);
        c2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3, k1[r], 0x96);
        c1 = p1;
        c3 = p0;
      }
      const __m512i p1 = _mm512_mul_epu32(c2, m1);  // round 10: words 0 and 1 need only this product
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w0 + l),
                          _mm512_cvtepi64_epi32(_mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1, k0[9], 0x96)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w1 + l), _mm512_cvtepi64_epi32(p1));
      if (w2) {
        const __m512i p0 = _mm512_mul_epu32(c0, m0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w2 + l),
                            _mm512_cvtepi64_epi32(_mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3, k1[9], 0x96)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w3 + l), _mm512_cvtepi64_epi32(p0));
      }
    }
  }
#endif
  for (; l < width; ++l) {
    const Words4 r = philox4x32_10({draw | static_cast<std::uint32_t>((pair[l] >> 32) << 16),
                                    static_cast<std::uint32_t>(pair[l]), static_cast<std::uint32_t>(path[l]),
                                    static_cast<std::uint32_t>(path[l] >> 32)},
                                   {key0, key1});
    w0[l] = r[0];
    w1[l] = r[1];
    if (w2) {
      w2[l] = r[2];
      w3[l] = r[3];
    }
  }
}

// The random numbers of a pair of steps (2m, 2m + 1) for each lane: one Box-Muller pair per noise coordinate
// gives that coordinate's normal at the even step (r cos) and at the odd step (r sin), so no word is wasted in
// any dimension, and the transcendental work is paid once per two steps. Words of the pair's counter (step
// field = m) are spent in a fixed order: 2k words for the k normal pairs, then the even and the odd step's
// crossing-test uniform, then the even and odd steps' n_uniform uniforms of the dynamics, alternating. Asking
// for more uniforms therefore never changes the normals or the crossing test.
class PairDraws {
 public:
  static int n_draws(int k, int n_uniform = 0) { return (2 * k + 2 + 2 * n_uniform + 3) / 4; }

  // z_even, z_odd: k x width; u_even, u_odd: width (crossing test; both null: not wanted, e.g. without the
  // bridge, which changes no other number); v_even, v_odd: n_uniform x width.
  void draw(std::uint64_t seed, const std::uint64_t* path, const std::uint64_t* pair, int width, int k,
            double* z_even, double* z_odd, double* u_even, double* u_odd, int n_uniform = 0,
            double* v_even = nullptr, double* v_odd = nullptr) {
    const int nd = n_draws(k, n_uniform);
    words_.resize(static_cast<std::size_t>(nd) * 4 * width);
    const std::uint32_t key0 = static_cast<std::uint32_t>(seed), key1 = static_cast<std::uint32_t>(seed >> 32);
    // Words past the last one used (the crossing uniforms when not wanted) need not be computed.
    const int n_used = n_uniform > 0 || (u_even && u_odd) ? 2 * k + 2 + 2 * n_uniform : 2 * k;
    for (int j = 0; j < nd; ++j) {
      std::uint32_t* w0 = &words_[static_cast<std::size_t>(4 * j) * width];
      const bool all = 4 * j + 2 < n_used;
      philox_lanes(path, pair, static_cast<std::uint32_t>(j), key0, key1, width, w0, w0 + width,
                   all ? w0 + 2 * width : nullptr, all ? w0 + 3 * width : nullptr);
    }
    for (int i = 0; i < k; ++i) {
      const std::uint32_t* wr = &words_[static_cast<std::size_t>(2 * i) * width];
      const std::uint32_t* wa = wr + width;
      if (k == 1) {  // contiguous stores: the common 1-D case
        for (int l = 0; l < width; ++l) box_muller(wr[l], wa[l], z_even[l], z_odd[l]);
      } else {
        for (int l = 0; l < width; ++l) box_muller(wr[l], wa[l], z_even[l * k + i], z_odd[l * k + i]);
      }
    }
    if (u_even && u_odd) {
      const std::uint32_t* wu = &words_[static_cast<std::size_t>(2 * k) * width];
      for (int l = 0; l < width; ++l) {
        u_even[l] = open_uniform(wu[l]);
        u_odd[l] = open_uniform(wu[width + l]);
      }
    }
    for (int j = 0; j < n_uniform; ++j) {
      const std::uint32_t* we = &words_[static_cast<std::size_t>(2 * k + 2 + 2 * j) * width];
      const std::uint32_t* wo = we + width;
      for (int l = 0; l < width; ++l) {
        v_even[l * n_uniform + j] = open_uniform(we[l]);
        v_odd[l * n_uniform + j] = open_uniform(wo[l]);
      }
    }
  }

 private:
  std::vector<std::uint32_t> words_;
};

}  // namespace escapade
