#ifndef CUMK_CPU_FEATURES_H
#define CUMK_CPU_FEATURES_H

// Run-time CPU feature detection shared by the kernels of this target (not exported).

/// The SHA-256 instructions the hardware kernels use are present (see CUMKCrypto.h).
#define CUMK_FEATURE_SHA256 (1u << 1)
/// x86-64 BMI2 (RORX, a non-destructive rotate), used by the SHA-512 kernel.
#define CUMK_FEATURE_BMI2 (1u << 2)
/// x86-64 AVX with the operating system saving the YMM state (used for VEX-encoded SSE
/// operations in the SHA-512 kernel).
#define CUMK_FEATURE_AVX (1u << 3)

/// The CUMK_FEATURE_… bits this CPU supports, detected once and cached (thread-safe).
unsigned cumk_cpu_features(void);

#endif
