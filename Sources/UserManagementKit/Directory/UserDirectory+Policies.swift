extension UserDirectory {
  /// Creates an access-control policy.
  ///
  /// - Parameters:
  ///   - document: The policy's name, description and permissions.
  ///   - principal: Who acts; an active administrator or a system principal.
  /// - Returns: The new policy.
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/invalidPolicy`` or
  ///   ``UserManagementError/Code/policyNameTaken``.
  @discardableResult
  public func createPolicy(_ document: PolicyDocument, by principal: Principal)
    async throws(UserManagementError) -> Policy
  {
    let valid = try document.validated()
    return try await commitWithRetry { () async throws(UserManagementError) in
      let acting = try await acting(principal, requireAdmin: true)
      let now = configuration.now()
      let policy = Policy(
        id: PolicyID(rawValue: configuration.makeIdentifier()), name: valid.name,
        description: valid.description, permissions: valid.permissions, version: 1,
        createdAt: now, updatedAt: now)
      let audit = event(
        .policyCreated, by: principal, on: .policy(policy.id, name: policy.name),
        Self.fieldChanges(from: nil, to: policy), at: now)
      return (
        ChangeSet(
          preconditions: acting.preconditions, policies: [.put(policy)], auditEvents: [audit]),
        policy
      )
    }
  }

  /// Replaces a policy's name, description and permissions. Users keep holding it.
  ///
  /// - Parameters:
  ///   - id: The policy.
  ///   - document: The new content.
  ///   - expectedVersion: When given, applies only if the policy is still at this version.
  ///   - principal: Who acts.
  /// - Returns: The policy after the change.
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/policyNotFound``,
  ///   ``UserManagementError/Code/invalidPolicy``,
  ///   ``UserManagementError/Code/policyNameTaken`` or
  ///   ``UserManagementError/Code/versionConflict``.
  @discardableResult
  public func updatePolicy(
    _ id: PolicyID, with document: PolicyDocument, expectedVersion: UInt64? = nil,
    by principal: Principal
  ) async throws(UserManagementError) -> Policy {
    let valid = try document.validated()
    return try await commitWithRetry { () async throws(UserManagementError) in
      let acting = try await acting(principal, requireAdmin: true)
      let current = try await existingPolicy(id, expectedVersion: expectedVersion)
      return Self.replacement(of: current, with: valid, acting: acting, directory: self)
    }
  }

  /// Deletes a policy that no user holds.
  ///
  /// - Parameters:
  ///   - id: The policy.
  ///   - principal: Who acts.
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/policyInUse`` (with the
  ///   number of holders in the message and in `context["holders"]`),
  ///   ``UserManagementError/Code/notAuthorized`` or
  ///   ``UserManagementError/Code/policyNotFound``.
  public func deletePolicy(_ id: PolicyID, by principal: Principal)
    async throws(UserManagementError)
  {
    try await commitWithRetry { () async throws(UserManagementError) in
      let acting = try await acting(principal, requireAdmin: true)
      let current = try await existingPolicy(id, expectedVersion: nil)
      let now = configuration.now()
      let audit = event(
        .policyDeleted, by: principal, on: .policy(id, name: current.name),
        [FieldChange(field: "name", oldValue: current.name, newValue: nil)], at: now)
      return (
        ChangeSet(
          preconditions: acting.preconditions,
          policies: [.delete(id, version: current.version)], auditEvents: [audit]),
        ()
      )
    }
  }

  /// Every policy, ordered by name. Any active user may read the catalog.
  ///
  /// - Parameter principal: Who reads.
  /// - Returns: The policies.
  /// - Throws: ``UserManagementError/Code/notAuthorized`` for inactive users.
  public func policies(by principal: Principal) async throws(UserManagementError) -> [Policy] {
    _ = try await acting(principal, requireAdmin: false)
    return try await fromStore { try await self.store.policies() }
  }

  /// Reads a policy by identifier.
  ///
  /// - Parameters:
  ///   - id: The policy.
  ///   - principal: Who reads.
  /// - Returns: The policy.
  /// - Throws: ``UserManagementError/Code/policyNotFound``.
  public func policy(_ id: PolicyID, by principal: Principal) async throws(UserManagementError)
    -> Policy
  {
    _ = try await acting(principal, requireAdmin: false)
    return try await existingPolicy(id, expectedVersion: nil)
  }

  /// Reads a policy by name (case-insensitively).
  ///
  /// - Parameters:
  ///   - name: The policy's name.
  ///   - principal: Who reads.
  /// - Returns: The policy.
  /// - Throws: ``UserManagementError/Code/policyNotFound``.
  public func policy(named name: String, by principal: Principal)
    async throws(UserManagementError) -> Policy
  {
    _ = try await acting(principal, requireAdmin: false)
    let key = Policy.nameKey(name.trimmingWhitespace())
    guard let policy = try await fromStore({ try await self.store.policy(nameKey: key) }) else {
      throw UserManagementError(
        .policyNotFound, "No policy is named \"\(DisplayText.quoted(name))\".",
        context: ["name": DisplayText.quoted(name)])
    }
    return policy
  }

  /// Imports policies all or nothing: documents whose name matches an existing policy
  /// (case-insensitively) replace its content; the others are created.
  ///
  /// Read the console's JSON (one document or an array) with
  /// ``PolicyDocument/decodeList(from:)``.
  ///
  /// - Parameters:
  ///   - documents: The policies' content, in order.
  ///   - principal: Who acts; an active administrator or a system principal.
  /// - Returns: The created or updated policies, in document order.
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/invalidPolicy`` naming the
  ///   document and field, ``UserManagementError/Code/notAuthorized``, or
  ///   ``UserManagementError/Code/policyNameTaken`` when two documents share a name.
  @discardableResult
  public func importPolicies(_ documents: [PolicyDocument], by principal: Principal)
    async throws(UserManagementError) -> [Policy]
  {
    _ = try await acting(principal, requireAdmin: true)
    let documents = try PolicyDocument.validated(documents)
    var seen = Set<String>()
    for document in documents where !seen.insert(Policy.nameKey(document.name)).inserted {
      throw UserManagementError(
        .policyNameTaken,
        "The import names the policy \"\(DisplayText.quoted(document.name))\" twice.")
    }
    return try await commitWithRetry { () async throws(UserManagementError) in
      let acting = try await acting(principal, requireAdmin: true)
      var changes = ChangeSet(preconditions: acting.preconditions)
      var result: [Policy] = []
      let now = configuration.now()
      for document in documents {
        let existing = try await fromStore {
          try await self.store.policy(nameKey: Policy.nameKey(document.name))
        }
        if let existing {
          let (partial, policy) = Self.replacement(
            of: existing, with: document, acting: acting, directory: self)
          if let partial {
            changes.policies += partial.policies
            changes.auditEvents += partial.auditEvents
          }
          result.append(policy)
        } else {
          let policy = Policy(
            id: PolicyID(rawValue: configuration.makeIdentifier()), name: document.name,
            description: document.description, permissions: document.permissions, version: 1,
            createdAt: now, updatedAt: now)
          changes.policies.append(.put(policy))
          changes.auditEvents.append(
            event(
              .policyCreated, by: principal, on: .policy(policy.id, name: policy.name),
              Self.fieldChanges(from: nil, to: policy), at: now))
          result.append(policy)
        }
      }
      return (changes.policies.isEmpty ? nil : changes, result)
    }
  }

  /// Exports every policy's content, ordered by name, in the form
  /// ``importPolicies(_:by:)`` reads. Write it as the console's JSON with
  /// ``PolicyDocument/encodeList(_:)``.
  ///
  /// - Parameter principal: Who reads.
  /// - Returns: The documents.
  /// - Throws: ``UserManagementError/Code/notAuthorized`` for inactive users.
  public func exportPolicies(by principal: Principal) async throws(UserManagementError)
    -> [PolicyDocument]
  {
    try await policies(by: principal).map(\.document)
  }

  // MARK: Helpers

  func existingPolicy(_ id: PolicyID, expectedVersion: UInt64?)
    async throws(UserManagementError) -> Policy
  {
    guard let policy = try await fromStore({ try await self.store.policy(id: id) }) else {
      throw UserManagementError(
        .policyNotFound, "No policy has the id \(id).", context: ["policy": id.description])
    }
    if let expectedVersion, policy.version != expectedVersion {
      throw .conflict(
        "The policy is at version \(policy.version), not \(expectedVersion); reload it.")
    }
    return policy
  }

  static func replacement(
    of current: Policy, with document: PolicyDocument, acting: Acting, directory: UserDirectory
  ) -> (ChangeSet?, Policy) {
    var updated = current
    updated.name = document.name
    updated.description = document.description
    updated.permissions = document.permissions
    // Byte for byte: an id or name replaced by a canonically equivalent spelling is a change
    // (grants match ids by their bytes).
    guard
      !(updated.name.utf8.elementsEqual(current.name.utf8)
        && updated.description.utf8.elementsEqual(current.description.utf8)
        && updated.permissions == current.permissions)
    else { return (nil, current) }
    let now = directory.configuration.now()
    updated.version += 1
    updated.updatedAt = now
    let audit = directory.event(
      .policyUpdated, by: acting.principal, on: .policy(current.id, name: updated.name),
      fieldChanges(from: current, to: updated), at: now)
    return (
      ChangeSet(
        preconditions: acting.preconditions, policies: [.put(updated)], auditEvents: [audit]),
      updated
    )
  }

  static func fieldChanges(from old: Policy?, to new: Policy) -> [FieldChange] {
    var changes: [FieldChange] = []
    if !(old.map { $0.name.utf8.elementsEqual(new.name.utf8) } ?? false) {
      changes.append(FieldChange(field: "name", oldValue: old?.name, newValue: new.name))
    }
    if !(old.map { $0.description.utf8.elementsEqual(new.description.utf8) } ?? false) {
      changes.append(
        FieldChange(field: "description", oldValue: old?.description, newValue: new.description))
    }
    if old?.permissions != new.permissions {
      changes.append(
        FieldChange(
          field: "permissions", oldValue: old.map { describe($0.permissions) },
          newValue: describe(new.permissions)))
    }
    return changes
  }

  static func describe(_ permissions: [Permission]) -> String {
    permissions.map { permission in
      "\(permission.resourceType):\(permission.allowed.map(\.rawValue).joined(separator: "|"))"
        + ":\(permission.resourceIds.map(\.description).joined(separator: "|"))"
    }.joined(separator: "; ")
  }
}
