public import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A reusable test suite that any ``UserManagementKit/DirectoryStore`` implementation must
/// pass: the in-memory and file-backed stores of this package, and a host's own (SQL, …).
///
/// The suite is independent of any test framework. Each check gets a fresh, empty store from
/// your factory and throws ``ConformanceFailure`` when the store misbehaves. With Swift
/// Testing, run every check as its own test case:
///
/// ```swift
/// @Test(arguments: DirectoryStoreConformance.Check.allCases)
/// func conformance(_ check: DirectoryStoreConformance.Check) async throws {
///   try await DirectoryStoreConformance { try await MySQLDirectoryStore.temporary() }
///     .run(check)
/// }
/// ```
///
/// or call ``runAll()`` from any test.
public struct DirectoryStoreConformance: Sendable {
  /// One behaviour the suite checks.
  public enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Inserted users read back by id and canonical username.
    case insertAndRead
    /// Canonical usernames are unique, within one change set and across commits.
    case usernamesAreUnique
    /// Updates must name the next version; stale ones conflict.
    case updatesAreVersioned
    /// A write that changes a username is refused.
    case usernamesNeverChange
    /// A failed precondition applies nothing at all (users, policies, audit, throttles).
    case failedCommitsApplyNothing
    /// `directoryIsEmpty` holds only for an empty store.
    case directoryIsEmptyPrecondition
    /// No commit may leave the directory without an active administrator.
    case keepsAnActiveAdministrator
    /// Policies are created, renamed, versioned, looked up and deleted; names are unique.
    case policyLifecycle
    /// Users hold only existing policies; held policies cannot be deleted.
    case policyReferentialIntegrity
    /// Audit events are stored with their change and queried by target, actor and time.
    case auditTrail
    /// Subscribers receive committed events in order.
    case auditSubscription
    /// Failed sign-in counters count every failure, honour their precondition, and reset.
    case throttleCounters
    /// Listings filter, search, sort and paginate exactly as the reference definition.
    case listingsMatchReference
    /// The same with over a thousand users inserted in random order.
    case listingsAtScaleMatchReference
    /// Audit events with actions and fields the library does not know round-trip intact.
    case auditEventsRoundTrip
    /// Concurrent inserts of one username: exactly one wins.
    case concurrentInsertsOfOneUsername
    /// Concurrent read-modify-write updates never lose an update.
    case concurrentUpdatesAreSerializable
    /// A user's account-security state (second factor, recovery codes, tokens, API keys) and
    /// the e-mail-verified flag round-trip exactly, through inserts and updates.
    case accountSecurityRoundTrips

    /// The check's name.
    public var description: String { rawValue }
  }

  private let makeStore: @Sendable () async throws -> any DirectoryStore

  /// Creates the suite.
  ///
  /// - Parameter makeStore: Returns a new, empty store each time it is called.
  public init(makeStore: @escaping @Sendable () async throws -> any DirectoryStore) {
    self.makeStore = makeStore
  }

  /// Runs every check, collecting all failures.
  ///
  /// - Throws: ``ConformanceFailure`` listing every failed check.
  public func runAll() async throws {
    var failures: [String] = []
    for check in Check.allCases {
      do {
        try await run(check)
      } catch {
        failures.append("\(check): \(error)")
      }
    }
    if !failures.isEmpty {
      throw ConformanceFailure(failures.joined(separator: "\n"))
    }
  }

  /// Runs one check on a fresh store.
  ///
  /// - Parameter check: The check.
  /// - Throws: ``ConformanceFailure`` when the store misbehaves, or the store's own error when
  ///   it fails unexpectedly.
  public func run(_ check: Check) async throws {
    let store = try await makeStore()
    let fixtures = Fixtures()
    switch check {
    case .insertAndRead: try await insertAndRead(store, fixtures)
    case .usernamesAreUnique: try await usernamesAreUnique(store, fixtures)
    case .updatesAreVersioned: try await updatesAreVersioned(store, fixtures)
    case .usernamesNeverChange: try await usernamesNeverChange(store, fixtures)
    case .failedCommitsApplyNothing: try await failedCommitsApplyNothing(store, fixtures)
    case .directoryIsEmptyPrecondition: try await directoryIsEmpty(store, fixtures)
    case .keepsAnActiveAdministrator: try await keepsAnActiveAdministrator(store, fixtures)
    case .policyLifecycle: try await policyLifecycle(store, fixtures)
    case .policyReferentialIntegrity: try await policyReferentialIntegrity(store, fixtures)
    case .auditTrail: try await auditTrail(store, fixtures)
    case .auditSubscription: try await auditSubscription(store, fixtures)
    case .throttleCounters: try await throttleCounters(store, fixtures)
    case .listingsMatchReference: try await listingsMatchReference(store, fixtures)
    case .listingsAtScaleMatchReference: try await listingsAtScale(store, fixtures)
    case .auditEventsRoundTrip: try await auditEventsRoundTrip(store, fixtures)
    case .concurrentInsertsOfOneUsername: try await concurrentInserts(store, fixtures)
    case .concurrentUpdatesAreSerializable: try await concurrentUpdates(store, fixtures)
    case .accountSecurityRoundTrips: try await accountSecurityRoundTrips(store, fixtures)
    }
  }
}

