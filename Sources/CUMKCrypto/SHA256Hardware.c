// SHA-256 (FIPS 180-4, §6.2) on the CPU's SHA instructions, and a PBKDF2-HMAC-SHA256 loop
// that keeps both HMAC states, the message and the running XOR in vector registers.
//
// x86-64 (Intel SHA extensions): SHA256RNDS2 runs two rounds on the state split as
// (A,B,E,F) and (C,D,G,H), with W+K for the two rounds in the low half of its third operand;
// SHA256MSG1 and SHA256MSG2 compute four message-schedule words at a time. SSSE3 (PSHUFB)
// converts big-endian message bytes to words and SSE4.1 (PBLENDW) rearranges the state. The
// functions carry target attributes, so the rest of the package is built for the baseline
// CPU and these run only after cumk_cpu_features() has seen the instructions.
//
// arm64 (ARMv8 SHA2): SHA256H/SHA256H2 run four rounds on the (A,B,C,D) and (E,F,G,H)
// halves and SHA256SU0/SHA256SU1 compute four schedule words.
#include "CUMKCrypto.h"
#include "CPUFeatures.h"

#if defined(__x86_64__) && defined(__clang__)
#define CUMK_SHA256_X86 1
#include <immintrin.h>
#define CUMK_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))
#elif defined(__aarch64__) && (defined(__ARM_FEATURE_SHA2) || defined(__clang__))
#define CUMK_SHA256_ARM 1
#include <arm_neon.h>
#if defined(__ARM_FEATURE_SHA2)
#define CUMK_SHA_TARGET
#else
#define CUMK_SHA_TARGET __attribute__((target("sha2")))
#endif
#endif

#if defined(CUMK_SHA256_X86) || defined(CUMK_SHA256_ARM)

/// The round constants K0…K63 (FIPS 180-4, §4.2.2), aligned for vector loads.
static const uint32_t round_constants[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

#endif

#if defined(CUMK_SHA256_X86)

// ---------------------------------------------------------------------------------------------
// x86-64

/// The state as SHA256RNDS2 wants it: `abef` holds (A,B,E,F) from the most significant dword
/// down, `cdgh` holds (C,D,G,H).
typedef struct {
  __m128i abef;
  __m128i cdgh;
} x86_state;

/// Rearranges words a…d (`low`, a in dword 0) and e…h (`high`) into the instruction layout.
CUMK_SHA_TARGET static inline x86_state x86_state_from_words(__m128i low, __m128i high) {
  const __m128i badc = _mm_shuffle_epi32(low, 0xB1);   // dwords 0…3: b, a, d, c
  const __m128i hgfe = _mm_shuffle_epi32(high, 0x1B);  // dwords 0…3: h, g, f, e
  x86_state state;
  state.abef = _mm_alignr_epi8(badc, hgfe, 8);       // f, e, b, a
  state.cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);    // h, g, d, c
  return state;
}

/// The inverse of x86_state_from_words.
CUMK_SHA_TARGET static inline void x86_state_to_words(
    x86_state state, __m128i *low, __m128i *high) {
  const __m128i abef = _mm_shuffle_epi32(state.abef, 0x1B);  // a, b, e, f
  const __m128i ghcd = _mm_shuffle_epi32(state.cdgh, 0xB1);  // g, h, c, d
  *low = _mm_blend_epi16(abef, ghcd, 0xF0);                  // a, b, c, d
  *high = _mm_alignr_epi8(ghcd, abef, 8);                     // e, f, g, h
}

