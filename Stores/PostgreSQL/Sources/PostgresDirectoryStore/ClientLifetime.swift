import PostgresNIO
import Synchronization

/// A `PostgresClient` run for a while, in a task of its own, and stopped without waiting for
/// ever.
///
/// A client's `run()` returns once its connections have closed after cancellation. If a
/// connection never reports its close (the server vanished mid-conversation, say), `run()`
/// may not return, and a task group that ran the client would never finish. ``stop(grace:)``
/// cancels the run and waits for it at most `grace`; after that the run is left to finish on
/// its own.
package struct ClientLifetime: Sendable {
  private let run: Task<Void, Never>

  /// Starts running `client`.
  package init(_ client: PostgresClient) {
    run = Task { await client.run() }
  }

  /// Stops the client: cancels its run and waits for it to end, at most `grace`.
  package func stop(grace: Duration = .seconds(5)) async {
    run.cancel()
    let ended = Latch()
    let run = self.run
    let watcher = Task {
      await run.value
      ended.open()
    }
    let timer = Task {
      try? await Task.sleep(for: grace)
      ended.open()
    }
    await ended.wait()
    watcher.cancel()
    timer.cancel()
  }

  /// Runs `body` with `client` running, then stops the client.
  @discardableResult
  package static func with<T: Sendable>(
    _ client: PostgresClient, _ body: () async throws -> T
  ) async throws -> T {
    let lifetime = ClientLifetime(client)
    do {
      let result = try await body()
      await lifetime.stop()
      return result
    } catch {
      await lifetime.stop()
      throw error
    }
  }
}

/// Opens once; every waiter, before or after, then goes on.
final class Latch: Sendable {
  private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>(
    (false, []))

  func open() {
    let waiters = state.withLock { state in
      guard !state.open else { return [CheckedContinuation<Void, Never>]() }
      state.open = true
      defer { state.waiters.removeAll() }
      return state.waiters
    }
    for waiter in waiters { waiter.resume() }
  }

  func wait() async {
    await withCheckedContinuation { continuation in
      let isOpen = state.withLock { state in
        if state.open { return true }
        state.waiters.append(continuation)
        return false
      }
      if isOpen { continuation.resume() }
    }
  }
}
