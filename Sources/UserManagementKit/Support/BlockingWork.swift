import Dispatch

extension DispatchQueue {
  /// Runs `work` on this queue and suspends the calling task until it finishes.
  ///
  /// Swift's cooperative thread pool has about one thread per core, so a call that blocks
  /// there — a key derivation function, a `flock` that waits for another process, an
  /// `fdatasync`, a file read — stalls every other task of the host for as long as it blocks.
  /// Work handed to this method runs on a Dispatch thread instead, and the awaiting task gives
  /// its pool thread back while it waits (a continuation, not a semaphore). Use it for work
  /// that may block; a call that cannot block is cheaper made in place, without the two thread
  /// hand-offs this costs.
  ///
  /// - Parameter work: The work; it runs exactly once.
  /// - Returns: What `work` returns.
  /// - Throws: What `work` throws.
  func runBlocking<T: Sendable, Failure: Error>(
    _ work: @escaping @Sendable () throws(Failure) -> T
  ) async throws(Failure) -> T {
    let result: Result<T, Failure> = await withCheckedContinuation { continuation in
      self.async {
        continuation.resume(returning: Result { () throws(Failure) -> T in try work() })
      }
    }
    return try result.get()
  }
}