/// A store failed a conformance check.
public struct ConformanceFailure: Error, CustomStringConvertible, Sendable {
  /// What went wrong.
  public let description: String

  /// Creates a failure.
  ///
  /// - Parameter description: What went wrong.
  public init(_ description: String) {
    self.description = description
  }
}

// MARK: - Checks

extension DirectoryStoreConformance {
  private func insertAndRead(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let admin = f.record("Root@Example.com", role: .admin)
    try await store.commit(ChangeSet(users: [admin], auditEvents: [f.event(admin)]))
    try expect(try await store.user(id: admin.id) == admin, "user(id:) returns the record")
    try expect(
      try await store.user(usernameKey: "root@example.com") == admin,
      "user(usernameKey:) finds the canonical username")
    try expect(
      try await store.user(usernameKey: "Root@Example.com") == nil,
      "user(usernameKey:) takes the canonical key only")
    try expect(
      try await store.user(id: UserID(rawValue: f.id())) == nil, "an unknown id reads as nil")
    try expect(
      (try await store.user(id: admin.id))?.user.username.rawValue == "Root@Example.com",
      "the username is stored as typed")
    try expect(try await store.userCount(matching: UserFilter()) == 1, "count is 1")
  }

  private func usernamesAreUnique(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let admin = f.record("ada@example.com", role: .admin)
    try await store.commit(ChangeSet(users: [admin]))
    try await expectError(.usernameTaken, "a case variant of a taken username") {
      try await store.commit(ChangeSet(users: [f.record("ADA@example.COM")]))
    }
    try await expectError(.usernameTaken, "two inserts of one username in one change set") {
      try await store.commit(
        ChangeSet(users: [f.record("bob@example.com"), f.record("Bob@Example.com")]))
    }
    try expect(try await store.userCount(matching: UserFilter()) == 1, "nothing was added")
  }

  private func updatesAreVersioned(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let admin = f.record("ada@example.com", role: .admin)
    try await store.commit(ChangeSet(users: [admin]))
    var skipping = admin
    skipping.user.version = 3
    try await expectError(.versionConflict, "an update that skips a version") {
      try await store.commit(ChangeSet(users: [skipping]))
    }
    var next = admin
    next.user.version = 2
    next.user.firstName = "Augusta"
    try await store.commit(ChangeSet(users: [next]))
    try await expectError(.versionConflict, "a second update from the same version") {
      try await store.commit(ChangeSet(users: [next]))
    }
    var reinsert = admin
    reinsert.user.firstName = "Again"
    try await expectError(.versionConflict, "inserting an existing id") {
      try await store.commit(ChangeSet(users: [reinsert]))
    }
    try expect(
      try await store.user(id: admin.id)?.user.firstName == "Augusta", "the update applied once")
  }

