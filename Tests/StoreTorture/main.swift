// A child process for the store's multi-process and crash tests (CrashLoopTests,
// MultiProcessTests). It is not part of the library: the tests run it, kill it and read what
// it printed.
//
//   UMKStoreTorture commit-loop DIR SEED [CHILD CHILDREN]
//       Commits change sets straight to a FileDirectoryStore in DIR from several tasks, until
//       killed. Before each commit it prints `try <n> <what>`, after it `ack <n>` (the commit
//       returned) or `nak <n> <code>` (the store refused it). Lines are written with write(2),
//       so a line printed is in the output file even if the process is killed right after.
//       With CHILDREN > 1, this is writer CHILD of several on the same store: each takes its
//       share of the existing users and policies.
//   UMKStoreTorture race-deactivate DIR ACTOR TARGET   (ACTOR: a user id, or `system`)
//   UMKStoreTorture race-bootstrap DIR USERNAME      (opens the store after the start signal)
//   UMKStoreTorture race-add DIR ACTOR USERNAME
//   UMKStoreTorture race-delete-policy DIR ACTOR POLICY
//   UMKStoreTorture race-assign-policy DIR ACTOR USER POLICY
//       Open the store, print `ready`, wait for a line on standard input, run one operation
//       through UserDirectory and print `ok` or `refused <code>`. With UMK_TORTURE_GATE=1 the
//       operation's first commit prints `committing` and waits for another line, so the test
//       can let several processes read and check before any of them commits.
//   UMKStoreTorture add-loop DIR ACTOR PREFIX COUNT SHARED
//       Like the races, then COUNT times: add user PREFIX-i@example.com (`add ok|refused`)
//       and rename user SHARED (`rename ok|refused`); finally `done`.
//   UMKStoreTorture die-after-log-sync DIR ACTOR add USERNAME
//   UMKStoreTorture die-after-log-sync DIR ACTOR deactivate USER
//       Like the races, but the process kills itself with SIGKILL right after its commit's
//       log write is synced, before it returns (and before it tells other processes).
//   UMKStoreTorture random-ops DIR SEED COUNT
//       Like the races, then COUNT random operations as a system principal (add, activate or
//       deactivate, change role or policies, rename; create or delete policies), printing
//       `op <name> ok` or `op <name> refused <code>` for each; finally `done`.
//   UMKStoreTorture wrong-passwords DIR USERNAME COUNT
//       Like the races, then COUNT sign-ins with a wrong password (`signin refused <code>`),
//       under a throttle that neither delays nor locks before 100 failures; finally `done`.
//   UMKStoreTorture watch DIR
//       Opens the store once, prints `ready`, then for each username read from standard input
//       looks it up once and prints `found <name>` or `missing <name>`.
//
// Every mode prints `fatal <message>` and exits with status 2 on an unexpected error.

import Synchronization
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Output and input

/// Writes one line to standard output with write(2): no buffering in this process. A lock
/// keeps lines written by several tasks from interleaving.
func emit(_ line: String) {
  let bytes = Array((line + "\n").utf8)
  Shared.lock.withLock { _ in
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { raw -> Int in
        guard let base = raw.baseAddress else { return -1 }
        return write(1, base + offset, raw.count - offset)
      }
      if written < 0 {
        if errno == EINTR { continue }
        exit(3)
      }
      offset += written
    }
  }
}

/// State shared by every task of the process.
enum Shared {
  static let lock = Mutex(())
  /// The password every user made by these modes gets.
  static let password = Secret("a perfectly fine passphrase")
}

/// Prints `fatal <message>` and exits.
func fail(_ message: String) -> Never {
  emit("fatal \(message)")
  exit(2)
}

/// Reads one line from standard input, or `nil` at its end.
func readInputLine() -> String? {
  var bytes: [UInt8] = []
  var byte: UInt8 = 0
  while true {
    let count = read(0, &byte, 1)
    if count < 0 && errno == EINTR { continue }
    if count <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
    if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
    bytes.append(byte)
  }
}

/// Blocks until the parent sends the start signal (a line, or closes standard input).
func waitForStart() {
  _ = readInputLine()
}

/// The error code of an error thrown by the library, or a description of another error.
func code(of error: any Error) -> String {
  (error as? UserManagementError)?.code.rawValue ?? "foreign:\(type(of: error))"
}