/// Four rounds; `wk` holds W+K for them, round t in dword t.
CUMK_SHA_TARGET static inline void x86_rounds4(x86_state *state, __m128i wk) {
  // The first instruction's result is the new (A,B,E,F); the old (A,B,E,F) is then exactly
  // the new (C,D,G,H), so the two registers swap roles and swap back after the second.
  state->cdgh = _mm_sha256rnds2_epu32(state->cdgh, state->abef, wk);
  state->abef = _mm_sha256rnds2_epu32(state->abef, state->cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

/// W[t+16…t+19] from w0 = W[t…t+3], w1 = W[t+4…t+7], w2 = W[t+8…t+11], w3 = W[t+12…t+15].
CUMK_SHA_TARGET static inline __m128i x86_schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3) {
  // MSG1 gives W[i] + σ0(W[i+1]); add W[i+9] (the dwords straddling w2 and w3); MSG2 adds
  // σ1(W[i+14]), feeding its own first two results into the last two.
  const __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
  return _mm_sha256msg2_epu32(partial, w3);
}

/// Round constants t…t+3.
CUMK_SHA_TARGET static inline __m128i x86_constants(int t) {
  return _mm_load_si128((const __m128i *)(const void *)(round_constants + t));
}

/// The compression function on a block given as four vectors of native words, including the
/// final addition of the incoming chaining value.
CUMK_SHA_TARGET static inline x86_state x86_compress(
    x86_state state, __m128i w0, __m128i w1, __m128i w2, __m128i w3) {
  const x86_state initial = state;
  x86_rounds4(&state, _mm_add_epi32(w0, x86_constants(0)));
  x86_rounds4(&state, _mm_add_epi32(w1, x86_constants(4)));
  x86_rounds4(&state, _mm_add_epi32(w2, x86_constants(8)));
  x86_rounds4(&state, _mm_add_epi32(w3, x86_constants(12)));
  for (int t = 16; t < 64; t += 16) {
    w0 = x86_schedule(w0, w1, w2, w3);
    x86_rounds4(&state, _mm_add_epi32(w0, x86_constants(t)));
    w1 = x86_schedule(w1, w2, w3, w0);
    x86_rounds4(&state, _mm_add_epi32(w1, x86_constants(t + 4)));
    w2 = x86_schedule(w2, w3, w0, w1);
    x86_rounds4(&state, _mm_add_epi32(w2, x86_constants(t + 8)));
    w3 = x86_schedule(w3, w0, w1, w2);
    x86_rounds4(&state, _mm_add_epi32(w3, x86_constants(t + 12)));
  }
  state.abef = _mm_add_epi32(state.abef, initial.abef);
  state.cdgh = _mm_add_epi32(state.cdgh, initial.cdgh);
  return state;
}

/// Loads four big-endian message words.
CUMK_SHA_TARGET static inline __m128i x86_load_big_endian(const uint8_t *bytes) {
  const __m128i reverse_each_dword =
      _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)bytes), reverse_each_dword);
}

CUMK_SHA_TARGET static void x86_compress_blocks(
    uint32_t state_words[8], const uint8_t *blocks, size_t block_count) {
  x86_state state = x86_state_from_words(
      _mm_loadu_si128((const __m128i *)(const void *)state_words),
      _mm_loadu_si128((const __m128i *)(const void *)(state_words + 4)));
  for (size_t index = 0; index < block_count; index++) {
    const uint8_t *block = blocks + index * 64;
    state = x86_compress(
        state, x86_load_big_endian(block), x86_load_big_endian(block + 16),
        x86_load_big_endian(block + 32), x86_load_big_endian(block + 48));
  }
  __m128i low, high;
  x86_state_to_words(state, &low, &high);
  _mm_storeu_si128((__m128i *)(void *)state_words, low);
  _mm_storeu_si128((__m128i *)(void *)(state_words + 4), high);
}

