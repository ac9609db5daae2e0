#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// One refused item of an import.
public struct UserImportIssue: Hashable, Sendable, CustomStringConvertible {
  /// The item's position in the imported array, from 0.
  public let index: Int
  /// Why it was refused. Never contains the password hash.
  public let error: UserManagementError

  /// Creates an issue.
  ///
  /// - Parameters:
  ///   - index: The item's position, from 0.
  ///   - error: Why it was refused.
  public init(index: Int, error: UserManagementError) {
    self.index = index
    self.error = error
  }

  /// `#<index>: <code>: <message>`.
  public var description: String { "#\(index): \(error)" }
}

/// The outcome of ``UserDirectory/importUsers(_:dryRun:by:)``.
public struct UserImportResult: Sendable {
  /// The users created, in input order — or, for a dry run, the users that would have been
  /// created. Empty when there are ``issues``.
  public let users: [User]
  /// Every refused item, in input order. When there is any, nothing was imported.
  public let issues: [UserImportIssue]
  /// Whether the users were committed: true only for a run that was not a dry run and had
  /// no issues.
  public let committed: Bool
  /// How many items carried a password hash.
  public let passwordHashCount: Int
  /// How many of those hashes are weaker than the directory's own hasher would make (a legacy
  /// format, or lower parameters: its ``PasswordHasher/needsRehash(_:)`` says so). Each is
  /// replaced at its user's next sign-in (``UserDirectory/Configuration/rehashOnSignIn``);
  /// until then it is as exposed at rest as it was in the system it came from, and
  /// ``UserDirectory/passwordHashCensus(by:)`` counts it.
  public let passwordHashesNeedingRehash: Int
}

extension AuditAction {
  /// A user was created by an import (see ``UserDirectory/importUsers(_:dryRun:by:)``).
  public static let userImported = AuditAction(rawValue: "user.imported")
  /// An administrator exported this user's login password hash (see
  /// ``UserDirectory/exportUsers(includingPasswordHashes:by:)``). Nothing about the user
  /// changed; the event records that the hash left the directory.
  public static let passwordHashExported = AuditAction(rawValue: "user.password_hash_exported")
}

extension UserDirectory {
  /// The most users one import may carry.
  public static let maximumImportCount = 1_000_000

  /// Imports users all or nothing: every item is validated, every problem is reported with
  /// the item's index, and the users are committed together in one change set, each with a
  /// `user.imported` audit event — or, if anything is wrong, nothing is.
  ///
  /// Each item is checked as ``addUser(_:by:)`` checks a new user (username, names, role and
  /// policies, which are looked up by name), its username must be free in the directory and
  /// appear only once in the import, and its password hash, if any, must be in a format the
  /// configured hasher verifies, within its cost limits. Hashes are only *parsed*, never
  /// verified, so an import costs no key derivation.
  ///
  /// Imported users keep their password hash as it is (it is replaced by the configured
  /// algorithm at their first sign-in when ``Configuration/rehashOnSignIn`` is on) and are not
  /// asked to change their password. Users imported without a hash have no password: they
  /// cannot sign in until an administrator sets one with ``setPassword(_:of:by:)``. API
  /// passwords are not imported.
  ///
  /// - Parameters:
  ///   - users: The users, in order; issues refer to their indices.
  ///   - dryRun: Whether to only validate, committing nothing.
  ///   - principal: Who imports; an active administrator or a system principal, as for
  ///     ``addUser(_:by:)``.
  /// - Returns: The created users, or the issues that stopped the import.
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/invalidField`` when there are more than
  ///   ``maximumImportCount`` items, or a storage error. Problems with individual items are
  ///   returned in ``UserImportResult/issues``, not thrown.
  public func importUsers(_ users: [PortableUser], dryRun: Bool = false, by principal: Principal)
    async throws(UserManagementError) -> UserImportResult
  {
    guard users.count <= Self.maximumImportCount else {
      throw .invalidField(
        "users", "too_many",
        "An import may carry at most \(Self.maximumImportCount) users; split the file.")
    }
    // A concurrent commit that took a username, removed a policy or changed the actor fails
    // the commit: validate again against the new state, which reports the item concerned.
    return try await commitWithRetry(retryingOn: [
      .versionConflict, .usernameTaken, .policyNotFound,
    ]) { () async throws(UserManagementError) in
      let acting = try await acting(principal, requireAdmin: true)
      let planned = try await planImport(users, by: principal)
      if !planned.issues.isEmpty || dryRun {
        return (
          nil,
          UserImportResult(
            users: planned.issues.isEmpty ? planned.records.map(\.user) : [],
            issues: planned.issues, committed: false,
            passwordHashCount: planned.passwordHashCount,
            passwordHashesNeedingRehash: planned.passwordHashesNeedingRehash)
        )
      }
      let changes = ChangeSet(
        preconditions: acting.preconditions, users: planned.records,
        auditEvents: planned.events)
      return (
        changes,
        UserImportResult(
          users: planned.records.map(\.user), issues: [], committed: true,
          passwordHashCount: planned.passwordHashCount,
          passwordHashesNeedingRehash: planned.passwordHashesNeedingRehash)
      )
    }
  }

