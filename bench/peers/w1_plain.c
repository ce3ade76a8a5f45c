/*
 * W1 peer in plain C: structure-of-arrays lanes, xoshiro256** per lane,
 * Box-Muller, OpenMP across threads.
 *
 * Workload W1: overdamped Langevin dX = -U'(X) dt + sqrt(2T) dW with
 * U(x) = x^4/4 - x^2/2, T = 1/16, X_0 = -1, Euler-Maruyama with step dt,
 * each path stopped at the first step k with X_k >= 0 (exit time k*dt).
 *
 * Each thread owns LANES lanes.  One pass of the lane loop draws one
 * Box-Muller pair per lane and advances every lane by two steps (cos
 * normal, then sin normal); a lane that crosses on the first of the two
 * steps keeps that state and step count.  After the pass, lanes whose path
 * exited (or hit max_steps) are retired and refilled with the next
 * unstarted path taken from a shared counter.  Per path the generator is
 * seeded as
 *     sm = mix64(mix64(seed) ^ path);  s_j = mix64(sm += GOLDEN), j = 0..3
 * (splitmix64), which is also what peers/w1_numba.py uses.
 *
 * usage: w1_plain N_PATHS DT THREADS SEED [MAX_STEPS [EXIT_TIMES_FILE]]
 *   MAX_STEPS <= 0 means no cap; EXIT_TIMES_FILE receives the N_PATHS exit
 *   times as raw float64 (nan = censored).
 * prints one JSON line: mean exit time, its standard error, total
 * path-steps, wall seconds and ns per path-step per thread.
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define LANES 32
#define TEMPERATURE 0.0625
#define X0 (-1.0)
#define GOLDEN 0x9E3779B97F4A7C15ULL
#define TWO_PI 6.283185307179586476925286766559
#define M_PI_VAL 3.141592653589793238462643383280

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

typedef struct {
    double x[LANES];
    uint64_t s0[LANES], s1[LANES], s2[LANES], s3[LANES];
    int64_t k[LANES];    /* steps done by the lane's path */
    int64_t flag[LANES]; /* lane needs attention after the pass */
    int64_t id[LANES];   /* path index, -1 = idle */
} __attribute__((aligned(64))) lanes_t;

/* Put path `id` (or nothing, id < 0) into lane l. */
static void start_lane(lanes_t *L, int l, int64_t id, uint64_t seed_mixed)
{
    L->id[l] = id;
    L->x[l] = X0;
    if (id >= 0) {
        uint64_t sm = mix64(seed_mixed ^ (uint64_t)id);
        L->s0[l] = mix64(sm += GOLDEN);
        L->s1[l] = mix64(sm += GOLDEN);
        L->s2[l] = mix64(sm += GOLDEN);
        L->s3[l] = mix64(sm += GOLDEN);
        L->k[l] = 0;
    } else {
        /* idle lane: keeps running on some valid state, never reaches a cap */
        L->s0[l] = GOLDEN; L->s1[l] = 1; L->s2[l] = 2; L->s3[l] = 3;
        L->k[l] = INT64_MIN / 2;
    }
}

/*
 * Simulate n_paths W1 paths.  exit_steps[i] = the path's exit step, or -1
 * if it had not exited after max_steps steps (max_steps <= 0: no cap).
 * Returns the number of path-steps executed (censored paths count
 * max_steps).  Integer results keep the censoring test independent of
 * -ffast-math (which assumes no NaNs).
 */
