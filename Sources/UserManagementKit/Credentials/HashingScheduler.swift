import Dispatch

/// Runs password hashing off the Swift concurrency pool, a bounded number at a time, with a
/// bounded queue.
///
/// Key derivation functions keep a core busy for tens or hundreds of milliseconds. Running
/// them on the cooperative pool (which has one thread per core) would stall every other task of
/// the host while they run. Instead each job runs on a Dispatch global queue thread, and the
/// awaiting task is suspended (not blocking a pool thread) until it finishes
/// (`DispatchQueue.runBlocking`, which the file store uses for its blocking I/O too). At most
/// `limit` jobs run at once; further callers wait in FIFO order, which bounds CPU and memory
/// use (memory-hard hashes allocate per job).
///
/// At most `maximumWaiting` callers wait: one more is refused at once with
/// ``UserManagementError/Code/overloaded``, so that a flood of sign-ins gets fast refusals
/// instead of a queue whose wait grows without bound. A waiting caller whose task is cancelled
/// leaves the queue at once with ``UserManagementError/Code/cancelled``; a job that has started
/// runs to its end (a key derivation cannot be interrupted).
final class HashingScheduler: Sendable {
  /// A waiting caller's place.
  private enum Place {
    /// Between taking a ticket and the decision to admit, refuse or queue it: cancellation
    /// may arrive first.
    case arriving
    /// Cancelled before it suspended.
    case cancelledOnArrival
    /// Suspended until admitted or cancelled.
    case waiting(CheckedContinuation<Void, any Error>)
  }

  private struct State {
    var running = 0
    var nextTicket: UInt64 = 0
    /// Every caller between arriving and being admitted or cancelled, by ticket.
    var places: [UInt64: Place] = [:]
    /// Waiting tickets in FIFO order from `head`; a ticket no longer in `places` was cancelled
    /// and is skipped.
    var order: [UInt64] = []
    var head = 0
    /// How many callers are queued (suspended, not cancelled).
    var waiting = 0
    /// How many jobs have been admitted so far.
    var admitted = 0

    /// The next waiting caller, removed from the queue.
    mutating func dequeue() -> CheckedContinuation<Void, any Error>? {
      while head < order.count {
        let ticket = order[head]
        head += 1
        if head == order.count || head >= 1024 && head * 2 >= order.count {
          order.removeFirst(head)
          head = 0
        }
        if case .waiting(let continuation)? = places.removeValue(forKey: ticket) {
          waiting -= 1
          admitted += 1
          return continuation
        }
      }
      return nil
    }
  }

  let limit: Int
  let maximumWaiting: Int
  private let state = Locked(State())

  init(limit: Int, maximumWaiting: Int) {
    self.limit = max(1, limit)
    self.maximumWaiting = max(0, maximumWaiting)
  }

  /// How many callers are waiting now (for tests).
  var waitingCount: Int { state.withLock { $0.waiting } }
  /// How many jobs have been admitted so far (for tests).
  var admittedCount: Int { state.withLock { $0.admitted } }

  func run<T: Sendable>(
    inline: Bool = false, _ work: @escaping @Sendable () throws(UserManagementError) -> T
  ) async throws(UserManagementError) -> T {
    try await withTurn(inline: inline) { turn async throws(UserManagementError) in
      try await turn.run(work)
    }
  }

  /// One admission: any number of jobs run in it, one after another, without queueing again.
  /// Only ``withTurn(inline:_:)`` makes one, for the length of its body.
  struct Turn: Sendable {
    fileprivate let inline: Bool

    /// Runs `work` in this turn: off the concurrency pool (inline for a cheap hasher). It
    /// cannot be refused or cancelled: the turn was admitted already.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws(UserManagementError) -> T)
      async throws(UserManagementError) -> T
    {
      if inline { return try work() }
      return try await DispatchQueue.global(qos: .userInitiated).runBlocking(work)
    }
  }