  private struct PlannedImport {
    var records: [UserRecord] = []
    var events: [AuditEvent] = []
    var issues: [UserImportIssue] = []
    var passwordHashCount = 0
    var passwordHashesNeedingRehash = 0
  }

  private func planImport(_ users: [PortableUser], by principal: Principal)
    async throws(UserManagementError) -> PlannedImport
  {
    var planned = PlannedImport()
    planned.records.reserveCapacity(users.count)
    planned.events.reserveCapacity(users.count)
    var firstIndexOfUsername: [String: Int] = [:]
    firstIndexOfUsername.reserveCapacity(users.count)
    var policiesByName: [String: Policy?] = [:]
    let hasher = configuration.passwordHasher
    let now = configuration.now()

    for (index, item) in users.enumerated() {
      do throws(UserManagementError) {
        // Checked as addUser checks a new user; the policies are looked up by name below.
        var fields = try NewUserFields(
          username: item.username, firstName: item.firstName, lastName: item.lastName,
          status: item.status, role: item.role, policies: [],
          apiAccessEnabled: item.apiAccessEnabled, policiesRequested: !item.policies.isEmpty)
        let username = fields.username
        if let first = firstIndexOfUsername[username.canonical] {
          throw UserManagementError(
            .usernameTaken, "The import names \(username) twice (first as item #\(first)).",
            context: ["field": "username", "index": String(first)])
        }
        firstIndexOfUsername[username.canonical] = index
        if try await fromStore({ try await self.store.profile(usernameKey: username.canonical) })
          != nil
        {
          throw UserManagementError(
            .usernameTaken, "A user named \(username) already exists.",
            context: ["field": "username"])
        }
        var policyIDs = Set<PolicyID>()
        for name in item.policies {
          let key = Policy.nameKey(name.trimmingWhitespace())
          let policy: Policy?
          if let cached = policiesByName[key] {
            policy = cached
          } else {
            policy = try await fromStore { try await self.store.policy(nameKey: key) }
            policiesByName[key] = policy
          }
          guard let policy else {
            throw UserManagementError(
              .policyNotFound, "No policy is named \"\(DisplayText.quoted(name))\".",
              context: ["field": "policies", "name": DisplayText.quoted(name)])
          }
          policyIDs.insert(policy.id)
        }
        if let hash = item.passwordHash {
          let weak = try Self.requireImportable(hash, hasher: hasher)
          planned.passwordHashCount += 1
          if weak { planned.passwordHashesNeedingRehash += 1 }
        }
        guard planned.issues.isEmpty else { continue }
        fields.policies = policyIDs
        let (record, audit) = newUser(
          fields, passwordHash: item.passwordHash, mustChangePassword: false,
          action: .userImported, by: principal, at: now)
        planned.records.append(record)
        planned.events.append(audit)
      } catch  where error.code != .storageFailure {
        planned.issues.append(UserImportIssue(index: index, error: error))
      }
    }
    if !planned.issues.isEmpty {
      planned.records = []
      planned.events = []
    }
    return planned
  }

  /// Checks that a hash is in a format the hasher verifies and within its cost limits, by
  /// parsing it (no key derivation).
  /// - Returns: Whether the hasher would replace it at sign-in.
  @discardableResult
  static func requireImportable(_ hash: PasswordHash, hasher: any PasswordHasher)
    throws(UserManagementError) -> Bool
  {
    guard hash.encoded.utf8.count <= 4096, hasher.canVerify(hash) else {
      throw UserManagementError(
        .unsupportedHash, "The password hash is in a format this directory does not verify.",
        context: ["field": "passwordHash", "algorithm": hash.algorithm])
    }
    do {
      return try hasher.needsRehash(hash)
    } catch {
      var context = error.context
      context["field"] = "passwordHash"
      throw UserManagementError(error.code, error.message, context: context)
    }
  }

