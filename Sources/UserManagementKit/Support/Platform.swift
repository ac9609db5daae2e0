// Every platform-specific call of the library lives in this file.
import CUMKSystem

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

enum Platform {
  /// Overwrites memory with zeros in a way the optimizer may not remove.
  static func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    #if canImport(Darwin)
      _ = memset_s(base, buffer.count, 0, buffer.count)
    #elseif canImport(Glibc) || canImport(Musl)
      explicit_bzero(base, buffer.count)
    #else
      for index in buffer.indices { buffer[index] = 0 }
    #endif
  }

  /// Fills `buffer` from the kernel's CSPRNG in one call: `getrandom(2)` on Linux,
  /// `arc4random_buf(3)` on Darwin (see the `CUMKSystem` C target). Falls back to the standard
  /// library's generator, eight bytes per system call, if that fails.
  static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer, direct: Bool = false) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    let result =
      direct ? cumk_fill_random_direct(base, buffer.count) : cumk_fill_random(base, buffer.count)
    if result != 0 {
      fillWithStandardGenerator(buffer)
    }
  }

  private static func fillWithStandardGenerator(_ buffer: UnsafeMutableRawBufferPointer) {
    var generator = SystemRandomNumberGenerator()
    var index = 0
    while index < buffer.count {
      var word = generator.next()
      for _ in 0..<8 where index < buffer.count {
        buffer[index] = UInt8(truncatingIfNeeded: word)
        word >>= 8
        index += 1
      }
    }
  }

  /// Lets another runnable thread have this core (`sched_yield`): for a thread that waits a
  /// few microseconds for others to hand it work.
  static func yieldThread() {
    _ = sched_yield()
  }

  /// The C library's description of an `errno` value, such as "No space left on device".
  static func errorDescription(_ code: Int32) -> String {
    String(cString: strerror(code))
  }

  /// The number of processors this process may run on: its CPU affinity on Linux (so a
  /// process pinned to 2 of 64 cores sees 2), the online processors elsewhere.
  static var activeProcessorCount: Int {
    max(1, Int(cumk_available_processors()))
  }

  /// Asks the kernel to back a large buffer that is about to be filled (a whole snapshot
  /// read into memory) with huge pages where it can, so that filling it faults in one 2 MiB
  /// page at a time instead of 512 pages of 4 KiB: on Linux, `madvise(MADV_HUGEPAGE)` on the
  /// 2 MiB-aligned part of a buffer of at least 4 MiB, which the allocator maps on its own
  /// (and unmaps when it is freed, advice and all). A hint: a failure changes nothing, and
  /// other C libraries and platforms do nothing.
  static func preferHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
    #if os(Linux) && canImport(Glibc)
      let huge = 2 << 20
      guard let base = buffer.baseAddress, buffer.count >= 2 * huge else { return }
      let start = (UInt(bitPattern: base) + UInt(huge - 1)) & ~UInt(huge - 1)
      let end = (UInt(bitPattern: base) + UInt(buffer.count)) & ~UInt(huge - 1)
      guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
      _ = madvise(aligned, Int(end - start), MADV_HUGEPAGE)
    #endif
  }

  /// Runs `body`, which makes about `bytes` of small allocations on the calling thread
  /// (decoding a store's users), with the thread's allocator prepared for them, so that it
  /// does not grow its memory a page at a time.
  ///
  /// glibc gives a thread other than the main one an arena of its own, and grows that arena
  /// by exactly what the allocation that found it full needs, rounded up to a page: one
  /// `mprotect` for every 4 KiB of small allocations (13,656 of them opening 100,000 users,
  /// 138,130 opening a million). Allocating blocks just under its default threshold for
  /// separate mappings (128 KiB) grows the arena 96 KiB per call; the last block, kept until
  /// `body` returns, keeps the others, once freed, from being trimmed away, so they coalesce
  /// into one free chunk that the allocations of `body` are carved from without a system
  /// call. The memory is not touched beyond a header per block until `body` uses it, and
  /// what `body` leaves unused is trimmed once the last block is freed after it. No allocator
  /// setting is changed; other C libraries run `body` alone.
  static func withPreparedAllocations<Value>(bytes: Int, _ body: () -> Value) -> Value {
    #if canImport(Glibc)
      let block = 96 * 1024
      let count = bytes / block
      guard count > 1 else { return body() }
      var blocks: [UnsafeMutableRawPointer] = []
      blocks.reserveCapacity(count)
      for _ in 0..<count {
        guard let pointer = malloc(block) else { break }
        blocks.append(pointer)
      }
      // The last block stays allocated while `body` runs (a small allocation could come from
      // a cache of freed ones anywhere in the heap, not from after the blocks).
      guard let pin = blocks.popLast() else { return body() }
      for pointer in blocks { free(pointer) }
      blocks = []
      defer { free(pin) }
      return body()
    #else
      return body()
    #endif
  }
}

// MARK: - Locked

/// A value protected by a `pthread_mutex_t`.
///
/// We use this instead of `Synchronization.Mutex` because Mutex's contended path on Linux
/// (a futex wait and wake inside the uninstrumented standard library) is invisible to
/// ThreadSanitizer, which then reports false races on every value it protects — and CI runs
/// the concurrency tests under ThreadSanitizer. `pthread_mutex_lock`/`unlock` are intercepted
/// by ThreadSanitizer, so its reports stay meaningful.
///
/// `@unchecked Sendable` is sound because `value` is only ever read or written inside
/// `withLock`, between `pthread_mutex_lock` and `pthread_mutex_unlock` on the one mutex this
/// object owns, so no two threads access it at once; `Value: Sendable` makes handing the
/// value (or parts of it) from one thread to another safe; and the mutex pointer is
/// allocated in `init` and freed in `deinit`, when no other reference exists.
package final class Locked<Value: Sendable>: @unchecked Sendable {
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private var value: Value

  package init(_ value: Value) {
    self.value = value
    mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    // With default attributes pthread_mutex_init cannot fail on glibc, musl or Darwin
    // (their only error cases concern invalid attributes or process-shared mutexes).
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deinitialize(count: 1)
    mutex.deallocate()
  }

  /// Runs `body` with exclusive access to the value.
  package func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body(&value)
  }
}
