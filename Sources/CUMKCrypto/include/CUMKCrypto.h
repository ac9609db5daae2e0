#ifndef CUMK_CRYPTO_H
#define CUMK_CRYPTO_H

// Hash kernels that Swift cannot express: SHA-256 on the CPU's SHA instructions (x86-64 SHA
// extensions, ARMv8 SHA2), selected at run time, and a register-resident PBKDF2-HMAC-SHA512
// loop in portable C. UMKCrypto keeps its Swift implementations as the fallback: every
// hardware entry point reports whether it ran, and does nothing when it cannot.
//
// Words are native integers: the state is the eight FIPS 180-4 working words a…h, and a
// PBKDF2 block value U or T is the digest as eight words (the big-endian bytes of the digest,
// read as big-endian words).

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU can run the SHA-256 hardware paths: on x86-64 the SHA extensions together
/// with SSSE3 and SSE4.1 (CPUID), on arm64 the ARMv8 SHA2 instructions (always on Apple
/// silicon; `getauxval(AT_HWCAP) & HWCAP_SHA2` on Linux). Returns 1 or 0. The answer is
/// computed once and cached; the function is thread-safe and cheap after the first call.
int cumk_sha256_hardware_available(void);

/// Compresses `block_count` consecutive 64-byte blocks of message bytes into the SHA-256
/// chaining value `state` (a…h) with the SHA instructions.
///
/// Returns 1 when done, 0 (leaving `state` untouched) when the CPU lacks the instructions;
/// the caller then uses its portable implementation.
int cumk_sha256_compress_blocks(uint32_t state[8], const uint8_t *blocks, size_t block_count);

/// Runs `iterations` further PBKDF2-HMAC-SHA256 iterations of one output block with the SHA
/// instructions, keeping the HMAC states and the message in registers.
///
/// `inner_state` and `outer_state` are the SHA-256 chaining values after absorbing the HMAC key
/// block XOR ipad and XOR opad. On entry `u` holds U_j and `t` the XOR of U_1…U_j; on return
/// they hold U_{j+iterations} and the XOR of U_1…U_{j+iterations}.
///
/// Returns 1 when done, 0 (leaving `u` and `t` untouched) when the CPU lacks the instructions.
int cumk_pbkdf2_sha256_iterate(
    const uint32_t inner_state[8], const uint32_t outer_state[8], uint32_t u[8], uint32_t t[8],
    uint64_t iterations);

/// Runs `iterations` further PBKDF2-HMAC-SHA512 iterations of one output block, with the same
/// contract as `cumk_pbkdf2_sha256_iterate` on 64-bit words. Portable C (fully unrolled
/// rounds, message schedule computed on the fly); on x86-64 CPUs with AVX and BMI2 (detected at
/// run time) a build that computes the message schedule in vector registers. Always available.
void cumk_pbkdf2_sha512_iterate(
    const uint64_t inner_state[8], const uint64_t outer_state[8], uint64_t u[8], uint64_t t[8],
    uint64_t iterations);

#endif
