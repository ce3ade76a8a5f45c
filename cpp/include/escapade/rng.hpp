// Counter-based randomness: Philox4x32-10 (Salmon et al., SC'11), keyed by the seed, with a counter made of
// (draw, step, path). A path's random numbers are a pure function of (seed, path, step, draw), so they do not
// depend on the thread count, the block size, the order in which lanes are refilled, or how a run is split.
//
// Counter layout, four 32-bit words:
//   c0 = draw index (low 16 bits) | step-field bits 32..47 (high 16 bits)
//   c1 = step-field bits 0..31  (the step field is the index q of the steps 4q .. 4q + 3 in the engine,
//                                and kStartStep for the draws of a starting point)
//   c2, c3 = path index, low and high word
// The 48-bit step field is shared out: [0, 2^46) the engine's quads (q <= kMaxStep / 4); [2^46, 2^47) the
// located crossings, kCrossingStep + q (crossing_words); [2^47, 2^47 + 2^46) the forcing streams (forcing.hpp);
// kStartStep the starting points. No two uses meet, so adding one moves no other draw. A located crossing's spread
// along the boundary (engine.hpp, draw_spread_normals) draws from WordStreams of another key (the seed mixed with
// a constant), counted by (path, step), and so does the refinement of a step near both stop and target
// (engine.hpp, refine_double_crossings) with a third key.
// Key = the 64-bit seed. Each call yields four 32-bit words; a step uses as many draws as it needs words.
// The 32x32->64 multiplies map to SIMD integer multiplies, so a loop over lanes vectorizes.
#pragma once

#include <array>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <cmath>
#include <cstdint>
#include <cstring>
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

// The located crossings' step fields: kCrossingStep + q for the steps 4q .. 4q + 3.
constexpr std::uint64_t kCrossingStep = std::uint64_t{1} << 46;

// The four words that locate a crossing in step `step` (0-based) of a path (engine.hpp): draw step % 4 of step
// field kCrossingStep + step / 4. Words 0, 1: a Box-Muller pair (one normal used); 2, 3: two uniforms.
inline Words4 crossing_words(std::uint64_t seed, std::uint64_t path, std::uint64_t step) {
  return random_words(seed, path, kCrossingStep + step / 4, static_cast<std::uint32_t>(step % 4));
}

// Uniform in the open interval (0, 1): (w + 1/2) / 2^32. Written through the signed word w - 2^31, whose
// conversion is one vector instruction (the unsigned one needs a fix-up); every step is exact, so the value is
// the same.
inline double open_uniform(std::uint32_t w) {
  return (static_cast<double>(static_cast<std::int32_t>(w ^ 0x80000000u)) + 2147483648.5) * (1.0 / 4294967296.0);
}

// Box-Muller on two words: r = sqrt(-2 log u), angle = 2 pi w2 / 2^32. Branch-free, so it vectorizes, and
// uses exactly two words per pair of normals (no rejection), which keeps the word budget of a step fixed.
// |z| <= sqrt(2 ln 2^33) = 6.76: the normal's tail beyond that (mass 1.3e-11) is cut off.
// In two halves, which a loop over many pairs may run as two passes (QuadDraws::normals_by_lane): -2 log u from
// the radius word, then the pair from it and the angle word.
ESCAPADE_KERNEL double box_muller_m2log(std::uint32_t w_radius) {
  return -2.0 * mathfn::log_pos(open_uniform(w_radius));
}
ESCAPADE_KERNEL void box_muller_pair(double m2log, std::uint32_t w_angle, double& z0, double& z1) {
  const double r = std::sqrt(m2log);
  double c, s;
  mathfn::sincos_turns(w_angle, c, s);
  z0 = r * c;
  z1 = r * s;
}
inline void box_muller(std::uint32_t w_radius, std::uint32_t w_angle, double& z0, double& z1) {
  box_muller_pair(box_muller_m2log(w_radius), w_angle, z0, z1);
}