// MARK: - Modes

/// The command line and the modes it selects.
struct Command {
  let mode: String
  let directory: String
  let arguments: [String]

  init(_ arguments: [String]) {
    guard arguments.count >= 2 else { fail("usage: UMKStoreTorture MODE DIR [ARGUMENTS...]") }
    mode = arguments[0]
    directory = arguments[1]
    self.arguments = arguments
  }

  func argument(_ index: Int) -> String {
    guard index < arguments.count else { fail("missing argument \(index) for \(mode)") }
    return arguments[index]
  }

  func uuid(_ index: Int) -> UUID {
    guard let uuid = UUID(uuidString: argument(index)) else {
      fail("not a UUID: \(argument(index))")
    }
    return uuid
  }

  func user(_ index: Int) -> UserID { UserID(rawValue: uuid(index)) }

  /// The principal named by an argument: `system` for a system principal, else a user id.
  func principal(_ index: Int) -> Principal {
    argument(index) == "system" ? .system("race") : .user(user(index))
  }
  func policy(_ index: Int) -> PolicyID { PolicyID(rawValue: uuid(index)) }

  /// A directory over the store with a cheap hasher. With `UMK_TORTURE_GATE=1` the
  /// directory's first commit waits for a second start signal (see ``GatedStore``).
  func openDirectory(throttle: LoginThrottlePolicy = LoginThrottlePolicy()) -> (
    FileDirectoryStore, UserDirectory
  ) {
    let store: FileDirectoryStore
    do {
      store = try FileDirectoryStore(directory: directory)
    } catch {
      fail("open: \(error)")
    }
    let gated = getenv("UMK_TORTURE_GATE").map { String(cString: $0) } == "1"
    let userDirectory = UserDirectory(
      store: gated ? GatedStore(store) : store,
      configuration: .init(
        passwordHasher: InsecureFastPasswordHasher(), loginThrottle: throttle,
        requirePasswordChangeAfterAdminReset: false))
    return (store, userDirectory)
  }

  /// Opens the directory, prints `ready` and waits for the start signal.
  func openAndWait() -> UserDirectory {
    let (_, userDirectory) = openDirectory()
    emit("ready")
    waitForStart()
    return userDirectory
  }

  /// Runs one directory operation and prints its outcome.
  func report(_ prefix: String = "", _ body: () async throws(UserManagementError) -> Void) async {
    do {
      try await body()
      emit(prefix + "ok")
    } catch {
      emit(prefix + "refused \(error.code.rawValue)")
    }
  }

  func newUser(_ username: String) -> NewUser {
    NewUser(
      username: username, firstName: "Child", lastName: "Process", password: .typed(Shared.password)
    )
  }