CUMK_SHA_TARGET static void x86_pbkdf2_iterate(
    const uint32_t inner_words[8], const uint32_t outer_words[8], uint32_t u_words[8],
    uint32_t t_words[8], uint64_t iterations) {
  const x86_state inner = x86_state_from_words(
      _mm_loadu_si128((const __m128i *)(const void *)inner_words),
      _mm_loadu_si128((const __m128i *)(const void *)(inner_words + 4)));
  const x86_state outer = x86_state_from_words(
      _mm_loadu_si128((const __m128i *)(const void *)outer_words),
      _mm_loadu_si128((const __m128i *)(const void *)(outer_words + 4)));
  __m128i u_low = _mm_loadu_si128((const __m128i *)(const void *)u_words);
  __m128i u_high = _mm_loadu_si128((const __m128i *)(const void *)(u_words + 4));
  __m128i t_low = _mm_loadu_si128((const __m128i *)(const void *)t_words);
  __m128i t_high = _mm_loadu_si128((const __m128i *)(const void *)(t_words + 4));
  // Both HMAC hashes absorb a 32-byte message after one 64-byte key block, so the second half
  // of their last block is fixed: 0x80, zeros, and the bit length 768 in W[15].
  const __m128i padding = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
  const __m128i length = _mm_set_epi32(768, 0, 0, 0);
  for (uint64_t remaining = iterations; remaining > 0; remaining--) {
    x86_state_to_words(x86_compress(inner, u_low, u_high, padding, length), &u_low, &u_high);
    x86_state_to_words(x86_compress(outer, u_low, u_high, padding, length), &u_low, &u_high);
    t_low = _mm_xor_si128(t_low, u_low);
    t_high = _mm_xor_si128(t_high, u_high);
  }
  _mm_storeu_si128((__m128i *)(void *)u_words, u_low);
  _mm_storeu_si128((__m128i *)(void *)(u_words + 4), u_high);
  _mm_storeu_si128((__m128i *)(void *)t_words, t_low);
  _mm_storeu_si128((__m128i *)(void *)(t_words + 4), t_high);
}

#define hardware_compress_blocks x86_compress_blocks
#define hardware_pbkdf2_iterate x86_pbkdf2_iterate

#elif defined(CUMK_SHA256_ARM)

// ---------------------------------------------------------------------------------------------
// arm64

/// The state in natural order: (A,B,C,D) and (E,F,G,H), A in lane 0.
typedef struct {
  uint32x4_t abcd;
  uint32x4_t efgh;
} arm_state;

/// Four rounds; `wk` holds W+K for them, round t in lane t.
CUMK_SHA_TARGET static inline void arm_rounds4(arm_state *state, uint32x4_t wk) {
  // SHA256H2 needs (A,B,C,D) as it was before SHA256H updated it.
  const uint32x4_t abcd = state->abcd;
  state->abcd = vsha256hq_u32(abcd, state->efgh, wk);
  state->efgh = vsha256h2q_u32(state->efgh, abcd, wk);
}

/// W[t+16…t+19] from the previous sixteen words, four per vector.
CUMK_SHA_TARGET static inline uint32x4_t arm_schedule(
    uint32x4_t w0, uint32x4_t w1, uint32x4_t w2, uint32x4_t w3) {
  return vsha256su1q_u32(vsha256su0q_u32(w0, w1), w2, w3);
}

CUMK_SHA_TARGET static inline arm_state arm_compress(
    arm_state state, uint32x4_t w0, uint32x4_t w1, uint32x4_t w2, uint32x4_t w3) {
  const arm_state initial = state;
  const uint32_t *k = round_constants;
  arm_rounds4(&state, vaddq_u32(w0, vld1q_u32(k)));
  arm_rounds4(&state, vaddq_u32(w1, vld1q_u32(k + 4)));
  arm_rounds4(&state, vaddq_u32(w2, vld1q_u32(k + 8)));
  arm_rounds4(&state, vaddq_u32(w3, vld1q_u32(k + 12)));
  for (int t = 16; t < 64; t += 16) {
    w0 = arm_schedule(w0, w1, w2, w3);
    arm_rounds4(&state, vaddq_u32(w0, vld1q_u32(k + t)));
    w1 = arm_schedule(w1, w2, w3, w0);
    arm_rounds4(&state, vaddq_u32(w1, vld1q_u32(k + t + 4)));
    w2 = arm_schedule(w2, w3, w0, w1);
    arm_rounds4(&state, vaddq_u32(w2, vld1q_u32(k + t + 8)));
    w3 = arm_schedule(w3, w0, w1, w2);
    arm_rounds4(&state, vaddq_u32(w3, vld1q_u32(k + t + 12)));
  }
  state.abcd = vaddq_u32(state.abcd, initial.abcd);
  state.efgh = vaddq_u32(state.efgh, initial.efgh);
  return state;
}