// A serial stream of normals and uniforms for one (seed, path, step); used off the hot path (starting points).
// Its draw number has 16 bits in the counter, so it gives kStreamWords words: the dimension of anything drawn from
// one stream (a d-vector of normals, and one uniform more) is at most kMaxStreamDim.
constexpr long kStreamWords = 4L * (long{kMaxDraw} + 1);
constexpr long kMaxStreamDim = kStreamWords - 2;

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
  // n normals into z, for a direction z / |z|: returns |z|^2. In one dimension the normal is exactly 0 once in
  // 2^31 (a Box-Muller angle of a quarter turn): its partner in the pair, +-r, is taken instead. (From n = 2 on,
  // a pair is never all zero.)
  double direction_normals(double* z, int n) {
    double n2 = 0;
    for (int i = 0; i < n; ++i) {
      z[i] = normal();
      n2 += z[i] * z[i];
    }
    if (n2 == 0) {
      z[n - 1] = normal();
      n2 = z[n - 1] * z[n - 1];
    }
    return n2;
  }
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

#if defined(__AVX512F__)
namespace detail {
// Philox4x32-10 on eight counters at once, one per 64-bit lane with the word in its low half, stored as
// w[j][o .. o + 8). Integer arithmetic is exact, so this gives the scalar function's bits. Compilers turn the
// portable loop's 32x32->64 products into shuffles and 64-bit multiplies; here each word sits in a 64-bit lane
// where one vpmuludq does the job.
class PhiloxX8 {
 public:
  PhiloxX8(std::uint32_t key0, std::uint32_t key1) {
    for (int r = 0; r < 10; ++r) {
      k0_[r] = _mm512_set1_epi64(static_cast<std::uint32_t>(key0 + 0x9E3779B9u * static_cast<std::uint32_t>(r)));
      k1_[r] = _mm512_set1_epi64(static_cast<std::uint32_t>(key1 + 0xBB67AE85u * static_cast<std::uint32_t>(r)));
    }
  }
  void operator()(__m512i c0, __m512i c1, __m512i c2, __m512i c3, std::uint32_t* const w[4], int o) const {
    const __m512i m0 = _mm512_set1_epi64(0xD2511F53ll), m1 = _mm512_set1_epi64(0xCD9E8D57ll);
    // vpmuludq reads only the low 32 bits of each lane and the stores truncate, so the high halves may carry
    // junk and no masking is needed inside the rounds. The high word of a product is brought down by swapping
    // the halves of each lane (a shuffle, which runs beside the multiplies, where a shift would compete with
    // them for the same port). 0x96 = three-way xor.
    for (int r = 0; r < 10; ++r) {
      const __m512i p0 = _mm512_mul_epu32(c0, m0), p1 = _mm512_mul_epu32(c2, m1);
      c0 = _mm512_ternarylogic_epi64(_mm512_shuffle_epi32(p1, _MM_PERM_CDAB), c1, k0_[r], 0x96);
      c2 = _mm512_ternarylogic_epi64(_mm512_shuffle_epi32(p0, _MM_PERM_CDAB), c3, k1_[r], 0x96);
      c1 = p1;
      c3 = p0;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w[0] + o), _mm512_cvtepi64_epi32(c0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w[1] + o), _mm512_cvtepi64_epi32(c1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w[2] + o), _mm512_cvtepi64_epi32(c2));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w[3] + o), _mm512_cvtepi64_epi32(c3));
  }

 private:
  __m512i k0_[10], k1_[10];
};
}  // namespace detail
#endif

