#ifndef CUMK_SYSTEM_H
#define CUMK_SYSTEM_H

#include <stddef.h>

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

#endif
