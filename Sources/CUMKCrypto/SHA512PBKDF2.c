// PBKDF2-HMAC-SHA512 iterations (FIPS 180-4, §6.4; RFC 8018, §5.2).
//
// Each iteration hashes U_j with the inner and then the outer HMAC state: two compressions of
// a block whose second half is fixed padding (0x80, zeros, bit length 1536). Everything stays
// in local variables, the eighty rounds are fully unrolled with the working variables renamed
// instead of moved, and nothing is converted between bytes and words.
//
// Two builds of the loop:
// - portable: scalar C for any CPU, with the message schedule computed on the fly in a
//   sixteen-word window so that it overlaps the rounds;
// - x86-64 with AVX and BMI2 (selected at run time): the schedule runs two words at a time in
//   vector registers, so it executes on the vector units alongside the scalar rounds, which
//   use RORX (a rotate into a fresh register); VEX encoding avoids register copies.
//   Measured on the development machine (AMD EPYC, Zen 4; 220,000 iterations): portable
//   build 0.147 s, this build 0.101 s, OpenSSL 3.0 through hashlib 0.148 s.
#include "CUMKCrypto.h"
#include "CPUFeatures.h"

#if defined(__x86_64__) && defined(__clang__)
#define CUMK_SHA512_X86 1
#include <immintrin.h>
#define CUMK_SHA512_VECTOR_TARGET __attribute__((target("avx,bmi2")))
#endif

/// The round constants K0…K79 (FIPS 180-4, §4.2.3).
static const uint64_t round_constants[80] __attribute__((aligned(16))) = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
};

#define ROTR64(x, n) (((x) >> (n)) | ((x) << (64 - (n))))
#define BIG_SIGMA0(x) (ROTR64(x, 28) ^ ROTR64(x, 34) ^ ROTR64(x, 39))
#define BIG_SIGMA1(x) (ROTR64(x, 14) ^ ROTR64(x, 18) ^ ROTR64(x, 41))
#define SMALL_SIGMA0(x) (ROTR64(x, 1) ^ ROTR64(x, 8) ^ ((x) >> 7))
#define SMALL_SIGMA1(x) (ROTR64(x, 19) ^ ROTR64(x, 61) ^ ((x) >> 6))
#define CHOOSE(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define MAJORITY(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))

/// One round (FIPS 180-4, §6.4.2 step 3) with the roles renamed by the caller: `d` becomes the
/// new e and `h` the new a.
#define ROUND(a, b, c, d, e, f, g, h, wk)                                   \
  do {                                                                      \
    const uint64_t t1 = (h) + BIG_SIGMA1(e) + CHOOSE(e, f, g) + (wk);       \
    (d) += t1;                                                              \
    (h) = t1 + BIG_SIGMA0(a) + MAJORITY(a, b, c);                           \
  } while (0)

/// W[t] for t ≥ 16, replacing W[t−16] in the window `w`.
#define SCHEDULE(w, t)                                                                      \
  ((w)[(t) & 15] += SMALL_SIGMA1((w)[((t) - 2) & 15]) + (w)[((t) - 7) & 15] +              \
                    SMALL_SIGMA0((w)[((t) - 15) & 15]))

/// Eight rounds t…t+7 on words already in the window.
#define EIGHT_ROUNDS(w, t)                                                       \
  do {                                                                           \
    ROUND(a, b, c, d, e, f, g, h, round_constants[(t)] + (w)[(t) & 15]);         \
    ROUND(h, a, b, c, d, e, f, g, round_constants[(t) + 1] + (w)[((t) + 1) & 15]); \
    ROUND(g, h, a, b, c, d, e, f, round_constants[(t) + 2] + (w)[((t) + 2) & 15]); \
    ROUND(f, g, h, a, b, c, d, e, round_constants[(t) + 3] + (w)[((t) + 3) & 15]); \
    ROUND(e, f, g, h, a, b, c, d, round_constants[(t) + 4] + (w)[((t) + 4) & 15]); \
    ROUND(d, e, f, g, h, a, b, c, round_constants[(t) + 5] + (w)[((t) + 5) & 15]); \
    ROUND(c, d, e, f, g, h, a, b, round_constants[(t) + 6] + (w)[((t) + 6) & 15]); \
    ROUND(b, c, d, e, f, g, h, a, round_constants[(t) + 7] + (w)[((t) + 7) & 15]); \
  } while (0)