// Philox4x32-10 for many lanes at once: counter (draw | quad_hi << 16, quad_lo, path_lo, path_hi), one key;
// w[j][l] = word j of lane l.
inline void philox_lanes(const std::uint64_t* path, const std::uint64_t* quad, std::uint32_t draw,
                         std::uint32_t key0, std::uint32_t key1, int width, std::uint32_t* const w[4]) {
  int l = 0;
#if defined(__AVX512F__)
  const detail::PhiloxX8 philox(key0, key1);
  const __m512i lo = _mm512_set1_epi64(0xFFFFFFFFll);
  for (; l + 8 <= width; l += 8) {
    const __m512i qa = _mm512_loadu_si512(quad + l), pt = _mm512_loadu_si512(path + l);
    const __m512i c0 = _mm512_or_si512(_mm512_set1_epi64(draw), _mm512_slli_epi64(_mm512_srli_epi64(qa, 32), 16));
    philox(c0, _mm512_and_si512(qa, lo), _mm512_and_si512(pt, lo), _mm512_srli_epi64(pt, 32), w, l);
  }
#endif
  for (; l < width; ++l) {
    const Words4 r = philox4x32_10({draw | static_cast<std::uint32_t>((quad[l] >> 32) << 16),
                                    static_cast<std::uint32_t>(quad[l]), static_cast<std::uint32_t>(path[l]),
                                    static_cast<std::uint32_t>(path[l] >> 32)},
                                   {key0, key1});
    for (int j = 0; j < 4; ++j) w[j][l] = r[j];
  }
}

