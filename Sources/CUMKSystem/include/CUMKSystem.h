#ifndef CUMK_SYSTEM_H
#define CUMK_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

/// Fills `buffer` with `count` bytes from the kernel's CSPRNG (getrandom(2) on Linux,
/// arc4random_buf(3) on Apple platforms). Returns 0 on success, -1 if the kernel could not
/// provide the bytes (the buffer must then not be used).
///
/// On Linux, small requests are served from a per-thread buffer of kernel random bytes that is
/// refilled 256 bytes at a time, so a caller asking for 16 bytes at a time does not pay one
/// system call per request. Bytes are erased from the buffer as they are handed out, and the
/// buffer is discarded in a child process after fork(2), so parent and child never share
/// output.
int cumk_fill_random(void *buffer, size_t count);

/// Like cumk_fill_random, but always straight from the kernel, never through the per-thread
/// pool: for secret material (generated passwords and API tokens), so that no future secret
/// ever sits in process memory before it is drawn.
int cumk_fill_random_direct(void *buffer, size_t count);

/// The number of processors this process may run on (its CPU affinity on Linux, the online
/// processors elsewhere), at least 1.
int cumk_available_processors(void);

/// Extends a CRC-32C (Castagnoli, as in iSCSI, RFC 3720) over `count` bytes. Pass 0 to start;
/// the result of one call is the `crc` of the next, so data can be checksummed in pieces.
/// Uses the SSE 4.2 or ARMv8 CRC32 instructions when the processor has them, a table
/// otherwise; the results are identical.
uint32_t cumk_crc32c(uint32_t crc, const void *bytes, size_t count);

/// The same checksum, always computed with the portable table (for tests that compare the two
/// paths).
uint32_t cumk_crc32c_portable(uint32_t crc, const void *bytes, size_t count);

/// Reads a 64-bit value that other processes update in shared memory (an mmap(2) of a file
/// with MAP_SHARED), with acquire ordering. `address` must be 8-byte aligned.
uint64_t cumk_shared_load(const uint64_t *address);

/// Stores a 64-bit value in shared memory with release ordering. `address` must be 8-byte
/// aligned.
void cumk_shared_store(uint64_t *address, uint64_t value);

/// The size and link count of the open file `descriptor`, without asking for its timestamps:
/// statx(2) with only STATX_SIZE and STATX_NLINK on Linux (fstat(2) where statx is missing,
/// and elsewhere). A stat that reports a file's timestamps makes Linux 6.13 and later stamp
/// the file's next write at full resolution, which dirties its inode on every write and slows
/// the fdatasync(2) after it; a store checking its log before each commit must not ask.
/// Returns 0, or -1 with errno set.
int cumk_size_and_links(int descriptor, int64_t *size, uint64_t *links);

/// Opens the file that `descriptor` refers to a second time, for direct and synchronous
/// writes (O_DIRECT | O_DSYNC, through /proc/self/fd on Linux), and checks that it is the same
/// file. A write through it bypasses the page cache and returns once its data is durable (one
/// system call instead of pwrite(2) and fdatasync(2), and no page-cache writeback). Writes
/// must start and end on multiples of `*alignment` bytes, from a buffer aligned to as many:
/// 4096, or more where the file system says its direct I/O needs more (statx STATX_DIOALIGN).
/// Returns the new descriptor (close-on-exec), or -1 where that is not possible (not Linux, no
/// /proc, a file system without direct I/O).
int cumk_open_direct_sync(int descriptor, uint32_t *alignment);

/// Asks the processor to start loading the cache line at `address` for a write soon, so that
/// a loop can overlap the cache misses of objects it reaches later with its work on the
/// current one. A hint: it never faults, and does nothing where the compiler has no such
/// instruction.
static inline void cumk_prefetch_for_write(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address, 1, 3);
#else
  (void)address;
#endif
}

#endif