/// Computes W[t…t+7] and runs their eight rounds.
#define EIGHT_SCHEDULED_ROUNDS(w, t) \
  do {                               \
    SCHEDULE(w, t);                  \
    SCHEDULE(w, (t) + 1);            \
    SCHEDULE(w, (t) + 2);            \
    SCHEDULE(w, (t) + 3);            \
    SCHEDULE(w, (t) + 4);            \
    SCHEDULE(w, (t) + 5);            \
    SCHEDULE(w, (t) + 6);            \
    SCHEDULE(w, (t) + 7);            \
    EIGHT_ROUNDS(w, t);              \
  } while (0)

/// The compression function of one block whose first eight words are `message` and whose
/// last eight are the fixed padding of a 64-byte message after one 128-byte block; writes the
/// resulting chaining value (initial state included) to `out`.
__attribute__((always_inline)) static inline void compress_fixed_block(
    const uint64_t state[8], const uint64_t message[8], uint64_t out[8]) {
  uint64_t w[16];
  for (int index = 0; index < 8; index++) {
    w[index] = message[index];
  }
  w[8] = 0x8000000000000000u;
  for (int index = 9; index < 15; index++) {
    w[index] = 0;
  }
  w[15] = (128 + 64) * 8;
  uint64_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint64_t e = state[4], f = state[5], g = state[6], h = state[7];
  EIGHT_ROUNDS(w, 0);
  EIGHT_ROUNDS(w, 8);
  EIGHT_SCHEDULED_ROUNDS(w, 16);
  EIGHT_SCHEDULED_ROUNDS(w, 24);
  EIGHT_SCHEDULED_ROUNDS(w, 32);
  EIGHT_SCHEDULED_ROUNDS(w, 40);
  EIGHT_SCHEDULED_ROUNDS(w, 48);
  EIGHT_SCHEDULED_ROUNDS(w, 56);
  EIGHT_SCHEDULED_ROUNDS(w, 64);
  EIGHT_SCHEDULED_ROUNDS(w, 72);
  out[0] = state[0] + a;
  out[1] = state[1] + b;
  out[2] = state[2] + c;
  out[3] = state[3] + d;
  out[4] = state[4] + e;
  out[5] = state[5] + f;
  out[6] = state[6] + g;
  out[7] = state[7] + h;
}

/// The portable iteration loop.
static void iterate(
    const uint64_t inner_state[8], const uint64_t outer_state[8], uint64_t u[8], uint64_t t[8],
    uint64_t iterations) {
  uint64_t inner[8], outer[8], current[8], sum[8], hashed[8];
  for (int index = 0; index < 8; index++) {
    inner[index] = inner_state[index];
    outer[index] = outer_state[index];
    current[index] = u[index];
    sum[index] = t[index];
  }
  for (uint64_t remaining = iterations; remaining > 0; remaining--) {
    compress_fixed_block(inner, current, hashed);
    compress_fixed_block(outer, hashed, current);
    for (int index = 0; index < 8; index++) {
      sum[index] ^= current[index];
    }
  }
  for (int index = 0; index < 8; index++) {
    u[index] = current[index];
    t[index] = sum[index];
  }
}

#if defined(CUMK_SHA512_X86)

// ---------------------------------------------------------------------------------------------
// x86-64, AVX + BMI2

/// One round reading W+K from `wk`. Majority(a, b, c) is computed as ((a ^ b) & (b ^ c)) ^ b,
/// where b ^ c is the previous round's a ^ b (carried in `bc`), saving an operation per round.
#define VECTOR_ROUND(a, b, c, d, e, f, g, h, t)                          \
  do {                                                                   \
    const uint64_t t1 = (h) + BIG_SIGMA1(e) + CHOOSE(e, f, g) + wk[t];   \
    const uint64_t ab = (a) ^ (b);                                       \
    (d) += t1;                                                           \
    (h) = t1 + BIG_SIGMA0(a) + ((ab & bc) ^ (b));                        \
    bc = ab;                                                             \
  } while (0)

