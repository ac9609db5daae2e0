// System calls that Swift's platform modules do not expose on every platform.
#if defined(__linux__)
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#elif defined(__APPLE__)
#include <stdlib.h>
#include <unistd.h>
#endif

#include "CUMKSystem.h"

#if defined(__linux__)

static int kernel_random(unsigned char *bytes, size_t count) {
  size_t filled = 0;
  while (filled < count) {
    ssize_t result = getrandom(bytes + filled, count - filled, 0);
    if (result > 0) {
      filled += (size_t)result;
    } else if (result < 0 && errno == EINTR) {
      continue;
    } else {
      return -1;
    }
  }
  return 0;
}

enum { POOL_SIZE = 256 };

// Incremented in the child after fork, so every thread's pool is discarded there.
static volatile unsigned long fork_generation = 1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void) { fork_generation += 1; }
static void register_atfork(void) { pthread_atfork(NULL, NULL, on_fork_child); }

static __thread unsigned char pool[POOL_SIZE];
static __thread size_t pool_available = 0;
static __thread unsigned long pool_generation = 0;

int cumk_fill_random(void *buffer, size_t count) {
  unsigned char *out = buffer;
  if (count > POOL_SIZE / 4) {
    return kernel_random(out, count);
  }
  pthread_once(&atfork_once, register_atfork);
  if (pool_generation != fork_generation) {
    explicit_bzero(pool, sizeof pool);
    pool_available = 0;
    pool_generation = fork_generation;
  }
  if (pool_available < count) {
    if (kernel_random(pool, POOL_SIZE) != 0) {
      explicit_bzero(pool, sizeof pool);
      pool_available = 0;
      return kernel_random(out, count);
    }
    pool_available = POOL_SIZE;
  }
  // Hand out bytes from the end of the pool and erase them at once.
  unsigned char *source = pool + (pool_available - count);
  memcpy(out, source, count);
  explicit_bzero(source, count);
  pool_available -= count;
  return 0;
}

int cumk_fill_random_direct(void *buffer, size_t count) {
  return kernel_random(buffer, count);
}

int cumk_available_processors(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? (int)online : 1;
}

#elif defined(__APPLE__)

int cumk_fill_random(void *buffer, size_t count) {
  arc4random_buf(buffer, count);
  return 0;
}

int cumk_fill_random_direct(void *buffer, size_t count) {
  arc4random_buf(buffer, count);
  return 0;
}

int cumk_available_processors(void) {
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? (int)online : 1;
}

#else

int cumk_fill_random(void *buffer, size_t count) {
  (void)buffer;
  (void)count;
  return -1;
}

int cumk_fill_random_direct(void *buffer, size_t count) {
  (void)buffer;
  (void)count;
  return -1;
}

int cumk_available_processors(void) { return 1; }

#endif

#include <fcntl.h>
#include <sys/stat.h>

int cumk_size_and_links(int descriptor, int64_t *size, uint64_t *links) {
#if defined(__linux__) && defined(STATX_SIZE)
  struct statx info;
  if (statx(descriptor, "", AT_EMPTY_PATH, STATX_SIZE | STATX_NLINK, &info) == 0) {
    if ((info.stx_mask & (STATX_SIZE | STATX_NLINK)) == (STATX_SIZE | STATX_NLINK)) {
      *size = (int64_t)info.stx_size;
      *links = (uint64_t)info.stx_nlink;
      return 0;
    }
  } else if (errno != ENOSYS && errno != EINVAL && errno != EPERM && errno != EACCES) {
    // ENOSYS and EINVAL: no statx; EPERM and EACCES: a sandbox (seccomp) that refuses it.
    return -1;
  }
#endif
  struct stat fallback;
  if (fstat(descriptor, &fallback) != 0) return -1;
  *size = (int64_t)fallback.st_size;
  *links = (uint64_t)fallback.st_nlink;
  return 0;
}

#if defined(__linux__)
#include <stdio.h>
#include <sys/sysmacros.h>

/// The identity of an open regular file, and the alignment its direct I/O needs (0 if the file
/// system says it has none). Uses statx without timestamps; fstat where statx is refused.
static int direct_identity(int descriptor, uint64_t *device, uint64_t *inode,
                           uint32_t *alignment) {
  *alignment = 4096;
#if defined(STATX_INO)
  unsigned int mask = STATX_TYPE | STATX_INO;
#if defined(STATX_DIOALIGN)
  mask |= STATX_DIOALIGN;
#endif
  struct statx info;
  if (statx(descriptor, "", AT_EMPTY_PATH, mask, &info) == 0 &&
      (info.stx_mask & (STATX_TYPE | STATX_INO)) == (STATX_TYPE | STATX_INO)) {
    if (!S_ISREG(info.stx_mode)) return -1;
    *device = ((uint64_t)info.stx_dev_major << 32) | info.stx_dev_minor;
    *inode = info.stx_ino;
#if defined(STATX_DIOALIGN)
    if (info.stx_mask & STATX_DIOALIGN) {
      uint32_t needed = info.stx_dio_offset_align > info.stx_dio_mem_align
                            ? info.stx_dio_offset_align
                            : info.stx_dio_mem_align;
      *alignment = info.stx_dio_offset_align == 0 ? 0 : (needed > 4096 ? needed : 4096);
    }
#endif
    return 0;
  }
#endif
  struct stat fallback;
  if (fstat(descriptor, &fallback) != 0 || !S_ISREG(fallback.st_mode)) return -1;
  *device = ((uint64_t)major(fallback.st_dev) << 32) | minor(fallback.st_dev);
  *inode = fallback.st_ino;
  return 0;
}
#endif

int cumk_open_direct_sync(int descriptor, uint32_t *alignment) {
  *alignment = 0;
#if defined(__linux__) && defined(O_DIRECT) && defined(O_DSYNC)
  uint64_t device, inode, reopenedDevice, reopenedInode;
  uint32_t needed, unused;
  if (direct_identity(descriptor, &device, &inode, &needed) != 0 || needed == 0) return -1;
  // A power-of-two alignment no larger than 1 MiB, or no direct writes.
  if ((needed & (needed - 1)) != 0 || needed > (1u << 20)) return -1;
  char path[64];
  if (snprintf(path, sizeof path, "/proc/self/fd/%d", descriptor) >= (int)sizeof path) return -1;
  // The entry is a link to the open file itself (so no O_NOFOLLOW); the identity check below
  // makes sure that is what was opened.
  int direct = open(path, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
  if (direct < 0) return -1;
  if (direct_identity(direct, &reopenedDevice, &reopenedInode, &unused) != 0 ||
      reopenedDevice != device || reopenedInode != inode) {
    close(direct);
    return -1;
  }
  *alignment = needed;
  return direct;
#else
  (void)descriptor;
  return -1;
#endif
}
