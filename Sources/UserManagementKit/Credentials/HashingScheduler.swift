import Dispatch

/// Runs password hashing off the Swift concurrency pool, a bounded number at a time.
///
/// Key derivation functions keep a core busy for tens or hundreds of milliseconds. Running
/// them on the cooperative pool (which has one thread per core) would stall every other task of
/// the host while they run. Instead each job runs on a Dispatch global queue thread, and the
/// awaiting task is suspended (not blocking a pool thread) until it finishes
/// (`DispatchQueue.runBlocking`, which the file store uses for its blocking I/O too). At most
/// `limit` jobs run at once; further callers wait in FIFO order, which bounds CPU and memory
/// use (memory-hard hashes allocate per job).
final class HashingScheduler: Sendable {
  private struct State {
    var running = 0
    /// Waiting callers in FIFO order; `head` is the next to admit (dequeue is O(1)).
    var waiters: [CheckedContinuation<Void, Never>?] = []
    var head = 0

    var hasWaiters: Bool { head < waiters.count }

    mutating func dequeue() -> CheckedContinuation<Void, Never>? {
      guard hasWaiters else { return nil }
      defer {
        waiters[head] = nil
        head += 1
        if head == waiters.count || head >= 1024 && head * 2 >= waiters.count {
          waiters.removeFirst(head)
          head = 0
        }
      }
      return waiters[head]
    }
  }

  let limit: Int
  private let state = Locked(State())

  init(limit: Int) {
    self.limit = max(1, limit)
  }

  func run<T: Sendable>(
    inline: Bool = false, _ work: @escaping @Sendable () throws(UserManagementError) -> T
  ) async throws(UserManagementError) -> T {
    if inline { return try work() }
    await acquire()
    defer { release() }
    return try await DispatchQueue.global(qos: .userInitiated).runBlocking(work)
  }

  private func acquire() async {
    let admitted = state.withLock { state in
      if state.running < limit {
        state.running += 1
        return true
      }
      return false
    }
    if admitted { return }
    await withCheckedContinuation { continuation in
      let admittedNow = state.withLock { state in
        if state.running < limit {
          state.running += 1
          return true
        }
        state.waiters.append(continuation)
        return false
      }
      if admittedNow { continuation.resume() }
    }
  }

  private func release() {
    let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
      guard let waiter = state.dequeue() else {
        state.running -= 1
        return nil
      }
      // Hand the slot straight to the next waiter; `running` stays the same.
      return waiter
    }
    next?.resume()
  }
}