  /// Waits for a turn (or is refused with ``UserManagementError/Code/overloaded``, or leaves
  /// with ``UserManagementError/Code/cancelled``), then runs `body` in it and gives the slot
  /// back. A caller that must not do work before it is sure of its turn (a sign-in reserving
  /// an attempt against the throttle) does that work inside `body`. `body` must not ask this
  /// scheduler for another turn: with every slot taken that way, it would wait forever.
  func withTurn<T>(
    inline: Bool = false, _ body: (Turn) async throws(UserManagementError) -> T
  ) async throws(UserManagementError) -> T {
    if inline { return try await body(Turn(inline: true)) }
    try await acquire()
    defer { release() }
    let result: Result<T, UserManagementError> = await Self.$insideTurn.withValue(true) {
      do throws(UserManagementError) {
        return .success(try await body(Turn(inline: false)))
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  /// Whether the current task runs inside a turn of a scheduler, where asking any scheduler
  /// for another turn is a mistake: with every slot held that way, it would wait for itself.
  /// Debug builds stop on it (see `acquire`) instead of hanging.
  @TaskLocal private static var insideTurn = false

  /// Refuses with ``UserManagementError/Code/overloaded`` when a job asked for now would be
  /// refused (every slot busy, the queue full), so that a caller can refuse before doing work
  /// of its own: the same answer, in the same time, whatever the request.
  func requireRoom() throws(UserManagementError) {
    let full = state.withLock { $0.running >= limit && $0.waiting >= maximumWaiting }
    if full { throw Self.overloaded() }
  }

  private func acquire() async throws(UserManagementError) {
    assert(!Self.insideTurn, "A hashing turn asked for another turn, which could wait for itself.")
    if Task.isCancelled { throw Self.cancelled() }
    // A ticket first, so that a cancellation arriving before the decision below finds it.
    let ticket = state.withLock { state in
      let ticket = state.nextTicket
      state.nextTicket &+= 1
      state.places[ticket] = .arriving
      return ticket
    }
    do {
      try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
          // Admitted, refused or queued in one critical section, the only place a caller is
          // admitted (other than `release` handing a slot to the next in the queue), so no
          // slot can come free between the decision and the queueing with nobody left to
          // hand it to. Waiters exist only while every slot is busy.
          let outcome = state.withLock { state -> Result<Void, UserManagementError>? in
            guard case .arriving? = state.places.removeValue(forKey: ticket) else {
              return .failure(Self.cancelled())
            }
            if state.running < limit {
              state.running += 1
              state.admitted += 1
              return .success(())
            }
            guard state.waiting < maximumWaiting else { return .failure(Self.overloaded()) }
            state.places[ticket] = .waiting(continuation)
            state.order.append(ticket)
            state.waiting += 1
            return nil
          }
          if let outcome { continuation.resume(with: outcome) }
        }
      } onCancel: {
        let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
          switch state.places[ticket] {
          case .arriving?:
            state.places[ticket] = .cancelledOnArrival
            return nil
          case .waiting(let continuation)?:
            state.places[ticket] = nil
            state.waiting -= 1
            return continuation
          case .cancelledOnArrival?, nil:
            // Admitted already (it runs), or refused or cancelled already.
            return nil
          }
        }
        continuation?.resume(throwing: Self.cancelled())
      }
    } catch let error as UserManagementError {
      // Refused as overloaded, or cancelled; neither holds a slot.
      throw error
    } catch {
      throw Self.cancelled()
    }
  }

  private func release() {
    let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
      guard let waiter = state.dequeue() else {
        state.running -= 1
        return nil
      }
      // Hand the slot straight to the next waiter; `running` stays the same.
      return waiter
    }
    next?.resume()
  }

  static func overloaded() -> UserManagementError {
    UserManagementError(
      .overloaded, "Too many password checks are waiting; try again in a moment.")
  }

  static func cancelled() -> UserManagementError {
    UserManagementError(.cancelled, "The operation was cancelled before its password was checked.")
  }
}
