// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final XOR
// 0xFFFFFFFF. The record checksums of the file store.
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "CUMKSystem.h"

#define CUMK_CRC32C_POLY 0x82F63B78u

// Slicing-by-8 tables, filled once on first use.
static uint32_t crc_table[8][256];
static atomic_int crc_table_state;  // 0 unset, 1 filling, 2 ready

static void fill_tables(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t crc = n;
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (CUMK_CRC32C_POLY & (0u - (crc & 1u)));
    crc_table[0][n] = crc;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t crc = crc_table[0][n];
    for (int k = 1; k < 8; k++) {
      crc = crc_table[0][crc & 0xFF] ^ (crc >> 8);
      crc_table[k][n] = crc;
    }
  }
}

static void ensure_tables(void) {
  if (atomic_load_explicit(&crc_table_state, memory_order_acquire) == 2) return;
  int expected = 0;
  if (atomic_compare_exchange_strong(&crc_table_state, &expected, 1)) {
    fill_tables();
    atomic_store_explicit(&crc_table_state, 2, memory_order_release);
  } else {
    while (atomic_load_explicit(&crc_table_state, memory_order_acquire) != 2) {
    }
  }
}

uint32_t cumk_crc32c_portable(uint32_t crc, const void *bytes, size_t count) {
  ensure_tables();
  const uint8_t *p = bytes;
  uint32_t c = ~crc;
  while (count >= 8) {
    uint32_t lo, hi;
    memcpy(&lo, p, 4);
    memcpy(&hi, p + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    lo = __builtin_bswap32(lo);
    hi = __builtin_bswap32(hi);
#endif
    lo ^= c;
    c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
        crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
        crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
        crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
    p += 8;
    count -= 8;
  }
  while (count--) c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *bytes,
                                                               size_t count) {
  const uint8_t *p = bytes;
  uint64_t c = ~crc;
  while (count >= 8) {
    uint64_t word;
    memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    count -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  while (count--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

static int has_hardware_crc(void) {
  static atomic_int state;  // 0 unknown, 1 no, 2 yes
  int known = atomic_load_explicit(&state, memory_order_relaxed);
  if (known) return known == 2;
  __builtin_cpu_init();
  int yes = __builtin_cpu_supports("sse4.2") ? 2 : 1;
  atomic_store_explicit(&state, yes, memory_order_relaxed);
  return yes == 2;
}

uint32_t cumk_crc32c(uint32_t crc, const void *bytes, size_t count) {
  if (has_hardware_crc()) return crc32c_sse42(crc, bytes, count);
  return cumk_crc32c_portable(crc, bytes, count);
}

#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>

uint32_t cumk_crc32c(uint32_t crc, const void *bytes, size_t count) {
  const uint8_t *p = bytes;
  uint32_t c = ~crc;
  while (count >= 8) {
    uint64_t word;
    memcpy(&word, p, 8);
    c = __crc32cd(c, word);
    p += 8;
    count -= 8;
  }
  while (count--) c = __crc32cb(c, *p++);
  return ~c;
}

#else

uint32_t cumk_crc32c(uint32_t crc, const void *bytes, size_t count) {
  return cumk_crc32c_portable(crc, bytes, count);
}

#endif

uint64_t cumk_shared_load(const uint64_t *address) {
  return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}

void cumk_shared_store(uint64_t *address, uint64_t value) {
  __atomic_store_n(address, value, __ATOMIC_RELEASE);
}