int64_t w1_plain_run(int64_t n_paths, double dt, int threads, uint64_t seed,
                     int64_t max_steps, int64_t *exit_steps)
{
    const int64_t cap = max_steps > 0 ? max_steps : INT64_MAX / 2;
    const double sig = sqrt(2.0 * TEMPERATURE * dt);
    const uint64_t seed_mixed = mix64(seed);
    /* the shared path counter sits alone in its cache line */
    struct { _Alignas(64) int64_t v; char pad[56]; } next = { 0 };
    int64_t total = 0;

#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        /* thread-local copies: the loop reloads these after every libmvec
           call, and reading them through the shared frame would put them in
           a cache line that the master thread's stack writes to */
        const double dt_l = dt, sig_l = sig;
        const int64_t cap_l = cap, n_l = n_paths;
        const uint64_t seed_l = seed_mixed;
        lanes_t L;
        int active = 0;
        for (int l = 0; l < LANES; ++l) {
            int64_t id;
#pragma omp atomic capture
            id = next.v++;
            if (id >= n_l) id = -1;
            start_lane(&L, l, id, seed_l);
            active += id >= 0;
        }
        while (active > 0) {
            int64_t any = 0;
            /* the lane loop: one Box-Muller pair and two steps per lane;
               simdlen(8) asks for 8 doubles per vector (AVX-512) */
#pragma omp simd reduction(| : any) simdlen(8)
            for (int l = 0; l < LANES; ++l) {
                uint64_t a0 = L.s0[l], a1 = L.s1[l], a2 = L.s2[l], a3 = L.s3[l], t;
                const uint64_t r1 = rotl(a1 * 5, 7) * 9;
                t = a1 << 17; a2 ^= a0; a3 ^= a1; a1 ^= a2; a0 ^= a3; a2 ^= t; a3 = rotl(a3, 45);
                const uint64_t r2 = rotl(a1 * 5, 7) * 9;
                t = a1 << 17; a2 ^= a0; a3 ^= a1; a1 ^= a2; a0 ^= a3; a2 ^= t; a3 = rotl(a3, 45);
                L.s0[l] = a0; L.s1[l] = a1; L.s2[l] = a2; L.s3[l] = a3;

                const double u1 = (double)(int64_t)((r1 >> 11) + 1) * 0x1p-53; /* (0,1] */
                const double u2 = (double)(int64_t)(r2 >> 11) * 0x1p-53;       /* [0,1) */
                const double rad = sig_l * sqrt(-2.0 * log(u1));
                const double th = TWO_PI * u2;
#ifdef __FAST_MATH__
                /* gcc 12 merges sin(th) and cos(th) into one sincos call, which it
                   does not vectorize; taking the sine as cos(th - pi/2) keeps both
                   as vectorizable libmvec cos calls. */
                const double z1 = rad * cos(th), z2 = rad * cos(th - 0.5 * M_PI_VAL);
#else
                /* scalar libm: the fused sincos is the faster choice here */
                const double z1 = rad * cos(th), z2 = rad * sin(th);
#endif

                const double x0 = L.x[l];
                const double x1 = x0 - (x0 * x0 * x0 - x0) * dt_l + z1;
                const double x2 = x1 - (x1 * x1 * x1 - x1) * dt_l + z2;
                const int64_t e1 = x1 >= 0.0, e2 = x2 >= 0.0;
                const int64_t k = L.k[l] + (e1 ? 1 : 2);
                L.x[l] = e1 ? x1 : x2;
                L.k[l] = k;
                const int64_t f = e1 | e2 | (k >= cap_l);
                L.flag[l] = f;
                any |= f;
            }
            if (!any) continue;
            for (int l = 0; l < LANES; ++l) {
                if (!L.flag[l]) continue;
                const int64_t id = L.id[l];
                if (id < 0) { /* idle lane wandered across: reset it */
                    L.x[l] = X0;
                    continue;
                }
                const int64_t k = L.k[l];
                if (L.x[l] >= 0.0 && k <= cap_l) {
                    exit_steps[id] = k;
                    total += k;
                } else {
                    exit_steps[id] = -1;
                    total += cap_l;
                }
                int64_t nid;
#pragma omp atomic capture
                nid = next.v++;
                if (nid >= n_l) { nid = -1; --active; }
                start_lane(&L, l, nid, seed_l);
            }
        }
    }
    return total;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s N_PATHS DT THREADS SEED [MAX_STEPS [EXIT_TIMES_FILE]]\n", argv[0]);
        return 2;
    }
    const int64_t n = strtoll(argv[1], NULL, 10);
    const double dt = strtod(argv[2], NULL);
    const int threads = atoi(argv[3]);
    const uint64_t seed = strtoull(argv[4], NULL, 10);
    const int64_t max_steps = argc > 5 ? strtoll(argv[5], NULL, 10) : 0;
    if (n <= 0 || !(dt > 0) || threads <= 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    int64_t *ks = malloc((size_t)n * sizeof *ks);
    if (!ks) return 1;

    const double t0 = omp_get_wtime();
    const int64_t total = w1_plain_run(n, dt, threads, seed, max_steps, ks);
    const double wall = omp_get_wtime() - t0;

    /* mean and standard error over exited paths (Welford) */
    double mean = 0.0, m2 = 0.0;
    int64_t cnt = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (ks[i] < 0) continue;
        const double ti = (double)ks[i] * dt;
        ++cnt;
        const double d = ti - mean;
        mean += d / (double)cnt;
        m2 += d * (ti - mean);
    }
    const double se = cnt > 1 ? sqrt(m2 / (double)(cnt - 1) / (double)cnt) : NAN;

    if (argc > 6) {
        FILE *fp = fopen(argv[6], "wb");
        if (!fp) {
            fprintf(stderr, "cannot write %s\n", argv[6]);
            return 1;
        }
        for (int64_t i = 0; i < n; ++i) {
            const double ti = ks[i] >= 0 ? (double)ks[i] * dt : NAN;
            fwrite(&ti, sizeof ti, 1, fp);
        }
        fclose(fp);
    }
#ifdef __FAST_MATH__
    const char *fm = "true";
#else
    const char *fm = "false";
#endif
    printf("{\"peer\": \"w1_plain\", \"fast_math\": %s, \"n_paths\": %lld, \"dt\": %g, "
           "\"threads\": %d, \"seed\": %llu, \"lanes\": %d, \"n_exited\": %lld, "
           "\"mean_exit_time\": %.6f, \"se\": %.6f, \"total_steps\": %lld, "
           "\"wall_s\": %.6f, \"ns_per_step_per_thread\": %.4f}\n",
           fm, (long long)n, dt, threads, (unsigned long long)seed, LANES, (long long)cnt,
           mean, se, (long long)total, wall, wall * threads / (double)total * 1e9);
    free(ks);
    return 0;
}
