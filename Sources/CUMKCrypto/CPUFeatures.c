// Run-time CPU feature detection.
//
// x86-64: CPUID leaf 1 ECX bit 9 (SSSE3) and bit 19 (SSE4.1); leaf 7 sub-leaf 0 EBX bit 29
// (SHA extensions) and bit 8 (BMI2). These are SSE-class and general-purpose instructions, so
// they need no operating-system support. AVX (leaf 1 ECX bit 28) does: it also needs OSXSAVE
// (leaf 1 ECX bit 27) and XCR0 bits 1 and 2 (XMM and YMM state enabled), read with XGETBV.
//
// arm64: the SHA2 instructions are part of every Apple arm64 CPU; on Linux (and Android) the
// kernel reports them as HWCAP_SHA2 in the auxiliary vector. Elsewhere they are used only when
// the compiler was told the target has them (__ARM_FEATURE_SHA2).
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_SHA2
#define HWCAP_SHA2 (1UL << 6)
#endif
#endif

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <cpuid.h>
#endif

#include "CPUFeatures.h"

/// Set in the cached value once detection has run, so 0 means "not yet detected".
#define CUMK_FEATURES_KNOWN (1u << 0)

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
/// XCR0, the register of state components the operating system saves (only call when OSXSAVE
/// is set).
static unsigned long long read_xcr0(void) {
  unsigned low = 0, high = 0;
  __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return ((unsigned long long)high << 32) | low;
}
#endif

static unsigned detect_features(void) {
  unsigned features = CUMK_FEATURES_KNOWN;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) {
    return features;
  }
  const unsigned ssse3 = (ecx >> 9) & 1u;
  const unsigned sse41 = (ecx >> 19) & 1u;
  const unsigned osxsave = (ecx >> 27) & 1u;
  const unsigned avx = (ecx >> 28) & 1u;
  if (avx && osxsave && (read_xcr0() & 6u) == 6u) {
    features |= CUMK_FEATURE_AVX;
  }
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) {
    return features;
  }
  const unsigned sha = (ebx >> 29) & 1u;
  const unsigned bmi2 = (ebx >> 8) & 1u;
  if (sha && ssse3 && sse41) {
    features |= CUMK_FEATURE_SHA256;
  }
  if (bmi2) {
    features |= CUMK_FEATURE_BMI2;
  }
#elif defined(__aarch64__) && defined(__APPLE__)
  features |= CUMK_FEATURE_SHA256;
#elif defined(__aarch64__) && defined(__linux__)
  if ((getauxval(AT_HWCAP) & HWCAP_SHA2) != 0) {
    features |= CUMK_FEATURE_SHA256;
  }
#elif defined(__aarch64__) && defined(__ARM_FEATURE_SHA2)
  features |= CUMK_FEATURE_SHA256;
#endif
  return features;
}

unsigned cumk_cpu_features(void) {
  // Detection is idempotent, so racing first callers may both run it and store the same value.
  static unsigned cached = 0;
  unsigned features = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (features == 0) {
    features = detect_features();
    __atomic_store_n(&cached, features, __ATOMIC_RELAXED);
  }
  return features;
}