  func run() async {
    switch mode {
    case "commit-loop":
      guard let seed = UInt64(argument(2)) else { fail("not a seed: \(argument(2))") }
      let (child, children) =
        arguments.count >= 5 ? (Int(argument(3)) ?? 0, Int(argument(4)) ?? 1) : (0, 1)
      await CommitLoop(directory: directory, seed: seed, child: child, children: children).run()

    case "race-deactivate":
      let (actor, target) = (principal(2), user(3))
      let userDirectory = openAndWait()
      await report { () throws(UserManagementError) in
        try await userDirectory.setStatus(.inactive, of: target, by: actor)
      }

    case "race-bootstrap":
      // Opens the store only after the start signal, so that several processes create the
      // directory and its first generation at once.
      let username = argument(2)
      emit("ready")
      waitForStart()
      let (_, userDirectory) = openDirectory()
      await report { () throws(UserManagementError) in
        try await userDirectory.bootstrap(newUser(username))
      }

    case "race-add":
      let (actor, username) = (user(2), argument(3))
      let userDirectory = openAndWait()
      await report { () throws(UserManagementError) in
        try await userDirectory.addUser(newUser(username), by: .user(actor))
      }

    case "race-delete-policy":
      let (actor, target) = (user(2), policy(3))
      let userDirectory = openAndWait()
      await report { () throws(UserManagementError) in
        try await userDirectory.deletePolicy(target, by: .user(actor))
      }

    case "race-assign-policy":
      let (actor, target, assigned) = (user(2), user(3), policy(4))
      let userDirectory = openAndWait()
      await report { () throws(UserManagementError) in
        try await userDirectory.setPolicies([assigned], of: target, by: .user(actor))
      }

    case "add-loop":
      let (actor, prefix, shared) = (user(2), argument(3), user(5))
      guard let count = Int(argument(4)) else { fail("not a count: \(argument(4))") }
      let userDirectory = openAndWait()
      for index in 0..<count {
        await report("add ") { () throws(UserManagementError) in
          try await userDirectory.addUser(
            newUser("\(prefix)-\(index)@example.com"), by: .user(actor))
        }
        await report("rename ") { () throws(UserManagementError) in
          try await userDirectory.updateProfile(
            of: shared, lastName: "\(prefix) \(index)", by: .user(actor))
        }
      }
      emit("done")

    case "die-after-log-sync":
      // Simulates a process killed at the worst moment for the others: its commit is
      // durable in the log, but it did not live to tell them (the shared counter).
      let (actor, operation) = (principal(2), argument(3))
      let store: FileDirectoryStore
      do {
        store = try FileDirectoryStore(
          directory: directory, options: .init(), fileSystem: DyingFileSystem())
      } catch {
        fail("open: \(error)")
      }
      let userDirectory = UserDirectory(
        store: store,
        configuration: .init(
          passwordHasher: InsecureFastPasswordHasher(),
          requirePasswordChangeAfterAdminReset: false))
      emit("ready")
      waitForStart()
      DyingFileSystem.armed.store(true, ordering: .sequentiallyConsistent)
      switch operation {
      case "add":
        let username = argument(4)
        await report { () throws(UserManagementError) in
          try await userDirectory.addUser(newUser(username), by: actor)
        }
      case "deactivate":
        let target = user(4)
        await report { () throws(UserManagementError) in
          try await userDirectory.setStatus(.inactive, of: target, by: actor)
        }
      default:
        fail("unknown operation \(operation)")
      }

    case "random-ops":
      guard let seed = UInt64(argument(2)), let count = Int(argument(3)) else {
        fail("usage: random-ops DIR SEED COUNT")
      }
      let (store, userDirectory) = openDirectory()
      emit("ready")
      waitForStart()
      var random = SeededRandomNumberGenerator(seed: seed)
      for index in 0..<count {
        await randomOperation(
          index, seed: seed, store: store, directory: userDirectory, random: &random)
      }
      emit("done")

    case "wrong-passwords":
      let username = argument(2)
      guard let count = Int(argument(3)) else { fail("not a count: \(argument(3))") }
      // No delays before the lockout at 100 failures: every attempt is judged and counted.
      let (_, userDirectory) = openDirectory(
        throttle: LoginThrottlePolicy(freeAttempts: 100, lockoutThreshold: 100))
      emit("ready")
      waitForStart()
      for _ in 0..<count {
        await report("signin ") { () throws(UserManagementError) in
          _ = try await userDirectory.authenticate(
            username: username, password: Secret("not the password"))
        }
      }
      emit("done")

    case "watch":
      let (store, _) = openDirectory()
      emit("ready")
      while let username = readInputLine() {
        do {
          let found = try await store.profile(usernameKey: Username.canonicalize(username)) != nil
          emit("\(found ? "found" : "missing") \(username)")
        } catch {
          fail("read: \(error)")
        }
      }

    default:
      fail("unknown mode \(mode)")
    }
  }
}