  private func usernamesNeverChange(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let admin = f.record("ada@example.com", role: .admin)
    try await store.commit(ChangeSet(users: [admin]))
    let renamed = f.record("ada2@example.com", role: .admin, id: admin.id, version: 2)
    try await expectError(.invalidOperation, "an update that changes the username") {
      try await store.commit(ChangeSet(users: [renamed]))
    }
    try expect(
      try await store.user(usernameKey: "ada2@example.com") == nil, "the new name is not indexed")
  }

  private func failedCommitsApplyNothing(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let admin = f.record("ada@example.com", role: .admin)
    try await store.commit(ChangeSet(users: [admin]))
    let newcomer = f.record("new@example.com")
    let policy = f.policy("Doomed")
    let changes = ChangeSet(
      preconditions: [.userVersion(admin.id, 99)], users: [newcomer], policies: [.put(policy)],
      auditEvents: [f.event(newcomer)],
      throttleUpdates: [
        ThrottleUpdate(user: admin.id, kind: .password, operation: .recordFailure(at: f.now))
      ])
    try await expectError(.versionConflict, "a stale user version precondition") {
      try await store.commit(changes)
    }
    try expect(try await store.user(id: newcomer.id) == nil, "no user was added")
    try expect(try await store.policy(id: policy.id) == nil, "no policy was added")
    try expect(
      try await store.auditEvents(matching: AuditQuery()).isEmpty, "no audit event was stored")
    try expect(
      try await store.loginThrottle(for: admin.id, kind: .password) == .clear,
      "no throttle update was applied")
    try await expectError(.versionConflict, "a stale policy version precondition") {
      try await store.commit(ChangeSet(preconditions: [.policyVersion(policy.id, 1)]))
    }
  }

  private func directoryIsEmpty(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let first = f.record("first@example.com", role: .admin)
    try await store.commit(ChangeSet(preconditions: [.directoryIsEmpty], users: [first]))
    try await expectError(.alreadyBootstrapped, "directoryIsEmpty on a non-empty store") {
      try await store.commit(
        ChangeSet(
          preconditions: [.directoryIsEmpty],
          users: [f.record("second@example.com", role: .admin)]))
    }
  }

  private func keepsAnActiveAdministrator(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    try await expectError(.lastActiveAdministrator, "a first user who is not an active admin") {
      try await store.commit(ChangeSet(users: [f.record("general@example.com")]))
    }
    let ada = f.record("ada@example.com", role: .admin)
    try await store.commit(ChangeSet(users: [ada]))
    let inactive = f.record(
      "ada@example.com", role: .admin, status: .inactive, id: ada.id, version: 2)
    try await expectError(.lastActiveAdministrator, "deactivating the only active admin") {
      try await store.commit(ChangeSet(users: [inactive]))
    }
    let demoted = f.record("ada@example.com", role: .generalUser, id: ada.id, version: 2)
    try await expectError(.lastActiveAdministrator, "demoting the only active admin") {
      try await store.commit(ChangeSet(users: [demoted]))
    }
    let bob = f.record("bob@example.com", role: .admin)
    try await store.commit(ChangeSet(users: [bob]))
    try await store.commit(ChangeSet(users: [demoted]))
    let bobInactive = f.record(
      "bob@example.com", role: .admin, status: .inactive, id: bob.id, version: 2)
    try await expectError(.lastActiveAdministrator, "deactivating the last of two admins") {
      try await store.commit(ChangeSet(users: [bobInactive]))
    }
  }

