import Synchronization
import UserManagementKit

/// Group commit within one process: change sets submitted while a transaction is in flight
/// wait, and the next leader commits all of them in one transaction.
///
/// One caller at a time leads: it takes everything waiting (its own change set included),
/// commits the group, hands each waiter its result, and passes the lead to the oldest waiter
/// left, if any. So a transaction's round trips and its `COMMIT` (the flush to disk) are paid
/// once per group rather than once per change set, the directory row is locked once per
/// group, and no caller leads for longer than one group.
final class CommitQueue: Sendable {
  /// The most change sets one transaction takes.
  static let maximumGroup = 64

  private struct Waiter {
    let commit: PreparedCommit
    let mailbox: Mailbox
  }

  private struct State {
    var waiting: [Waiter] = []
    var leading = false
  }

  private let state = Mutex(State())

  /// Commits `commit` as part of a group, with `run` committing each group.
  ///
  /// - Parameters:
  ///   - commit: The change set.
  ///   - run: Commits a group and returns one result per member, in order.
  /// - Throws: This change set's error.
  func submit(
    _ commit: PreparedCommit,
    _ run: @escaping @Sendable ([PreparedCommit]) async -> [Result<Void, any Error>]
  ) async throws {
    let mailbox = Mailbox()
    var leads = state.withLock { state in
      state.waiting.append(Waiter(commit: commit, mailbox: mailbox))
      if state.leading { return false }
      state.leading = true
      return true
    }
    while true {
      if !leads {
        switch await mailbox.next() {
        case .done(let result): return try result.get()
        case .lead: leads = true
        }
      }
      let group = state.withLock { state in
        let group = Array(state.waiting.prefix(Self.maximumGroup))
        state.waiting.removeFirst(group.count)
        return group
      }
      // In a task of its own, so that cancelling the leading caller's task (a request that
      // went away) cannot fail the commits of the others in its group.
      let commits = group.map(\.commit)
      let results = await Task { await run(commits) }.value
      for (index, waiter) in group.enumerated() {
        let result =
          index < results.count
          ? results[index]
          : .failure(
            UserManagementError(.storageFailure, "The PostgreSQL store lost a commit's result."))
        waiter.mailbox.post(.done(result))
      }
      let next = state.withLock { state in
        guard let first = state.waiting.first else {
          state.leading = false
          return nil as Mailbox?
        }
        return first.mailbox
      }
      next?.post(.lead)
      leads = false
      // This caller's change set was in the group it led, so its result is in its mailbox.
    }
  }
}

/// Messages to one waiting caller: lead the next group, then its own result.
final class Mailbox: Sendable {
  enum Message: Sendable {
    case lead
    case done(Result<Void, any Error>)
  }

  private struct State {
    var messages: [Message] = []
    var waiter: CheckedContinuation<Message, Never>?
  }

  private let state = Mutex(State())

  func post(_ message: Message) {
    let waiter: CheckedContinuation<Message, Never>? = state.withLock { state in
      if let waiter = state.waiter {
        state.waiter = nil
        return waiter
      }
      state.messages.append(message)
      return nil
    }
    waiter?.resume(returning: message)
  }

  func next() async -> Message {
    await withCheckedContinuation { continuation in
      let ready: Message? = state.withLock { state in
        if !state.messages.isEmpty { return state.messages.removeFirst() }
        state.waiter = continuation
        return nil
      }
      if let ready { continuation.resume(returning: ready) }
    }
  }
}