/// One random operation through the directory, against what the store holds now.
func randomOperation(
  _ index: Int, seed: UInt64, store: FileDirectoryStore, directory: UserDirectory,
  random: inout SeededRandomNumberGenerator
) async {
  let actor = Principal.system("random-ops")
  let users: [User]
  let policies: [Policy]
  do {
    users = try await store.users(matching: UserQuery(limit: UserQuery.maximumLimit)).users
    policies = try await store.policies()
  } catch {
    fail("read: \(error)")
  }
  func somePolicies(_ random: inout SeededRandomNumberGenerator) -> Set<PolicyID> {
    Set(
      (0..<Int.random(in: 0...2, using: &random)).compactMap { _ in
        policies.randomElement(using: &random)?.id
      })
  }
  let user = users.randomElement(using: &random)
  let policy = policies.randomElement(using: &random)
  let roll = Int.random(in: 0..<8, using: &random)
  let name: String
  var operation: () async throws(UserManagementError) -> Void
  switch roll {
  case 0:
    name = "add"
    let admin = Int.random(in: 0..<5, using: &random) == 0
    let request = NewUser(
      username: "r\(seed)-\(index)@example.com", firstName: "Random", lastName: "Ops",
      password: .typed(Shared.password), role: admin ? .admin : .generalUser,
      policies: admin ? [] : somePolicies(&random))
    operation = { () throws(UserManagementError) in
      try await directory.addUser(request, by: actor)
    }
  case 1, 2:
    name = "status"
    let status: UserStatus = Bool.random(using: &random) ? .active : .inactive
    operation = { () throws(UserManagementError) in
      guard let user else { return }
      try await directory.setStatus(status, of: user.id, by: actor)
    }
  case 3:
    name = "role"
    let role: Role = Bool.random(using: &random) ? .admin : .generalUser
    operation = { () throws(UserManagementError) in
      guard let user else { return }
      try await directory.setRole(role, of: user.id, by: actor)
    }
  case 4:
    name = "policies"
    let chosen = somePolicies(&random)
    operation = { () throws(UserManagementError) in
      guard let user else { return }
      try await directory.setPolicies(chosen, of: user.id, by: actor)
    }
  case 5:
    name = "rename"
    let lastName = "Renamed \(index)"
    operation = { () throws(UserManagementError) in
      guard let user else { return }
      try await directory.updateProfile(of: user.id, lastName: lastName, by: actor)
    }
  case 6:
    name = "create-policy"
    let document = PolicyDocument(
      name: "policy-\(seed)-\(index)",
      permissions: [Permission(resourceType: "doc", allowed: ["read"], resourceIds: [.any])])
    operation = { () throws(UserManagementError) in
      try await directory.createPolicy(document, by: actor)
    }
  default:
    name = "delete-policy"
    operation = { () throws(UserManagementError) in
      guard let policy else { return }
      try await directory.deletePolicy(policy.id, by: actor)
    }
  }
  do {
    try await operation()
    emit("op \(name) ok")
  } catch {
    emit("op \(name) refused \(error.code.rawValue)")
  }
}

await Command(Array(CommandLine.arguments.dropFirst())).run()

// MARK: - The gate

/// Forwards to a store, but holds the first commit until the parent says go: every racing
/// process has then read the state and passed the directory's checks, so only the store's
/// check at commit (against the other processes' commits) can refuse the losers.
final class GatedStore: ForwardingDirectoryStore {
  let base: any DirectoryStore
  private let closed = Mutex(true)

  init(_ base: FileDirectoryStore) {
    self.base = base
  }

  func commit(_ changes: ChangeSet) async throws {
    let wait = closed.withLock { closed in
      defer { closed = false }
      return closed
    }
    if wait {
      emit("committing")
      waitForStart()
    }
    try await base.commit(changes)
  }
}

// MARK: - The commit loop

/// Commits from several tasks at once until killed. Each task owns some users and policies
/// and knows their versions exactly, so its commits succeed unless a rule refuses them (the
/// last active administrator, a policy in use); refusals are printed and are part of the test.
final class CommitLoop: Sendable {
  let directory: String
  let seed: UInt64
  /// Tasks committing concurrently, so group commit carries several change sets at once.
  static let tasks = 4
  /// Users are never deleted; inserting stops here so the snapshot stays small and
  /// compactions stay frequent.
  static let maximumUsers = 48
  static let maximumPoliciesPerTask = 4

  /// Numbers the commits of this process.
  private let counter = Atomic<Int>(0)
  private let userCount = Atomic<Int>(0)

  /// This process's index among the processes committing to the store at once.
  let child: Int
  let children: Int

  init(directory: String, seed: UInt64, child: Int, children: Int) {
    self.directory = directory
    self.seed = seed
    self.child = child
    self.children = max(1, children)
  }

  /// Every user and policy in the store.
  func readAll(_ store: FileDirectoryStore) async -> ([User], [Policy]) {
    var users: [User] = []
    do {
      var cursor: UserCursor?
      repeat {
        let page = try await store.users(
          matching: UserQuery(limit: UserQuery.maximumLimit, after: cursor))
        users += page.users
        cursor = page.nextCursor
      } while cursor != nil
      return (users, try await store.policies())
    } catch {
      fail("read: \(error)")
    }
  }