  private func policyLifecycle(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let viewers = f.policy("Viewers")
    try await store.commit(ChangeSet(policies: [.put(viewers)]))
    try expect(try await store.policy(id: viewers.id) == viewers, "policy(id:)")
    try expect(try await store.policy(nameKey: "viewers") == viewers, "policy(nameKey:)")
    try await expectError(.policyNameTaken, "a second policy named VIEWERS") {
      try await store.commit(ChangeSet(policies: [.put(f.policy("VIEWERS"))]))
    }
    var renamed = viewers
    renamed.name = "Readers"
    renamed.version = 2
    try await store.commit(ChangeSet(policies: [.put(renamed)]))
    try expect(try await store.policy(nameKey: "viewers") == nil, "the old name is free")
    try expect(try await store.policy(nameKey: "readers") == renamed, "the new name is indexed")
    try await store.commit(ChangeSet(policies: [.put(f.policy("Viewers"))]))
    try await expectError(.versionConflict, "deleting with a stale version") {
      try await store.commit(ChangeSet(policies: [.delete(renamed.id, version: 1)]))
    }
    try await store.commit(ChangeSet(policies: [.delete(renamed.id, version: 2)]))
    try expect(try await store.policy(id: renamed.id) == nil, "the policy is gone")
    let names = try await store.policies().map(\.name)
    try expect(names == ["Viewers"], "policies() lists what remains, got \(names)")
    let many = ["b", "C", "a"].map { f.policy($0) }
    try await store.commit(ChangeSet(policies: many.map { .put($0) }))
    let ordered = try await store.policies().map(\.name)
    try expect(ordered == ["a", "b", "C", "Viewers"], "policies() is ordered by name key")
  }

  private func policyReferentialIntegrity(_ store: any DirectoryStore, _ f: Fixtures)
    async throws
  {
    let admin = f.record("admin@example.com", role: .admin)
    let policy = f.policy("Editors")
    try await store.commit(ChangeSet(users: [admin], policies: [.put(policy)]))
    try await expectError(.policyNotFound, "a user holding a policy that does not exist") {
      try await store.commit(
        ChangeSet(users: [f.record("x@example.com", policies: [PolicyID(rawValue: f.id())])]))
    }
    let holders = (1...3).map { f.record("user\($0)@example.com", policies: [policy.id]) }
    try await store.commit(ChangeSet(users: holders))
    do {
      try await store.commit(ChangeSet(policies: [.delete(policy.id, version: 1)]))
      throw ConformanceFailure("deleting a held policy must fail")
    } catch let error as UserManagementError where error.code == .policyInUse {
      try expect(error.context["holders"] == "3", "policyInUse reports 3 holders")
    }
    try expect(
      try await store.userCount(matching: UserFilter(policy: policy.id)) == 3,
      "count by policy")
    // Releasing every holder and deleting in one change set is allowed.
    let released = holders.map { holder in
      var copy = holder
      copy.user.policies = []
      copy.user.version = 2
      return copy
    }
    try await store.commit(
      ChangeSet(users: released, policies: [.delete(policy.id, version: 1)]))
    try expect(try await store.policy(id: policy.id) == nil, "deleted after release")
  }

  private func auditTrail(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let admin = f.record("admin@example.com", role: .admin)
    let other = f.record("other@example.com")
    let first = f.event(admin, actor: .system("bootstrap"), at: f.now)
    let second = f.event(other, actor: .user(admin.id), at: f.now.addingTimeInterval(10))
    let third = f.event(admin, actor: .user(admin.id), at: f.now.addingTimeInterval(20))
    try await store.commit(ChangeSet(users: [admin], auditEvents: [first]))
    try await store.commit(ChangeSet(users: [other], auditEvents: [second]))
    try await store.commit(ChangeSet(auditEvents: [third]))
    try expect(
      try await store.auditEvents(matching: AuditQuery()) == [third, second, first],
      "newest first by default")
    try expect(
      try await store.auditEvents(matching: AuditQuery(newestFirst: false)) == [
        first, second, third,
      ], "oldest first")
    try expect(
      try await store.auditEvents(matching: AuditQuery(targetUser: admin.id)) == [third, first],
      "by target")
    try expect(
      try await store.auditEvents(matching: AuditQuery(actor: .user(admin.id))) == [
        third, second,
      ], "by actor")
    try expect(
      try await store.auditEvents(
        matching: AuditQuery(
          since: f.now.addingTimeInterval(5), until: f.now.addingTimeInterval(20))) == [second],
      "by time range [since, until)")
    try expect(
      try await store.auditEvents(matching: AuditQuery(limit: 1)) == [third], "limit")
  }