/// Loads four big-endian message words.
CUMK_SHA_TARGET static inline uint32x4_t arm_load_big_endian(const uint8_t *bytes) {
  return vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(bytes)));
}

CUMK_SHA_TARGET static void arm_compress_blocks(
    uint32_t state_words[8], const uint8_t *blocks, size_t block_count) {
  arm_state state;
  state.abcd = vld1q_u32(state_words);
  state.efgh = vld1q_u32(state_words + 4);
  for (size_t index = 0; index < block_count; index++) {
    const uint8_t *block = blocks + index * 64;
    state = arm_compress(
        state, arm_load_big_endian(block), arm_load_big_endian(block + 16),
        arm_load_big_endian(block + 32), arm_load_big_endian(block + 48));
  }
  vst1q_u32(state_words, state.abcd);
  vst1q_u32(state_words + 4, state.efgh);
}

CUMK_SHA_TARGET static void arm_pbkdf2_iterate(
    const uint32_t inner_words[8], const uint32_t outer_words[8], uint32_t u_words[8],
    uint32_t t_words[8], uint64_t iterations) {
  arm_state inner;
  inner.abcd = vld1q_u32(inner_words);
  inner.efgh = vld1q_u32(inner_words + 4);
  arm_state outer;
  outer.abcd = vld1q_u32(outer_words);
  outer.efgh = vld1q_u32(outer_words + 4);
  arm_state u;
  u.abcd = vld1q_u32(u_words);
  u.efgh = vld1q_u32(u_words + 4);
  uint32x4_t t_low = vld1q_u32(t_words);
  uint32x4_t t_high = vld1q_u32(t_words + 4);
  // The fixed second half of both HMAC hashes' last block (see the x86-64 version).
  const uint32_t padding_words[4] = {0x80000000u, 0, 0, 0};
  const uint32_t length_words[4] = {0, 0, 0, 768};
  const uint32x4_t padding = vld1q_u32(padding_words);
  const uint32x4_t length = vld1q_u32(length_words);
  for (uint64_t remaining = iterations; remaining > 0; remaining--) {
    u = arm_compress(inner, u.abcd, u.efgh, padding, length);
    u = arm_compress(outer, u.abcd, u.efgh, padding, length);
    t_low = veorq_u32(t_low, u.abcd);
    t_high = veorq_u32(t_high, u.efgh);
  }
  vst1q_u32(u_words, u.abcd);
  vst1q_u32(u_words + 4, u.efgh);
  vst1q_u32(t_words, t_low);
  vst1q_u32(t_words + 4, t_high);
}

#define hardware_compress_blocks arm_compress_blocks
#define hardware_pbkdf2_iterate arm_pbkdf2_iterate

#endif

// ---------------------------------------------------------------------------------------------
// Entry points

int cumk_sha256_hardware_available(void) {
#if defined(CUMK_SHA256_X86) || defined(CUMK_SHA256_ARM)
  return (cumk_cpu_features() & CUMK_FEATURE_SHA256) != 0;
#else
  return 0;
#endif
}

int cumk_sha256_compress_blocks(uint32_t state[8], const uint8_t *blocks, size_t block_count) {
#if defined(CUMK_SHA256_X86) || defined(CUMK_SHA256_ARM)
  if (cumk_sha256_hardware_available()) {
    hardware_compress_blocks(state, blocks, block_count);
    return 1;
  }
#else
  (void)state;
  (void)blocks;
  (void)block_count;
#endif
  return 0;
}

int cumk_pbkdf2_sha256_iterate(
    const uint32_t inner_state[8], const uint32_t outer_state[8], uint32_t u[8], uint32_t t[8],
    uint64_t iterations) {
#if defined(CUMK_SHA256_X86) || defined(CUMK_SHA256_ARM)
  if (cumk_sha256_hardware_available()) {
    hardware_pbkdf2_iterate(inner_state, outer_state, u, t, iterations);
    return 1;
  }
#else
  (void)inner_state;
  (void)outer_state;
  (void)u;
  (void)t;
  (void)iterations;
#endif
  return 0;
}
