import Foundation
import PostgresDirectoryStore
import Synchronization
import Testing
import UserManagementKit

/// The audit subscriptions: one connection serves them all, and a new one hears only what is
/// committed after it.
@Suite("Audit feed", .serialized, .timeLimit(.minutes(1)))
struct AuditFeedTests {
  /// A store that has not committed for a while (others have) replays none of that backlog to
  /// a new subscriber: the first event it hears is the one committed after subscribing, and
  /// then other processes' events follow.
  @Test func aNewSubscriptionHearsNothingCommittedBeforeIt() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      defer { store.close() }
      let admin = try Fixtures.record("admin0@example.com", role: .admin)
      try await store.commit(ChangeSet(users: [admin]))
      try await database.withClient { client in
        let other = try await PostgresDirectoryStore.open(client: client)
        defer { other.close() }
        for _ in 0..<40 {
          try await other.commit(ChangeSet(auditEvents: [Fixtures.event(admin)]))
        }
        let stream = store.subscribeToAuditEvents()
        let mine = Fixtures.event(admin, .userActivated)
        try await store.commit(ChangeSet(auditEvents: [mine]))
        var iterator = stream.makeAsyncIterator()
        let first = await iterator.next()
        #expect(first?.id == mine.id, "the first event heard is the one committed after")
        let theirs = Fixtures.event(admin, .userDeactivated)
        try await other.commit(ChangeSet(auditEvents: [theirs]))
        let second = await iterator.next()
        #expect(second?.id == theirs.id, "another process's later event follows")
      }
    }
  }

  /// This process's own commits count from the call, even when the feed starts listening only
  /// after them (here it is held back until they are committed): they are heard, and nothing
  /// from before the call is.
  @Test func ownCommitsCountFromTheCall() async throws {
    try await TestDatabase.with { database in
      try await database.withClient { client in
        let gate = AsyncStream<Void>.makeStream()
        let store = try await PostgresDirectoryStore.open(
          client: client, logger: database.logger,
          hooks: .init(beforeFeedListens: {
            for await _ in gate.stream { break }
          }))
        defer { store.close() }
        let admin = try Fixtures.record("admin0@example.com", role: .admin)
        try await store.commit(ChangeSet(users: [admin], auditEvents: [Fixtures.event(admin)]))
        let stream = store.subscribeToAuditEvents()
        let mine = (0..<3).map { _ in Fixtures.event(admin, .userActivated) }
        try await store.commit(ChangeSet(auditEvents: [mine[0], mine[1]]))
        try await store.commit(ChangeSet(auditEvents: [mine[2]]))
        gate.continuation.yield()
        var heard: [UUID] = []
        for await event in stream {
          heard.append(event.id)
          if heard.count == 3 { break }
        }
        #expect(heard == mine.map(\.id))
      }
    }
  }

  /// A commit that lands before the feed listens, but whose outcome this process learns only
  /// after, is still heard: it was in flight when the feed started the subscription.
  @Test func aCommitInFlightWhileTheFeedStartsIsHeard() async throws {
    try await TestDatabase.with { database in
      try await database.withClient { client in
        let gate = AsyncStream<Void>.makeStream()
        let holder = Holder()
        let store = try await PostgresDirectoryStore.open(
          client: client, logger: database.logger,
          hooks: .init(
            beforeFeedListens: { for await _ in gate.stream { break } },
            afterCommitLanded: {
              // Landed, not yet noted: let the feed listen and start the subscription now.
              guard holder.armed else { return }
              gate.continuation.yield()
              while holder.store?.auditFeedState.listening != true {
                try? await Task.sleep(for: .milliseconds(5))
              }
            }))
        holder.store = store
        defer { store.close() }
        let admin = try Fixtures.record("admin0@example.com", role: .admin)
        try await store.commit(ChangeSet(users: [admin]))
        let stream = store.subscribeToAuditEvents()
        holder.armed = true
        let mine = Fixtures.event(admin, .userActivated)
        try await store.commit(ChangeSet(auditEvents: [mine]))
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next()?.id == mine.id)
      }
    }
  }

  /// More subscribers than the client has connections (8 in the tests) neither starve commits
  /// nor miss events: they share one connection. (With one connection each, this commit would
  /// wait for a connection until the time limit.)
  @Test func subscribersShareOneConnection() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      defer { store.close() }
      let admin = try Fixtures.record("admin0@example.com", role: .admin)
      try await store.commit(ChangeSet(users: [admin]))
      let streams = (0..<12).map { _ in store.subscribeToAuditEvents() }
      let event = Fixtures.event(admin)
      try await store.commit(ChangeSet(auditEvents: [event]))
      for stream in streams {
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next()?.id == event.id)
      }
    }
  }

  /// When the last subscriber goes, the feed stops (giving its connection back); a later
  /// subscription starts it again and hears what follows.
  @Test func theFeedStopsWithItsLastSubscriber() async throws {
    try await TestDatabase.with { database in
      let store = try await database.openStore()
      defer { store.close() }
      let admin = try Fixtures.record("admin0@example.com", role: .admin)
      try await store.commit(ChangeSet(users: [admin]))
      do {
        let stream = store.subscribeToAuditEvents()
        let event = Fixtures.event(admin)
        try await store.commit(ChangeSet(auditEvents: [event]))
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next()?.id == event.id)
      }
      // The stream is gone: its termination stops the feed.
      var running = true
      for _ in 0..<200 where running {
        try await Task.sleep(for: .milliseconds(10))
        running = store.auditFeedState.running
      }
      #expect(!running, "the feed stopped with its last subscriber")
      let again = store.subscribeToAuditEvents()
      let later = Fixtures.event(admin, .userActivated)
      try await store.commit(ChangeSet(auditEvents: [later]))
      var iterator = again.makeAsyncIterator()
      #expect(await iterator.next()?.id == later.id)
    }
  }
}

/// What a hook needs to reach after the store is open.
final class Holder: Sendable {
  private let state = Mutex<(store: PostgresDirectoryStore?, armed: Bool)>((nil, false))

  var store: PostgresDirectoryStore? {
    get { state.withLock { $0.store } }
    set { state.withLock { $0.store = newValue } }
  }

  var armed: Bool {
    get { state.withLock { $0.armed } }
    set { state.withLock { $0.armed = newValue } }
  }
}