  private func auditSubscription(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let stream = store.subscribeToAuditEvents()
    let admin = f.record("admin@example.com", role: .admin)
    let events = (0..<3).map { f.event(admin, at: f.now.addingTimeInterval(Double($0))) }
    try await store.commit(ChangeSet(users: [admin], auditEvents: [events[0]]))
    try await store.commit(ChangeSet(auditEvents: [events[1], events[2]]))
    var received: [AuditEvent] = []
    for await event in stream {
      received.append(event)
      if received.count == 3 { break }
    }
    try expect(received == events, "the subscriber receives the events in commit order")
  }

  private func throttleCounters(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let admin = f.record("admin@example.com", role: .admin)
    try await store.commit(ChangeSet(users: [admin]))
    let failure = ThrottleUpdate(
      user: admin.id, kind: .password, operation: .recordFailure(at: f.now))
    await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<20 {
        group.addTask { try await store.commit(ChangeSet(throttleUpdates: [failure])) }
      }
    }
    let state = try await store.loginThrottle(for: admin.id, kind: .password)
    try expect(state.consecutiveFailures == 20, "20 concurrent failures all counted")
    try expect(state.lastFailure == f.now, "the last failure time is kept")
    try expect(
      try await store.loginThrottle(for: admin.id, kind: .apiPassword) == .clear,
      "kinds are counted separately")
    try await expectError(.versionConflict, "a throttle precondition on a stale count") {
      try await store.commit(
        ChangeSet(
          preconditions: [.throttleFailures(admin.id, .password, 19)], throttleUpdates: [failure]))
    }
    try await store.commit(
      ChangeSet(
        preconditions: [.throttleFailures(admin.id, .password, 20)], throttleUpdates: [failure]))
    try expect(
      try await store.loginThrottle(for: admin.id, kind: .password).consecutiveFailures == 21,
      "a throttle precondition on the current count applies")
    try await expectError(.versionConflict, "a throttle precondition on a never-failed credential")
    {
      try await store.commit(
        ChangeSet(preconditions: [.throttleFailures(admin.id, .apiPassword, 1)]))
    }
    try await store.commit(
      ChangeSet(throttleUpdates: [
        ThrottleUpdate(
          user: admin.id, kind: .password, operation: .withdrawFailure(at: f.now, restoring: nil))
      ]))
    let withdrawn = try await store.loginThrottle(for: admin.id, kind: .password)
    try expect(
      withdrawn.consecutiveFailures == 20 && withdrawn.lastFailure == nil,
      "a withdrawal takes back one failure and restores the time it replaced")
    try await store.commit(
      ChangeSet(throttleUpdates: [
        ThrottleUpdate(user: admin.id, kind: .password, operation: .reset)
      ]))
    try expect(
      try await store.loginThrottle(for: admin.id, kind: .password) == .clear, "reset clears")
  }

  private func listingsMatchReference(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let policyA = f.policy("A")
    let policyB = f.policy("B")
    try await store.commit(ChangeSet(policies: [.put(policyA), .put(policyB)]))
    // U+037E and U+1FEF are canonically equivalent to ";" and "`": Swift finds those in them,
    // a byte comparison does not.
    let firstNames = [
      "Ada", "Grace", "Alan", "Édith", "barbara", "Ada", "Zoë", "linus", "Semi\u{37E}colon",
      "Grave\u{1FEF}",
    ]
    let lastNames = ["Lovelace", "Hopper", "Turing", "Piaf", "Liskov", "Smith", "Smythe", "Ng"]
    var all: [UserRecord] = []
    for index in 0..<57 {
      let username = index % 5 == 0 ? "User\(index)@Example.com" : "user\(index)@example.org"
      let policies: Set<PolicyID> =
        index % 3 == 0 ? [policyA.id] : index % 3 == 1 ? [policyA.id, policyB.id] : []
      var record = f.record(
        username, role: index % 4 == 0 ? .admin : .generalUser,
        status: index % 7 == 3 ? .inactive : .active,
        policies: index % 4 == 0 ? [] : policies,
        createdAt: f.now.addingTimeInterval(Double((index * 37) % 57)))
      record.user.firstName = firstNames[index % firstNames.count]
      record.user.lastName = lastNames[(index / 2) % lastNames.count]
      record.user.apiAccessEnabled = index % 2 == 0
      all.append(record)
    }
    try await store.commit(ChangeSet(users: all))
    let users = all.map(\.user)
    let filters: [UserFilter] = [
      UserFilter(), UserFilter(status: .active), UserFilter(status: .inactive),
      UserFilter(role: .admin), UserFilter(policy: policyB.id), UserFilter(apiAccess: true),
      UserFilter(search: "SM"), UserFilter(search: "  ada "), UserFilter(search: "example.COM"),
      UserFilter(search: "édith"), UserFilter(search: "nobody-matches"),
      UserFilter(status: .active, role: .generalUser, policy: policyA.id, search: "a"),
      UserFilter(search: ";"), UserFilter(search: "`"), UserFilter(search: "i;c"),
      UserFilter(search: "a\u{0}b"), UserFilter(search: "\u{0}"),
    ]
    for filter in filters {
      let expectedCount = users.filter(filter.matches).count
      let count = try await store.userCount(matching: filter)
      try expect(count == expectedCount, "count of \(filter): \(count) ≠ \(expectedCount)")
      for field in UserSort.Field.allCases {
        for descending in [false, true] {
          let sort = UserSort(field, descending: descending)
          let expected = users.filter(filter.matches).sorted {
            sort.orders(sort.position(of: $0), before: sort.position(of: $1))
          }.map(\.id)
          var got: [UserID] = []
          var query = UserQuery(filter: filter, sort: sort, limit: 7)
          var pages = 0
          while true {
            let page = try await store.users(matching: query)
            pages += 1
            got += page.users.map(\.id)
            try expect(page.users.count <= 7, "a page holds at most the limit")
            guard let next = page.nextCursor else { break }
            try expect(page.users.count == 7, "a page before the last is full")
            query.after = next
            if pages > 20 { throw ConformanceFailure("pagination does not end") }
          }
          try expect(
            got == expected,
            "listing \(filter) by \(field.rawValue)\(descending ? " desc" : "") differs "
              + "from the reference")
        }
      }
    }
  }

  private func listingsAtScale(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let count = 1_237
    // A fixed permutation, so inserts land all over the username order.
    let order = (0..<count).map { ($0 * 611) % count }
    var records: [UserRecord] = []
    for (position, number) in order.enumerated() {
      var record = f.record(
        "member\(number)@example.com", role: number == 0 ? .admin : .generalUser,
        status: number % 5 == 1 ? .inactive : .active)
      record.user.lastName = ["Smith", "Jones", "Brown", "Nguyen"][number % 4] + "\(position % 7)"
      records.append(record)
    }
    for batch in stride(from: 0, to: count, by: 100) {
      try await store.commit(ChangeSet(users: Array(records[batch..<min(batch + 100, count)])))
    }
    let users = records.map(\.user)
    let cases: [(UserFilter, UserSort)] = [
      (UserFilter(), UserSort()), (UserFilter(), UserSort(descending: true)),
      (UserFilter(status: .active), UserSort()), (UserFilter(search: "r12"), UserSort()),
      (UserFilter(status: .inactive), UserSort(.lastName)),
      (UserFilter(search: "SMITH"), UserSort(descending: true)),
    ]
    for (filter, sort) in cases {
      let expected = users.filter(filter.matches).sorted {
        sort.orders(sort.position(of: $0), before: sort.position(of: $1))
      }.map(\.id)
      var got: [UserID] = []
      var query = UserQuery(filter: filter, sort: sort, limit: 97)
      while true {
        let page = try await store.users(matching: query)
        got += page.users.map(\.id)
        guard let next = page.nextCursor, got.count <= count else { break }
        query.after = next
      }
      try expect(got == expected, "a listing of \(count) users by \(sort) with \(filter) differs")
    }
    try expect(
      try await store.userCount(matching: UserFilter(status: .inactive))
        == users.filter { $0.status == .inactive }.count, "count at scale")
  }

  private func auditEventsRoundTrip(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let admin = f.record("admin@example.com", role: .admin)
    let custom = AuditEvent(
      id: f.id(), time: Date(timeIntervalSince1970: 1_767_225_600.123_456),
      actor: .system("host job ✓"), target: .policy(PolicyID(rawValue: f.id()), name: "Ünïcode"),
      action: AuditAction(rawValue: "host.custom_action"),
      changes: [
        FieldChange(field: "hostField", oldValue: nil, newValue: "new"),
        FieldChange(field: "firstName", oldValue: "", newValue: nil),
        .secret("hostSecret"), .secret("password"),
      ])
    let known = AuditEvent(
      id: f.id(), time: f.now, actor: .user(admin.id),
      target: .user(admin.id, username: "admin@example.com"), action: .userActivated,
      changes: [FieldChange(field: "status", oldValue: "inactive", newValue: "active")])
    try await store.commit(ChangeSet(users: [admin], auditEvents: [custom, known]))
    let read = try await store.auditEvents(matching: AuditQuery(newestFirst: false))
    try expect(read == [custom, known], "audit events read back exactly as committed")
  }

  private func concurrentInserts(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    try await store.commit(ChangeSet(users: [f.record("admin@example.com", role: .admin)]))
    let wins = await withTaskGroup(of: Bool.self) { group in
      for index in 0..<16 {
        let record = f.record(index % 2 == 0 ? "same@example.com" : "SAME@example.com")
        group.addTask {
          do {
            try await store.commit(ChangeSet(users: [record]))
            return true
          } catch {
            return false
          }
        }
      }
      var wins = 0
      for await won in group where won { wins += 1 }
      return wins
    }
    try expect(wins == 1, "exactly one concurrent insert of a username succeeds, not \(wins)")
    try expect(try await store.userCount(matching: UserFilter()) == 2, "two users in all")
  }

  private func concurrentUpdates(_ store: any DirectoryStore, _ f: Fixtures) async throws {
    let admin = f.record("admin@example.com", role: .admin)
    try await store.commit(ChangeSet(users: [admin]))
    let tasks = 12
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0..<tasks {
        group.addTask {
          while true {
            guard var record = try await store.user(id: admin.id) else {
              throw ConformanceFailure("the user vanished")
            }
            record.user.lastName += "\(index % 10)"
            record.user.version += 1
            do {
              try await store.commit(ChangeSet(users: [record]))
              return
            } catch let error as UserManagementError where error.code == .versionConflict {
              await Task.yield()
            }
          }
        }
      }
      try await group.waitForAll()
    }
    let final = try await store.user(id: admin.id)
    try expect(final?.user.version == UInt64(1 + tasks), "every update applied exactly once")
    try expect(
      final?.user.lastName.count == admin.user.lastName.count + tasks, "no update was lost")
  }
}