/// Eight rounds t…t+7.
#define VECTOR_EIGHT_ROUNDS(t)                    \
  do {                                            \
    VECTOR_ROUND(a, b, c, d, e, f, g, h, (t));     \
    VECTOR_ROUND(h, a, b, c, d, e, f, g, (t) + 1); \
    VECTOR_ROUND(g, h, a, b, c, d, e, f, (t) + 2); \
    VECTOR_ROUND(f, g, h, a, b, c, d, e, (t) + 3); \
    VECTOR_ROUND(e, f, g, h, a, b, c, d, (t) + 4); \
    VECTOR_ROUND(d, e, f, g, h, a, b, c, (t) + 5); \
    VECTOR_ROUND(c, d, e, f, g, h, a, b, (t) + 6); \
    VECTOR_ROUND(b, c, d, e, f, g, h, a, (t) + 7); \
  } while (0)

/// Eight rounds t…t+7, computing W[t+16…t+23] (and their W+K) between them.
#define VECTOR_EIGHT_SCHEDULED_ROUNDS(t)                                   \
  do {                                                                     \
    wk_pair(w, wk, (t) + 16);                                              \
    VECTOR_ROUND(a, b, c, d, e, f, g, h, (t));                             \
    VECTOR_ROUND(h, a, b, c, d, e, f, g, (t) + 1);                         \
    wk_pair(w, wk, (t) + 18);                                              \
    VECTOR_ROUND(g, h, a, b, c, d, e, f, (t) + 2);                         \
    VECTOR_ROUND(f, g, h, a, b, c, d, e, (t) + 3);                         \
    wk_pair(w, wk, (t) + 20);                                              \
    VECTOR_ROUND(e, f, g, h, a, b, c, d, (t) + 4);                         \
    VECTOR_ROUND(d, e, f, g, h, a, b, c, (t) + 5);                         \
    wk_pair(w, wk, (t) + 22);                                              \
    VECTOR_ROUND(c, d, e, f, g, h, a, b, (t) + 6);                         \
    VECTOR_ROUND(b, c, d, e, f, g, h, a, (t) + 7);                         \
  } while (0)

/// Rotates both 64-bit lanes right by `n`.
CUMK_SHA512_VECTOR_TARGET static inline __m128i vector_rotr(__m128i x, int n) {
  return _mm_or_si128(_mm_srli_epi64(x, n), _mm_slli_epi64(x, 64 - n));
}

/// Lane 1 of `low` and lane 0 of `high`: the pair of words straddling two vectors.
CUMK_SHA512_VECTOR_TARGET static inline __m128i vector_straddle(__m128i low, __m128i high) {
  return _mm_castpd_si128(_mm_shuffle_pd(_mm_castsi128_pd(low), _mm_castsi128_pd(high), 1));
}

/// Stores W[t], W[t+1] + K[t], K[t+1] to `wk`.
CUMK_SHA512_VECTOR_TARGET static inline void store_wk(uint64_t *wk, __m128i words, int t) {
  const __m128i constants = _mm_load_si128((const __m128i *)(const void *)(round_constants + t));
  _mm_store_si128((__m128i *)(void *)(wk + t), _mm_add_epi64(words, constants));
}

/// Computes W[t], W[t+1] (t ≥ 16, even) into the window `w` (pairs, W[s] in w[(s / 2) % 8])
/// and stores their W+K.
CUMK_SHA512_VECTOR_TARGET static inline void wk_pair(__m128i w[8], uint64_t *wk, int t) {
  const int slot = t / 2;
  const __m128i previous = w[(slot - 1) & 7];                               // W[t-2], W[t-1]
  const __m128i back7 = vector_straddle(w[(slot - 4) & 7], w[(slot - 3) & 7]);  // W[t-7], W[t-6]
  const __m128i back15 = vector_straddle(w[slot & 7], w[(slot + 1) & 7]);  // W[t-15], W[t-14]
  const __m128i sigma1 = _mm_xor_si128(
      _mm_xor_si128(vector_rotr(previous, 19), vector_rotr(previous, 61)),
      _mm_srli_epi64(previous, 6));
  const __m128i sigma0 = _mm_xor_si128(
      _mm_xor_si128(vector_rotr(back15, 1), vector_rotr(back15, 8)), _mm_srli_epi64(back15, 7));
  const __m128i words = _mm_add_epi64(
      _mm_add_epi64(w[slot & 7], sigma1), _mm_add_epi64(back7, sigma0));
  w[slot & 7] = words;
  store_wk(wk, words, t);
}