  func run() async {
    let store: FileDirectoryStore
    do {
      store = try FileDirectoryStore(
        directory: directory, options: .init(minimumCompactionLogSize: 4096))
    } catch {
      fail("open: \(error)")
    }
    var (users, policies) = await readAll(store)
    var random = SeededRandomNumberGenerator(seed: seed)
    if users.isEmpty {
      let admin = makeUser(
        "s\(seed)-bootstrap@example.com", role: .admin, policies: [], random: &random)
      let outcome = await commit(
        store, ChangeSet(preconditions: [.directoryIsEmpty], users: [admin.record]),
        describing: admin.description, random: &random)
      if outcome {
        users = [admin.record.user]
      } else {
        // Another writer bootstrapped first.
        (users, policies) = await readAll(store)
      }
    }
    userCount.store(users.count, ordering: .relaxed)
    emit("ready \(users.count) \(policies.count)")
    users.sort { $0.id.description < $1.id.description }
    policies.sort { $0.id.description < $1.id.description }
    let parent = getppid()
    let watchdog = Task {
      // Never outlive a parent that died without killing this process.
      while getppid() == parent {
        try? await Task.sleep(for: .milliseconds(200))
      }
      exit(4)
    }
    await withTaskGroup(of: Void.self) { group in
      for task in 0..<Self.tasks {
        let share = child * Self.tasks + task
        let owned = users.indices.filter { $0 % (Self.tasks * children) == share }.map {
          users[$0]
        }
        let ownedPolicies = policies.indices.filter { $0 % (Self.tasks * children) == share }
          .map { policies[$0] }
        group.addTask {
          var worker = Worker(
            loop: self, store: store, task: task, users: owned, policies: ownedPolicies,
            random: SeededRandomNumberGenerator(seed: self.seed &* 1_000_003 &+ UInt64(task)))
          await worker.run()
        }
      }
    }
    watchdog.cancel()
  }

  /// A user record to insert, and the `try` line describing it.
  func makeUser(
    _ username: String, role: Role, policies: Set<PolicyID>,
    random: inout SeededRandomNumberGenerator
  ) -> (record: UserRecord, description: String) {
    let now = Date()
    let id = UserID(rawValue: UUID())
    guard let name = try? Username(username) else { fail("bad username \(username)") }
    let firstName = "s\(seed)r\(random.next() % 1_000_000)"
    let user = User(
      id: id, username: name, firstName: firstName, lastName: "Torture", status: .active,
      role: role, policies: policies, apiAccessEnabled: false, hasAPIPassword: false,
      hasPassword: true, mustChangePassword: false, version: 1,
      securityStamp: SecurityStamp(rawValue: "stamp-\(random.next())"), createdAt: now,
      updatedAt: now, createdBy: .system("torture"))
    let record = UserRecord(
      user: user, passwordHash: InsecureFastPasswordHasher().hash(Shared.password),
      apiPasswordHash: nil)
    return (record, describe(user))
  }

  func describe(_ user: User) -> String {
    "user \(user.id) \(user.version) \(user.firstName) \(user.status.rawValue) \(user.role.rawValue)"
  }

  /// Prints `try`, commits, prints `ack` or `nak`; returns whether the commit succeeded. Adds
  /// an audit event unless `audit` is false.
  func commit(
    _ store: FileDirectoryStore, _ changes: ChangeSet, describing what: String,
    audit: Bool = true, random: inout SeededRandomNumberGenerator
  ) async -> Bool {
    var changes = changes
    let number = counter.add(1, ordering: .relaxed).newValue
    var line = "try \(number) \(what)"
    if audit {
      let event = AuditEvent(
        id: UUID(), time: Date(), actor: .system("torture"),
        target: .policy(PolicyID(rawValue: UUID()), name: "torture"),
        action: AuditAction(rawValue: "torture.commit"),
        changes: [FieldChange(field: "n", oldValue: nil, newValue: "\(seed)-\(number)")])
      changes.auditEvents.append(event)
      line += " ev \(event.id.uuidString)"
    } else {
      line += " ev -"
    }
    emit(line)
    do {
      try await store.commit(changes)
      emit("ack \(number)")
      return true
    } catch {
      emit("nak \(number) \(code(of: error))")
      return false
    }
  }