// MARK: - Helpers

extension DirectoryStoreConformance {
  private func accountSecurityRoundTrips(_ store: any DirectoryStore, _ f: Fixtures)
    async throws
  {
    var admin = f.record("admin@example.com", role: .admin, emailVerified: true)
    let key = APIKey(
      id: APIKeyID(rawValue: f.id()), userID: admin.id, name: "CI deploy",
      scopes: [
        APIKeyScope(resourceType: "dashboard", actions: [.view, "export"]), .everything,
      ], createdAt: f.now, createdBy: .user(admin.id),
      expiresAt: f.now.addingTimeInterval(86_400), lastUsedAt: f.now.addingTimeInterval(60))
    admin.security = AccountSecurity(
      secondFactor: SecondFactorState(
        secret: SealedSecret(encoded: "$umk-plain$AAECAwQFBgcICQoLDA0ODxAREhM"),
        parameters: OneTimeCodeParameters(algorithm: .sha256, digits: 8, period: 60),
        isConfirmed: true, lastUsedStep: 29_512_093, createdAt: f.now),
      recoveryCodes: [PasswordHash(encoded: "$token$one"), PasswordHash(encoded: "$token$two")],
      tokens: [
        StoredToken(
          purpose: .passwordReset, hash: PasswordHash(encoded: "$token$reset"),
          securityStamp: SecurityStamp(rawValue: "stamp"),
          expiresAt: f.now.addingTimeInterval(1800)),
        StoredToken(
          purpose: .signInChallenge, hash: PasswordHash(encoded: "$token$challenge"),
          securityStamp: SecurityStamp(rawValue: "stamp"), expiresAt: f.now),
      ],
      apiKeys: [
        StoredAPIKey(key: key, hash: PasswordHash(encoded: "$token$key")),
        StoredAPIKey(
          key: APIKey(
            id: APIKeyID(rawValue: f.id()), userID: admin.id, name: "old", scopes: [.everything],
            createdAt: f.now, createdBy: .system("conformance"), revokedAt: f.now),
          hash: PasswordHash(encoded: "$token$old")),
      ])
    try await store.commit(ChangeSet(users: [admin]))
    let read = try await store.user(id: admin.id)
    try expect(read == admin, "the account-security state reads back exactly")
    try expect(read?.user.hasSecondFactor == true, "the user says it has a second factor")
    try expect(read?.user.emailVerified == true, "the e-mail-verified flag is kept")
    try expect(
      try await store.profile(id: admin.id) == admin.user, "profile(id:) agrees with the record")
    var next = admin
    next.user.version = 2
    next.security.secondFactor?.lastUsedStep = 29_512_094
    next.security.recoveryCodes.removeFirst()
    next.security.tokens = []
    try await store.commit(
      ChangeSet(preconditions: [.userVersion(admin.id, 1)], users: [next]))
    try expect(try await store.user(id: admin.id) == next, "an update of the state applies")
    var cleared = next
    cleared.user.version = 3
    cleared.security = .none
    try await store.commit(ChangeSet(users: [cleared]))
    let last = try await store.user(id: admin.id)
    try expect(last == cleared && last?.security.isEmpty == true, "clearing the state applies")
    try expect(last?.user.hasSecondFactor == false, "without a factor, the user says so")
  }