/// The compression function of one fixed-padding block (see compress_fixed_block), with the
/// message and result as four pairs of words.
CUMK_SHA512_VECTOR_TARGET __attribute__((always_inline)) static inline void
vector_compress_fixed_block(const uint64_t state[8], const __m128i message[4], __m128i out[4]) {
  uint64_t wk[80] __attribute__((aligned(16)));
  __m128i w[8];
  for (int index = 0; index < 4; index++) {
    w[index] = message[index];
  }
  w[4] = _mm_set_epi64x(0, (long long)0x8000000000000000u);
  w[5] = _mm_setzero_si128();
  w[6] = _mm_setzero_si128();
  w[7] = _mm_set_epi64x((128 + 64) * 8, 0);
  for (int index = 0; index < 8; index++) {
    store_wk(wk, w[index], 2 * index);
  }
  uint64_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint64_t e = state[4], f = state[5], g = state[6], h = state[7];
  uint64_t bc = b ^ c;
  VECTOR_EIGHT_SCHEDULED_ROUNDS(0);
  VECTOR_EIGHT_SCHEDULED_ROUNDS(8);
  VECTOR_EIGHT_SCHEDULED_ROUNDS(16);
  VECTOR_EIGHT_SCHEDULED_ROUNDS(24);
  VECTOR_EIGHT_SCHEDULED_ROUNDS(32);
  VECTOR_EIGHT_SCHEDULED_ROUNDS(40);
  VECTOR_EIGHT_SCHEDULED_ROUNDS(48);
  VECTOR_EIGHT_SCHEDULED_ROUNDS(56);
  VECTOR_EIGHT_ROUNDS(64);
  VECTOR_EIGHT_ROUNDS(72);
  out[0] = _mm_set_epi64x((long long)(state[1] + b), (long long)(state[0] + a));
  out[1] = _mm_set_epi64x((long long)(state[3] + d), (long long)(state[2] + c));
  out[2] = _mm_set_epi64x((long long)(state[5] + f), (long long)(state[4] + e));
  out[3] = _mm_set_epi64x((long long)(state[7] + h), (long long)(state[6] + g));
}

CUMK_SHA512_VECTOR_TARGET static void vector_iterate(
    const uint64_t inner_state[8], const uint64_t outer_state[8], uint64_t u[8], uint64_t t[8],
    uint64_t iterations) {
  uint64_t inner[8], outer[8];
  for (int index = 0; index < 8; index++) {
    inner[index] = inner_state[index];
    outer[index] = outer_state[index];
  }
  __m128i current[4], hashed[4], sum[4];
  for (int index = 0; index < 4; index++) {
    current[index] = _mm_loadu_si128((const __m128i *)(const void *)(u + 2 * index));
    sum[index] = _mm_loadu_si128((const __m128i *)(const void *)(t + 2 * index));
  }
  for (uint64_t remaining = iterations; remaining > 0; remaining--) {
    vector_compress_fixed_block(inner, current, hashed);
    vector_compress_fixed_block(outer, hashed, current);
    for (int index = 0; index < 4; index++) {
      sum[index] = _mm_xor_si128(sum[index], current[index]);
    }
  }
  for (int index = 0; index < 4; index++) {
    _mm_storeu_si128((__m128i *)(void *)(u + 2 * index), current[index]);
    _mm_storeu_si128((__m128i *)(void *)(t + 2 * index), sum[index]);
  }
}

#endif

// ---------------------------------------------------------------------------------------------
// Entry point

void cumk_pbkdf2_sha512_iterate(
    const uint64_t inner_state[8], const uint64_t outer_state[8], uint64_t u[8], uint64_t t[8],
    uint64_t iterations) {
#if defined(CUMK_SHA512_X86)
  const unsigned required = CUMK_FEATURE_AVX | CUMK_FEATURE_BMI2;
  if ((cumk_cpu_features() & required) == required) {
    vector_iterate(inner_state, outer_state, u, t, iterations);
    return;
  }
#endif
  iterate(inner_state, outer_state, u, t, iterations);
}