// The same counters for one lane and the draws 0 .. n - 1 (n <= kMaxDraw + 1): w[j][i] = word j of draw i, that
// is random_words(seed, path, quad, i)[j].
inline void philox_draws(std::uint64_t seed, std::uint64_t path, std::uint64_t quad, int n,
                         std::uint32_t* const w[4]) {
  int i = 0;
#if defined(__AVX512F__)
  const detail::PhiloxX8 philox(static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
  const std::uint32_t hi = static_cast<std::uint32_t>((quad >> 32) << 16);
  const __m512i c1 = _mm512_set1_epi64(static_cast<std::uint32_t>(quad)),
                c2 = _mm512_set1_epi64(static_cast<std::uint32_t>(path)),
                c3 = _mm512_set1_epi64(static_cast<std::uint32_t>(path >> 32));
  const __m512i first = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  for (; i + 8 <= n; i += 8)
    philox(_mm512_add_epi64(_mm512_set1_epi64(hi | static_cast<std::uint32_t>(i)), first), c1, c2, c3, w, i);
#endif
  for (; i < n; ++i) {
    const Words4 r = random_words(seed, path, quad, static_cast<std::uint32_t>(i));
    for (int j = 0; j < 4; ++j) w[j][i] = r[j];
  }
}

// The random numbers of the four steps 4q .. 4q + 3 of each lane, from Philox calls with step field q. Draw j
// of the quad's counter gives, word by word:
//   j < k          noise coordinate j: words 0, 1 are one Box-Muller pair, the normals of steps 4q (r cos) and
//                  4q + 1 (r sin); words 2, 3 those of steps 4q + 2 and 4q + 3;
//   j = k          the crossing-test uniforms, word s for step 4q + s;
//   j = k + 1 + i  the dynamics' uniform i, word s for step 4q + s.
// Every word is used in any dimension, and the transcendental work is one Box-Muller per two normals. A draw
// that is not wanted (the crossing test without the bridge) is not computed and moves no other draw, so
// switching the bridge or asking for more uniforms never changes the normals.
class QuadDraws {
 public:
  static constexpr int kSteps = 4;
  static int n_draws(int k, int n_uniform = 0) { return k + 1 + n_uniform; }

  // The draws of the quad that holds each lane's step count step[l] (q = step[l] / 4). z[s]: k x width normals
  // of step 4q + s (column per lane); u[s]: width crossing-test uniforms (u == nullptr: not wanted); v[s]:
  // n_uniform x width.
  void draw(std::uint64_t seed, const std::uint64_t* path, const std::uint64_t* step, int width, int k,
            double* const z[kSteps], double* const u[kSteps], int n_uniform = 0, double* const v[kSteps] = nullptr) {
    quad_.resize(width);
    for (int l = 0; l < width; ++l) quad_[l] = step[l] / kSteps;
    const std::uint64_t* quad = quad_.data();
    words_.resize(static_cast<std::size_t>(4) * width);
    std::uint32_t* const w[4] = {words_.data(), words_.data() + width, words_.data() + 2 * width,
                                 words_.data() + 3 * width};
    const std::uint32_t key0 = static_cast<std::uint32_t>(seed), key1 = static_cast<std::uint32_t>(seed >> 32);
    if (k >= kDrawsMajor)
      normals_by_lane(seed, path, quad, width, k, z);
    else
      normals_by_draw(path, quad, width, k, key0, key1, w, z);
    if (u) {
      philox_lanes(path, quad, static_cast<std::uint32_t>(k), key0, key1, width, w);
      for (int s = 0; s < kSteps; ++s)
        for (int l = 0; l < width; ++l) u[s][l] = open_uniform(w[s][l]);
    }
    // Eight draws at a time, so that each lane's uniforms are stored as whole 64-byte runs (a lane's uniforms
    // are contiguous, the draws' words are by lane); the values are those of one draw at a time.
    int i = 0;
    if (n_uniform >= kGroup) {
      group_.resize(static_cast<std::size_t>(kGroup) * 4 * width);
      for (; i + kGroup <= n_uniform; i += kGroup) {
        for (int q = 0; q < kGroup; ++q) {
          std::uint32_t* g = group_.data() + static_cast<std::size_t>(q) * 4 * width;
          std::uint32_t* const wq[4] = {g, g + width, g + 2 * width, g + 3 * width};
          philox_lanes(path, quad, static_cast<std::uint32_t>(k + 1 + i + q), key0, key1, width, wq);
        }
        for (int s = 0; s < kSteps; ++s)
          for (int l = 0; l < width; ++l) {
            double run[kGroup];
            for (int q = 0; q < kGroup; ++q)
              run[q] = open_uniform(group_[(static_cast<std::size_t>(q) * 4 + s) * width + l]);
            std::memcpy(v[s] + static_cast<std::size_t>(l) * n_uniform + i, run, sizeof run);
          }
      }
    }
    for (; i < n_uniform; ++i) {
      philox_lanes(path, quad, static_cast<std::uint32_t>(k + 1 + i), key0, key1, width, w);
      for (int s = 0; s < kSteps; ++s)
        for (int l = 0; l < width; ++l) v[s][l * n_uniform + i] = open_uniform(w[s][l]);
    }
  }

 private:
  static constexpr int kGroup = 8;
  // From this many noise coordinates on, the normals are drawn lane by lane (normals_by_lane).
  static constexpr int kDrawsMajor = 32;

  // Draw i's Box-Muller pairs for every lane, draw after draw: the vectors run over the lanes, and each lane's
  // normals are stored one by one (a column of z per lane). For small k.
  static void normals_by_draw(const std::uint64_t* path, const std::uint64_t* quad, int width, int k,
                              std::uint32_t key0, std::uint32_t key1, std::uint32_t* const w[4],
                              double* const z[kSteps]) {
    for (int i = 0; i < k; ++i) {
      philox_lanes(path, quad, static_cast<std::uint32_t>(i), key0, key1, width, w);
      for (int h = 0; h < 2; ++h) {
        const std::uint32_t *wr = w[2 * h], *wa = w[2 * h + 1];
        double *zc = z[2 * h], *zs = z[2 * h + 1];
        if (k == 1) {  // contiguous stores: the common 1-D case
          for (int l = 0; l < width; ++l) box_muller(wr[l], wa[l], zc[l], zs[l]);
        } else {
          for (int l = 0; l < width; ++l) box_muller(wr[l], wa[l], zc[l * k + i], zs[l * k + i]);
        }
      }
    }
  }

  // Lane after lane, the vectors over the lane's draws 0 .. kp - 1 (kp = k rounded up to 8; the draws past k are
  // computed and dropped): each lane's normals come out as contiguous runs, copied into its column of z. Two
  // passes, the radii's logarithms and then the square roots, angles and products, measured faster than
  // Box-Muller in one. The same bits as normals_by_draw.
  void normals_by_lane(std::uint64_t seed, const std::uint64_t* path, const std::uint64_t* quad, int width, int k,
                       double* const z[kSteps]) {
    const int kp = (k + 7) / 8 * 8;
    lane_words_.resize(static_cast<std::size_t>(4) * kp);
    lane_runs_.resize(static_cast<std::size_t>(6) * kp);
    // Words 0 and 2 (the two pairs' radii) side by side, then words 1 and 3 (their angles).
    std::uint32_t* const w[4] = {lane_words_.data(), lane_words_.data() + 2 * kp, lane_words_.data() + kp,
                                 lane_words_.data() + 3 * kp};
    const std::uint32_t *__restrict radius = w[0], *__restrict angle = w[1];
    double *__restrict m2log = lane_runs_.data(), *__restrict zc = m2log + 2 * kp, *__restrict zs = zc + 2 * kp;
    for (int l = 0; l < width; ++l) {
      philox_draws(seed, path[l], quad[l], kp, w);
      for (int i = 0; i < 2 * kp; ++i) m2log[i] = box_muller_m2log(radius[i]);
      // zc: the normals of steps 4q, 4q + 2; zs: 4q + 1, 4q + 3
      for (int i = 0; i < 2 * kp; ++i) box_muller_pair(m2log[i], angle[i], zc[i], zs[i]);
      const long o = static_cast<long>(l) * k;
      std::memcpy(z[0] + o, zc, sizeof(double) * k);
      std::memcpy(z[1] + o, zs, sizeof(double) * k);
      std::memcpy(z[2] + o, zc + kp, sizeof(double) * k);
      std::memcpy(z[3] + o, zs + kp, sizeof(double) * k);
    }
  }

  std::vector<std::uint64_t> quad_;
  std::vector<std::uint32_t> words_, group_, lane_words_;
  std::vector<double> lane_runs_;
};

// The crossing test's uniforms of one step, drawn only for the lanes whose step may have crossed a boundary (a
// crossing probability p0 or p1 above 0: the few lanes near a boundary); every other lane's test fails whatever
// its uniform, so u is left as it is there. Lane l's uniform is the one QuadDraws::draw gives every lane (the same
// bits): word f % 4 of draw k of the quad f / 4, where f = r step[l] (r: the noise refinement, 1 for a plain
// run, whose step r n is the fine step of its step n).
class CrossingUniforms {
 public:
  void draw(std::uint64_t seed, const std::uint64_t* path, const std::uint64_t* step, std::uint64_t r, int k,
            const double* __restrict p0, const double* __restrict p1, int width, double* u) {
    want_.resize(static_cast<std::size_t>(width));
    lanes_.resize(static_cast<std::size_t>(width));
    std::uint8_t* __restrict want = want_.data();
    int* __restrict lanes = lanes_.data();
    for (int l = 0; l < width; ++l) want[l] = (p0[l] > 0) | (p1[l] > 0);  // vectorizes
    int n = 0;
    const int whole = width / 8 * 8;
    for (int c = 0; c < whole; c += 8) {  // 8 lanes' flags as one word: mostly 0
      std::uint64_t any;
      std::memcpy(&any, want + c, sizeof any);
      if (any == 0) continue;
      for (int l = c; l < c + 8; ++l)
        if (want[l]) lanes[n++] = l;
    }
    for (int l = whole; l < width; ++l)
      if (want[l]) lanes[n++] = l;
    if (n == 0) return;
    path_.resize(static_cast<std::size_t>(n));
    quad_.resize(static_cast<std::size_t>(n));
    words_.resize(static_cast<std::size_t>(4) * n);
    for (int i = 0; i < n; ++i) {
      path_[i] = path[lanes[i]];
      quad_[i] = r * step[lanes[i]] / QuadDraws::kSteps;
    }
    std::uint32_t* const w[4] = {words_.data(), words_.data() + n, words_.data() + 2 * n, words_.data() + 3 * n};
    philox_lanes(path_.data(), quad_.data(), static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(seed),
                 static_cast<std::uint32_t>(seed >> 32), n, w);
    for (int i = 0; i < n; ++i) u[lanes[i]] = open_uniform(w[r * step[lanes[i]] % QuadDraws::kSteps][i]);
  }

 private:
  std::vector<std::uint8_t> want_;
  std::vector<int> lanes_;
  std::vector<std::uint64_t> path_, quad_;
  std::vector<std::uint32_t> words_;
};

}  // namespace escapade