  private func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw ConformanceFailure(message()) }
  }

  private func expectError(
    _ code: UserManagementError.Code, _ what: String, _ body: () async throws -> Void
  ) async throws {
    do {
      try await body()
    } catch let error as UserManagementError {
      if error.code != code {
        throw ConformanceFailure("\(what): expected \(code), got \(error.code)")
      }
      return
    }
    throw ConformanceFailure("\(what): expected \(code), but it succeeded")
  }

  /// Builds records, policies and events for the checks.
  final class Fixtures: Sendable {
    let ids = SequentialIdentifiers()
    let now = Date(timeIntervalSince1970: 1_767_225_600)

    func id() -> UUID { ids.next() }

    func record(
      _ username: String, role: Role = .generalUser, status: UserStatus = .active,
      policies: Set<PolicyID> = [], id: UserID? = nil, version: UInt64 = 1,
      createdAt: Date? = nil, emailVerified: Bool = false
    ) -> UserRecord {
      // The fixtures only use valid addresses; fall back to a placeholder rather than trap.
      let name = (try? Username(username)) ?? (try? Username("invalid@example.com"))
      guard let name else { preconditionFailure("fixture usernames are valid") }
      let user = User(
        id: id ?? UserID(rawValue: self.id()), username: name, firstName: "First",
        lastName: "Last", status: status, role: role, policies: policies,
        apiAccessEnabled: false, hasAPIPassword: false, hasPassword: true,
        mustChangePassword: false, version: version,
        securityStamp: SecurityStamp(rawValue: "stamp"), createdAt: createdAt ?? now,
        updatedAt: createdAt ?? now, createdBy: .system("conformance"),
        emailVerified: emailVerified)
      return UserRecord(
        user: user, passwordHash: PasswordHash(encoded: "$test$hash"), apiPasswordHash: nil)
    }

    func policy(_ name: String) -> Policy {
      Policy(
        id: PolicyID(rawValue: id()), name: name, description: "",
        permissions: [Permission(resourceType: "doc", allowed: [.view], resourceIds: [.any])],
        version: 1, createdAt: now, updatedAt: now)
    }

    func event(
      _ record: UserRecord, actor: Principal = .system("conformance"), at time: Date? = nil
    )
      -> AuditEvent
    {
      AuditEvent(
        id: id(), time: time ?? now, actor: actor,
        target: .user(record.id, username: record.user.username.rawValue),
        action: .userUpdated, changes: [])
    }
  }
}