  /// One committing task.
  struct Worker {
    let loop: CommitLoop
    let store: FileDirectoryStore
    let task: Int
    var users: [User]
    var policies: [Policy]
    var random: SeededRandomNumberGenerator
    var inserted = 0

    init(
      loop: CommitLoop, store: FileDirectoryStore, task: Int, users: [User],
      policies: [Policy], random: SeededRandomNumberGenerator
    ) {
      self.loop = loop
      self.store = store
      self.task = task
      self.users = users
      self.policies = policies
      self.random = random
    }

    mutating func run() async {
      while true {
        // Explicit compactions are rare: the small compaction threshold makes the store
        // compact by itself every few dozen commits.
        let roll = Int.random(in: 0..<1000, using: &random)
        switch roll {
        case 0..<200: await insertUser()
        case 200..<550: await updateUser()
        case 550..<700: await putPolicy()
        case 700..<750: await deletePolicy()
        case 750..<900: await recordFailure()
        case 900..<995: await auditOnly()
        default: await compact()
        }
      }
    }

    /// A random subset (at most two) of this task's policies.
    mutating func somePolicies() -> Set<PolicyID> {
      var chosen: Set<PolicyID> = []
      for _ in 0..<Int.random(in: 0...2, using: &random) {
        if let policy = policies.randomElement(using: &random) { chosen.insert(policy.id) }
      }
      return chosen
    }

    mutating func insertUser() async {
      guard loop.userCount.load(ordering: .relaxed) < CommitLoop.maximumUsers else {
        return await updateUser()
      }
      inserted += 1
      let admin = Int.random(in: 0..<10, using: &random) == 0
      let made = loop.makeUser(
        "s\(loop.seed)-t\(task)-\(inserted)@example.com", role: admin ? .admin : .generalUser,
        policies: admin ? [] : somePolicies(), random: &random)
      if await loop.commit(
        store, ChangeSet(users: [made.record]), describing: made.description, random: &random)
      {
        users.append(made.record.user)
        loop.userCount.add(1, ordering: .relaxed)
      }
    }

    mutating func updateUser() async {
      guard let index = users.indices.randomElement(using: &random) else { return }
      var user = users[index]
      user.version += 1
      user.firstName = "s\(loop.seed)r\(random.next() % 1_000_000)"
      user.updatedAt = Date()
      if Int.random(in: 0..<10, using: &random) < 3 {
        user.status = user.status == .active ? .inactive : .active
      }
      if user.role == .generalUser && Int.random(in: 0..<10, using: &random) < 3 {
        user.policies = somePolicies()
      }
      // The stored record keeps its hashes only if they are sent again.
      let record = UserRecord(
        user: user, passwordHash: InsecureFastPasswordHasher().hash(Shared.password),
        apiPasswordHash: nil)
      if await loop.commit(
        store, ChangeSet(users: [record]), describing: loop.describe(user), random: &random)
      {
        users[index] = user
      }
    }

    mutating func putPolicy() async {
      let now = Date()
      if policies.count < CommitLoop.maximumPoliciesPerTask
        || Int.random(in: 0..<4, using: &random) == 0
      {
        let id = PolicyID(rawValue: UUID())
        let policy = Policy(
          id: id, name: "p-\(id)-1", description: "torture",
          permissions: [
            Permission(resourceType: "doc", allowed: ["read"], resourceIds: [.any])
          ],
          version: 1, createdAt: now, updatedAt: now)
        guard policies.count < CommitLoop.maximumPoliciesPerTask * 2 else { return }
        if await loop.commit(
          store, ChangeSet(policies: [.put(policy)]),
          describing: "policy \(id) 1 \(policy.name)", random: &random)
        {
          policies.append(policy)
        }
      } else if let index = policies.indices.randomElement(using: &random) {
        var policy = policies[index]
        policy.version += 1
        policy.name = "p-\(policy.id)-\(policy.version)"
        policy.updatedAt = now
        if await loop.commit(
          store, ChangeSet(policies: [.put(policy)]),
          describing: "policy \(policy.id) \(policy.version) \(policy.name)", random: &random)
        {
          policies[index] = policy
        }
      }
    }