  /// Exports every user, in username order, in the portable form that
  /// ``importUsers(_:dryRun:by:)`` reads. An administrator's operation.
  ///
  /// Password hashes are included only when asked for: they allow offline guessing, so
  /// treat such an export like the store itself. API passwords are never exported.
  ///
  /// An export with hashes is audited before it is returned: one
  /// ``AuditAction/passwordHashExported`` event for each user whose hash it holds, committed
  /// in change sets of at most ``passwordHashExportEventsPerCommit`` events, each pinning the
  /// acting administrator. If any of them cannot be committed (the store fails, or the actor
  /// was demoted or deactivated meanwhile), the export throws and returns no hash; events
  /// already committed stay, so the trail may over-report an export that failed, never
  /// under-report one that succeeded.
  ///
  /// - Parameters:
  ///   - includingPasswordHashes: Whether to include the login password hashes.
  ///   - principal: Who reads; an active administrator or a system principal.
  /// - Returns: The users.
  /// - Throws: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/versionConflict`` (the actor kept changing while the export
  ///   was audited), or a storage error.
  public func exportUsers(includingPasswordHashes: Bool = false, by principal: Principal)
    async throws(UserManagementError) -> [PortableUser]
  {
    _ = try await acting(principal, requireAdmin: true)
    var disclosed: [AuditTarget] = []
    var names: [PolicyID: String] = [:]
    for policy in try await fromStore({ try await self.store.policies() }) {
      names[policy.id] = policy.name
    }
    var exported: [PortableUser] = []
    try await forEachUser { (user: User) async throws(UserManagementError) in
      var hash: PasswordHash?
      if includingPasswordHashes && user.hasPassword {
        hash = try await fromStore { try await self.store.user(id: user.id) }?.passwordHash
        if hash != nil { disclosed.append(.user(user.id, username: user.username.rawValue)) }
      }
      exported.append(
        PortableUser(
          username: user.username.rawValue, firstName: user.firstName, lastName: user.lastName,
          status: user.status, role: user.role,
          policies: user.policies.compactMap { names[$0] }.sorted(),
          apiAccessEnabled: user.apiAccessEnabled, passwordHash: hash))
    }
    try await auditHashExport(of: disclosed, by: principal)
    return exported
  }

  /// The most ``AuditAction/passwordHashExported`` events one change set of
  /// ``exportUsers(includingPasswordHashes:by:)`` holds.
  public static let passwordHashExportEventsPerCommit = 1_000

  /// Commits one ``AuditAction/passwordHashExported`` event per target, in change sets that
  /// each pin the actor as an active administrator (read again for each one).
  private func auditHashExport(of targets: [AuditTarget], by principal: Principal)
    async throws(UserManagementError)
  {
    let now = configuration.now()
    for start in stride(from: 0, to: targets.count, by: Self.passwordHashExportEventsPerCommit) {
      let chunk = targets[
        start..<min(start + Self.passwordHashExportEventsPerCommit, targets.count)]
      try await commitWithRetry { () async throws(UserManagementError) -> (ChangeSet?, Void) in
        let actor = try await acting(principal, requireAdmin: true)
        let events = chunk.map { target in
          event(.passwordHashExported, by: principal, on: target, [], at: now)
        }
        return (ChangeSet(preconditions: actor.preconditions, auditEvents: events), ())
      }
    }
  }

  /// Counts the stored login password hashes by format and parameters, to plan a migration
  /// (see ``MigratingPasswordHasher/census(of:)``). An administrator's operation.
  ///
  /// - Parameter principal: Who reads; an active administrator or a system principal.
  /// - Returns: The census, judged by the configured hasher when it is a
  ///   ``MigratingPasswordHasher``, else by a default one.
  /// - Throws: ``UserManagementError/Code/notAuthorized`` or a storage error.
  public func passwordHashCensus(by principal: Principal) async throws(UserManagementError)
    -> PasswordHashCensus
  {
    _ = try await acting(principal, requireAdmin: true)
    var hashes: [PasswordHash?] = []
    try await forEachUser { (user: User) async throws(UserManagementError) in
      hashes.append(try await fromStore { try await self.store.user(id: user.id) }?.passwordHash)
    }
    let census =
      (configuration.passwordHasher as? MigratingPasswordHasher) ?? MigratingPasswordHasher()
    return census.census(of: hashes)
  }

  /// Walks every user in username order, a page at a time.
  private func forEachUser(_ body: (User) async throws(UserManagementError) -> Void)
    async throws(UserManagementError)
  {
    var query = UserQuery(limit: UserQuery.maximumLimit)
    while true {
      let page = try await fromStore { [query] in try await self.store.users(matching: query) }
      for user in page.users { try await body(user) }
      guard let next = page.nextCursor else { return }
      query.after = next
    }
  }
}