    mutating func deletePolicy() async {
      guard let index = policies.indices.randomElement(using: &random) else { return }
      let policy = policies[index]
      if await loop.commit(
        store, ChangeSet(policies: [.delete(policy.id, version: policy.version)]),
        describing: "policydel \(policy.id) \(policy.version)", random: &random)
      {
        policies.remove(at: index)
      }
    }

    mutating func recordFailure() async {
      guard let user = users.randomElement(using: &random) else { return }
      let kind = CredentialKind.allCases.randomElement(using: &random) ?? .password
      _ = await loop.commit(
        store,
        ChangeSet(
          throttleUpdates: [
            ThrottleUpdate(user: user.id, kind: kind, operation: .recordFailure(at: Date()))
          ]),
        describing: "fail \(user.id) \(kind.rawValue)", audit: false, random: &random)
    }

    mutating func auditOnly() async {
      _ = await loop.commit(store, ChangeSet(), describing: "audit", random: &random)
    }

    mutating func compact() async {
      emit("compact")
      do {
        try await store.compact()
        emit("compacted")
      } catch {
        emit("compact-failed \(error.code.rawValue)")
      }
    }
  }
}

// MARK: - Dying at a chosen instant

/// The real file system, except that once armed, syncing a log file kills the process right
/// after the sync succeeds.
struct DyingFileSystem: StoreFileSystem {
  static let armed = Atomic(false)
  let base = PosixFileSystem()

  func createDirectory(_ path: String) throws(StoreIOError) { try base.createDirectory(path) }
  func contentsOfDirectory(_ path: String) throws(StoreIOError) -> [String] {
    try base.contentsOfDirectory(path)
  }
  func open(_ path: String, create: Bool, truncate: Bool) throws(StoreIOError) -> any StoreFile {
    let file = try base.open(path, create: create, truncate: truncate)
    let name = path.split(separator: "/").last.map(String.init) ?? path
    return name.hasPrefix("log-") && !name.hasSuffix(".tmp") ? DyingFile(file) : file
  }
  func createExclusively(_ path: String) throws(StoreIOError) -> any StoreFile {
    try base.createExclusively(path)
  }
  func rename(_ source: String, to destination: String) throws(StoreIOError) {
    try base.rename(source, to: destination)
  }
  func remove(_ path: String) throws(StoreIOError) { try base.remove(path) }
  func syncDirectory(_ path: String) throws(StoreIOError) { try base.syncDirectory(path) }
  func fileExists(_ path: String) -> Bool { base.fileExists(path) }
  func fileIdentity(_ path: String) -> UInt64? { base.fileIdentity(path) }
}

/// A log file whose sync, once armed, is the last thing the process does.
final class DyingFile: StoreFile {
  let base: any StoreFile

  init(_ base: any StoreFile) {
    self.base = base
  }

  var path: String { base.path }
  func size() throws(StoreIOError) -> Int { try base.size() }
  func status() throws(StoreIOError) -> (size: Int, isLinked: Bool) { try base.status() }
  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StoreIOError)
    -> Int
  { try base.read(into: buffer, at: offset) }
  func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StoreIOError) -> Int {
    try base.write(bytes, at: offset)
  }
  func sync() throws(StoreIOError) {
    try base.sync()
    dieIfArmed()
  }
  func writeDurably(_ bytes: UnsafeRawBufferPointer, at offset: Int, fileSize: Int)
    throws(StoreIOError)
  {
    // The real file's own durable write (direct I/O on Linux), then death.
    try base.writeDurably(bytes, at: offset, fileSize: fileSize)
    dieIfArmed()
  }
  private func dieIfArmed() {
    if DyingFileSystem.armed.load(ordering: .sequentiallyConsistent) {
      emit("dying")
      _ = kill(getpid(), SIGKILL)
    }
  }
  func truncate(to size: Int) throws(StoreIOError) { try base.truncate(to: size) }
  func lock(exclusive: Bool) throws(StoreIOError) { try base.lock(exclusive: exclusive) }
  func unlock() { base.unlock() }
  func sharedCounter() throws(StoreIOError) -> any SharedCounter { try base.sharedCounter() }
  func identity() throws(StoreIOError) -> UInt64 { try base.identity() }
  func close() { base.close() }
}
