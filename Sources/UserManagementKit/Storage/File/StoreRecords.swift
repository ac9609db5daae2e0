#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

// The payload encodings of the file store's frames (see `Documentation/StoreFormat.md`).

extension UserRecord {
  private enum Flag {
    static let active: UInt8 = 1
    static let admin: UInt8 = 2
    static let apiAccess: UInt8 = 4
    static let mustChangePassword: UInt8 = 8
    static let passwordHash: UInt8 = 16
    static let apiPasswordHash: UInt8 = 32
    static let emailVerified: UInt8 = 64
    static let security: UInt8 = 128
    static let all: UInt8 = 255
  }

  /// Layout: id (16) · username · first name · last name · flags (bit 0 active, 1 admin,
  /// 2 API access, 3 must change password, 4 has password hash, 5 has API password hash,
  /// 6 e-mail verified, 7 has account-security state) · policy count · policy ids (16 each) ·
  /// version · security stamp · created · updated (f64 seconds since 2001-01-01) · created by
  /// (0 + user id, or 1 + name) · password hash? · API password hash? · account security?
  /// (see ``AccountSecurity/encode(into:)``). Strings are varint-length-prefixed UTF-8.
  func encode(into writer: inout ByteWriter) {
    writer.uuid(user.id.rawValue)
    writer.string(user.username.rawValue)
    writer.string(user.firstName)
    writer.string(user.lastName)
    var flags: UInt8 = 0
    if user.status == .active { flags |= Flag.active }
    if user.role == .admin { flags |= Flag.admin }
    if user.apiAccessEnabled { flags |= Flag.apiAccess }
    if user.mustChangePassword { flags |= Flag.mustChangePassword }
    if passwordHash != nil { flags |= Flag.passwordHash }
    if apiPasswordHash != nil { flags |= Flag.apiPasswordHash }
    if user.emailVerified { flags |= Flag.emailVerified }
    if !security.isEmpty { flags |= Flag.security }
    writer.byte(flags)
    writer.varint(UInt64(user.policies.count))
    for policy in user.policies.sorted() { writer.uuid(policy.rawValue) }
    writer.varint(user.version)
    writer.string(user.securityStamp.rawValue)
    writer.date(user.createdAt)
    writer.date(user.updatedAt)
    writer.principal(user.createdBy)
    if let passwordHash { writer.string(passwordHash.encoded) }
    if let apiPasswordHash { writer.string(apiPasswordHash.encoded) }
    if !security.isEmpty { security.encode(into: &writer) }
  }

  init?(decoding reader: inout ByteReader) {
    var policySets = PolicySetCache()
    self.init(decoding: &reader, policySets: &policySets)
  }

  /// Decodes a record, taking its policy set from `policySets` when an earlier record held
  /// the same one (users share a few combinations of policies, and a shared set is one
  /// allocation instead of one per user).
  init?(decoding reader: inout ByteReader, policySets: inout PolicySetCache) {
    guard let record = Self.decode(&reader, policySets: &policySets, { $0 }) else { return nil }
    self = record
  }

  /// Decodes a record (see ``init(decoding:policySets:)``) and hands it to `make`, which
  /// takes it over: the record moves into what `make` builds (an entry of the file store's
  /// state, opening a store) instead of being copied out of an optional first, a retain and
  /// a release of each of its strings and sets.
  ///
  /// - Returns: What `make` made, or `nil` if the bytes do not decode.
  static func decode<Made>(
    _ reader: inout ByteReader, policySets: inout PolicySetCache,
    _ make: (consuming UserRecord) -> Made
  ) -> Made? {
    guard let id = reader.uuid(), let rawUsername = reader.string(), !rawUsername.isEmpty,
      let firstName = reader.string(),
      let lastName = reader.string(), let flags = reader.byte(), flags & ~Flag.all == 0,
      let policyCount = reader.varint(), policyCount <= UInt64(reader.remaining / 16)
    else { return nil }
    let policies: Set<PolicyID>
    let policyBytes = UnsafeRawBufferPointer(
      rebasing: reader.bytes[reader.offset..<reader.offset + Int(policyCount) * 16])
    if policyCount == 0 {
      policies = []
    } else if let shared = policySets.set(for: policyBytes) {
      policies = shared
      reader.offset += policyBytes.count
    } else {
      var decoded = Set<PolicyID>(minimumCapacity: Int(policyCount))
      for _ in 0..<policyCount {
        guard let policy = reader.uuid() else { return nil }
        decoded.insert(PolicyID(rawValue: policy))
      }
      policySets.remember(decoded, for: policyBytes)
      policies = decoded
    }
    guard let version = reader.varint(), version >= 1, let stamp = reader.string(),
      let created = reader.date(), let updated = reader.date(),
      let createdBy = reader.principal()
    else { return nil }
    var passwordHash: PasswordHash?
    var apiPasswordHash: PasswordHash?
    if flags & Flag.passwordHash != 0 {
      guard let encoded = reader.string() else { return nil }
      passwordHash = PasswordHash(encoded: encoded)
    }
    if flags & Flag.apiPasswordHash != 0 {
      guard let encoded = reader.string() else { return nil }
      apiPasswordHash = PasswordHash(encoded: encoded)
    }
    var security = AccountSecurity.none
    if flags & Flag.security != 0 {
      guard let decoded = AccountSecurity(decoding: &reader, user: UserID(rawValue: id)),
        !decoded.isEmpty
      else { return nil }
      security = decoded
    }
    let user = User(
      id: UserID(rawValue: id), username: Username(stored: rawUsername), firstName: firstName,
      lastName: lastName,
      status: flags & Flag.active != 0 ? .active : .inactive,
      role: flags & Flag.admin != 0 ? .admin : .generalUser, policies: policies,
      apiAccessEnabled: flags & Flag.apiAccess != 0, hasAPIPassword: apiPasswordHash != nil,
      hasPassword: passwordHash != nil, mustChangePassword: flags & Flag.mustChangePassword != 0,
      version: version, securityStamp: SecurityStamp(rawValue: stamp),
      createdAt: created,
      updatedAt: updated, createdBy: createdBy, emailVerified: flags & Flag.emailVerified != 0)
    return make(
      UserRecord(
        user: user, passwordHash: passwordHash, apiPasswordHash: apiPasswordHash,
        security: security))
  }
}

/// The policy sets decoded so far, by their encoded bytes: a few dozen at most (beyond that,
/// sets are decoded without sharing).
struct PolicySetCache {
  private var encodings: [[UInt8]] = []
  private var sets: [Set<PolicyID>] = []
  private static let capacity = 64

  /// The set these bytes (a record's policy ids) decode to, if seen before.
  func set(for bytes: UnsafeRawBufferPointer) -> Set<PolicyID>? {
    for index in encodings.indices where encodings[index].count == bytes.count {
      if encodings[index].withUnsafeBytes({ Self.equal($0, bytes) }) { return sets[index] }
    }
    return nil
  }

  /// Whether two buffers of the same size hold the same bytes, compared a word at a time
  /// (policy ids are 16 bytes each).
  private static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset + 8 <= a.count {
      guard
        a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
          == b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
      else { return false }
      offset += 8
    }
    while offset < a.count {
      guard a[offset] == b[offset] else { return false }
      offset += 1
    }
    return true
  }

  /// Remembers the set `bytes` decoded to, while there is room.
  mutating func remember(_ set: Set<PolicyID>, for bytes: UnsafeRawBufferPointer) {
    guard encodings.count < Self.capacity else { return }
    encodings.append(Array(bytes))
    sets.append(set)
  }
}

extension AccountSecurity {
  /// Layout: has second factor (0/1) · [sealed secret · algorithm (0 SHA1, 1 SHA256,
  /// 2 SHA512) · digits · period · confirmed (0/1) · last used step + 1 (0 = none) · created] ·
  /// recovery code count · hashes · token count · [purpose (0 reset, 1 verification,
  /// 2 challenge) · hash · security stamp · expiry] · key count · [id (16) · name · scope
  /// count · [resource type · action count · actions] · created · created by · dates present
  /// (bit 0 expiry, 1 last used, 2 revoked) · those dates · hash].
  func encode(into writer: inout ByteWriter) {
    if let factor = secondFactor {
      writer.byte(1)
      writer.string(factor.secret.encoded)
      let algorithms = OneTimeCodeParameters.Algorithm.allCases
      writer.byte(UInt8(algorithms.firstIndex(of: factor.parameters.algorithm) ?? 0))
      writer.byte(UInt8(factor.parameters.digits))
      writer.varint(UInt64(factor.parameters.period))
      writer.byte(factor.isConfirmed ? 1 : 0)
      writer.varint(factor.lastUsedStep.map { $0 &+ 1 } ?? 0)
      writer.date(factor.createdAt)
    } else {
      writer.byte(0)
    }
    writer.varint(UInt64(recoveryCodes.count))
    for code in recoveryCodes { writer.string(code.encoded) }
    writer.varint(UInt64(tokens.count))
    for token in tokens {
      writer.byte(UInt8(StoredToken.Purpose.allCases.firstIndex(of: token.purpose) ?? 0))
      writer.string(token.hash.encoded)
      writer.string(token.securityStamp.rawValue)
      writer.date(token.expiresAt)
    }
    writer.varint(UInt64(apiKeys.count))
    for stored in apiKeys {
      let key = stored.key
      writer.uuid(key.id.rawValue)
      writer.string(key.name)
      writer.varint(UInt64(key.scopes.count))
      for scope in key.scopes {
        writer.string(scope.resourceType)
        writer.varint(UInt64(scope.actions.count))
        for action in scope.actions { writer.string(action.rawValue) }
      }
      writer.date(key.createdAt)
      writer.principal(key.createdBy)
      var present: UInt8 = 0
      if key.expiresAt != nil { present |= 1 }
      if key.lastUsedAt != nil { present |= 2 }
      if key.revokedAt != nil { present |= 4 }
      writer.byte(present)
      for date in [key.expiresAt, key.lastUsedAt, key.revokedAt] {
        if let date { writer.date(date) }
      }
      writer.string(stored.hash.encoded)
    }
  }

  init?(decoding reader: inout ByteReader, user: UserID) {
    self.init()
    switch reader.byte() {
    case 0: break
    case 1:
      let algorithms = OneTimeCodeParameters.Algorithm.allCases
      guard let secret = reader.string(), let algorithm = reader.byte(),
        Int(algorithm) < algorithms.count, let digits = reader.byte(), digits == 6 || digits == 8,
        let period = reader.varint(), (15...300).contains(period), let confirmed = reader.byte(),
        confirmed <= 1, let lastUsed = reader.varint(), let created = reader.date()
      else { return nil }
      secondFactor = SecondFactorState(
        secret: SealedSecret(encoded: secret),
        parameters: OneTimeCodeParameters(
          algorithm: algorithms[Int(algorithm)], digits: Int(digits), period: Int(period)),
        isConfirmed: confirmed == 1, lastUsedStep: lastUsed == 0 ? nil : lastUsed - 1,
        createdAt: created)
    default: return nil
    }
    guard let codeCount = reader.varint(), codeCount <= UInt64(reader.remaining) else {
      return nil
    }
    var codes: [PasswordHash] = []
    for _ in 0..<codeCount {
      guard let code = reader.string() else { return nil }
      codes.append(PasswordHash(encoded: code))
    }
    recoveryCodes = codes
    guard let tokenCount = reader.varint(), tokenCount <= UInt64(reader.remaining) else {
      return nil
    }
    var tokens: [StoredToken] = []
    let purposes = StoredToken.Purpose.allCases
    for _ in 0..<tokenCount {
      guard let purpose = reader.byte(), Int(purpose) < purposes.count,
        let hash = reader.string(), let stamp = reader.string(), let expires = reader.date()
      else { return nil }
      tokens.append(
        StoredToken(
          purpose: purposes[Int(purpose)], hash: PasswordHash(encoded: hash),
          securityStamp: SecurityStamp(rawValue: stamp), expiresAt: expires))
    }
    self.tokens = tokens
    guard let keyCount = reader.varint(), keyCount <= UInt64(reader.remaining / 16) else {
      return nil
    }
    var keys: [StoredAPIKey] = []
    for _ in 0..<keyCount {
      guard let id = reader.uuid(), let name = reader.string(), let scopeCount = reader.varint(),
        scopeCount <= UInt64(reader.remaining)
      else { return nil }
      var scopes: [APIKeyScope] = []
      for _ in 0..<scopeCount {
        guard let type = reader.string(), let actionCount = reader.varint(),
          actionCount <= UInt64(reader.remaining)
        else { return nil }
        var actions: [Action] = []
        for _ in 0..<actionCount {
          guard let action = reader.string() else { return nil }
          actions.append(Action(rawValue: action))
        }
        scopes.append(APIKeyScope(resourceType: type, actions: actions))
      }
      guard let created = reader.date(), let createdBy = reader.principal(),
        let present = reader.byte(), present & ~7 == 0
      else { return nil }
      var dates: [Date?] = []
      for bit in [UInt8(1), 2, 4] {
        if present & bit != 0 {
          guard let date = reader.date() else { return nil }
          dates.append(date)
        } else {
          dates.append(nil)
        }
      }
      guard let hash = reader.string() else { return nil }
      keys.append(
        StoredAPIKey(
          key: APIKey(
            id: APIKeyID(rawValue: id), userID: user, name: name, scopes: scopes,
            createdAt: created, createdBy: createdBy, expiresAt: dates[0], lastUsedAt: dates[1],
            revokedAt: dates[2]),
          hash: PasswordHash(encoded: hash)))
    }
    apiKeys = keys
  }
}

extension ByteWriter {
  mutating func principal(_ principal: Principal) {
    switch principal {
    case .user(let id):
      byte(0)
      uuid(id.rawValue)
    case .system(let name):
      byte(1)
      string(name)
    }
  }

  /// A policy as its JSON (policies are few, and JSON keeps their permission documents
  /// readable with `strings`).
  mutating func policy(_ policy: Policy) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Encoding a Policy cannot fail: every field is a string, number, date or array of them.
    let json = (try? encoder.encode(policy)) ?? Data()
    varint(UInt64(json.count))
    bytes.append(contentsOf: json)
  }

  mutating func throttle(_ key: ThrottleKey, _ state: LoginThrottleState) {
    uuid(key.user.rawValue)
    byte(key.kind == .password ? 0 : 1)
    varint(UInt64(max(0, state.consecutiveFailures)))
    if let last = state.lastFailure {
      byte(1)
      date(last)
    } else {
      byte(0)
    }
  }
}

extension ByteReader {
  mutating func principal() -> Principal? {
    switch byte() {
    case 0: uuid().map { .user(UserID(rawValue: $0)) }
    case 1: string().map { .system($0) }
    default: nil
    }
  }

  mutating func policy() -> Policy? {
    guard let length = varint(), length <= UInt64(bytes.count - offset) else { return nil }
    let end = offset + Int(length)
    let json = Data(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
    offset = end
    let decoder = JSONDecoder()
    return try? decoder.decode(Policy.self, from: json)
  }

  mutating func throttle() -> (ThrottleKey, LoginThrottleState)? {
    guard let user = uuid(), let kindCode = byte(), kindCode <= 1,
      let failures = varint(), failures <= UInt64(Int32.max), let hasDate = byte()
    else { return nil }
    var last: Date?
    switch hasDate {
    case 0: break
    case 1:
      guard let date = date() else { return nil }
      last = date
    default: return nil
    }
    let key = ThrottleKey(
      user: UserID(rawValue: user), kind: kindCode == 0 ? .password : .apiPassword)
    return (key, LoginThrottleState(consecutiveFailures: Int(failures), lastFailure: last))
  }
}

/// One commit as the log stores it: the results of a validated change set, replayed on open
/// without checks.
struct CommitRecord {
  var sequence: UInt64
  var users: [UserRecord] = []
  /// The users as the state's entries, when decoded for opening a store
  /// (``init(decodingEntries:policySets:)``); `users` is then empty.
  var entries: [DirectoryEntry] = []
  var policies: [(id: PolicyID, policy: Policy?)] = []
  var throttles: [(key: ThrottleKey, state: LoginThrottleState)] = []
  /// The audit events, except when decoded for opening a store: then they are in
  /// `encodedAuditEvents`, and this is empty.
  var auditEvents: [AuditEvent] = []
  /// The audit events as the log holds them, when decoded for opening a store
  /// (``init(decodingEntries:policySets:)``), until ``apply(to:)`` moves them into the state.
  var encodedAuditEvents = EncodedAuditEvents()

  /// The record of `changes`, whose application produced `applied`.
  init(sequence: UInt64, changes: ChangeSet, applied: AppliedChange) {
    self.sequence = sequence
    // Later entries for the same user win, as they did when the change set was applied.
    var seen = Set<UserID>()
    for record in changes.users.reversed() where seen.insert(record.id).inserted {
      users.append(record)
    }
    users.reverse()
    var policyResults: [PolicyID: Policy?] = [:]
    var order: [PolicyID] = []
    for change in changes.policies {
      switch change {
      case .put(let policy):
        if policyResults[policy.id] == nil { order.append(policy.id) }
        policyResults[policy.id] = .some(policy)
      case .delete(let id, _):
        if policyResults[id] == nil { order.append(id) }
        policyResults[id] = .some(nil)
      }
    }
    policies = order.map { ($0, policyResults[$0] ?? nil) }
    throttles = applied.throttleResults
    auditEvents = changes.auditEvents
  }

  init(sequence: UInt64) {
    self.sequence = sequence
  }

  /// Writes the commit (a group frame holds several: its tag, their count, then each).
  func encode(into writer: inout ByteWriter) {
    writer.varint(sequence)
    writer.varint(UInt64(users.count))
    for user in users { user.encode(into: &writer) }
    writer.varint(UInt64(policies.count))
    for (id, policy) in policies {
      if let policy {
        writer.byte(0)
        writer.policy(policy)
      } else {
        writer.byte(1)
        writer.uuid(id.rawValue)
      }
    }
    writer.varint(UInt64(throttles.count))
    for (key, state) in throttles { writer.throttle(key, state) }
    writer.varint(UInt64(auditEvents.count))
    for event in auditEvents { event.encode(into: &writer) }
  }

  /// Decodes one commit of a group frame.
  init?(decoding reader: inout ByteReader) {
    var policySets = PolicySetCache()
    self.init(decoding: &reader, policySets: &policySets, makingEntries: false)
  }

  /// Decodes one commit of a group frame for opening a store: each user moves into an entry
  /// of the state as it is decoded (``entries``), on the decoding thread, and shares its
  /// policy set with the users `policySets` has seen.
  init?(decodingEntries reader: inout ByteReader, policySets: inout PolicySetCache) {
    self.init(decoding: &reader, policySets: &policySets, makingEntries: true)
  }

  private init?(
    decoding reader: inout ByteReader, policySets: inout PolicySetCache, makingEntries: Bool
  ) {
    // Counts are bounded by what the remaining bytes could hold (a user takes at least 40,
    // an event 35), so a damaged count cannot reserve more memory than the frame is worth.
    guard let sequence = reader.varint(), let userCount = reader.varint(),
      userCount <= UInt64(reader.remaining / 40)
    else { return nil }
    self.sequence = sequence
    if makingEntries {
      entries.reserveCapacity(Int(userCount))
      for _ in 0..<userCount {
        // The record moves into its entry without being copied.
        guard
          let entry = UserRecord.decode(&reader, policySets: &policySets, { DirectoryEntry($0) })
        else { return nil }
        entries.append(entry)
      }
    } else {
      users.reserveCapacity(Int(userCount))
      // A commit of many users (an import, a bulk fill) shares their policy sets.
      for _ in 0..<userCount {
        guard
          let user = userCount >= 16
            ? UserRecord(decoding: &reader, policySets: &policySets)
            : UserRecord(decoding: &reader)
        else { return nil }
        users.append(user)
      }
    }
    guard let policyCount = reader.varint(), policyCount <= UInt64(reader.remaining) else {
      return nil
    }
    for _ in 0..<policyCount {
      switch reader.byte() {
      case 0:
        guard let policy = reader.policy() else { return nil }
        policies.append((policy.id, policy))
      case 1:
        guard let id = reader.uuid() else { return nil }
        policies.append((PolicyID(rawValue: id), nil))
      default:
        return nil
      }
    }
    guard let throttleCount = reader.varint(), throttleCount <= UInt64(reader.remaining) else {
      return nil
    }
    for _ in 0..<throttleCount {
      guard let throttle = reader.throttle() else { return nil }
      throttles.append(throttle)
    }
    guard let eventCount = reader.varint(), eventCount <= UInt64(reader.remaining / 35) else {
      return nil
    }
    if makingEntries {
      // Checked, and kept in the bytes the state's audit log holds them in.
      guard let encoded = EncodedAuditEvents(reading: Int(eventCount), from: &reader) else {
        return nil
      }
      encodedAuditEvents = encoded
      return
    }
    auditEvents.reserveCapacity(Int(eventCount))
    for _ in 0..<eventCount {
      guard let event = AuditEvent(decoding: &reader) else { return nil }
      auditEvents.append(event)
    }
  }

  /// Whether `other` holds the same commit (what decoding an encoded record must give).
  func matches(_ other: CommitRecord) -> Bool {
    sequence == other.sequence && users == other.users && auditEvents == other.auditEvents
      && policies.elementsEqual(other.policies) { $0.id == $1.id && $0.policy == $1.policy }
      && throttles.elementsEqual(other.throttles) { $0.key == $1.key && $0.state == $1.state }
  }

  /// Applies the record to a state read from disk: its `users`, not its `entries` (opening
  /// takes those out and indexes them with the snapshot's). Its encoded audit events move
  /// into the state's audit log, so that the log's events are not held twice while the store
  /// opens.
  mutating func apply(to state: inout DirectoryState) {
    assert(entries.isEmpty, "opening takes a record's entries out before applying the rest")
    for (id, policy) in policies where policy != nil { state.load(policy: policy, id: id) }
    for user in users { state.load(user) }
    for (id, policy) in policies where policy == nil { state.load(policy: nil, id: id) }
    for (key, value) in throttles { state.setThrottle(key, value) }
    for event in auditEvents { state.audit.append(event) }
    state.audit.append(encodedAuditEvents)
    encodedAuditEvents = EncodedAuditEvents()
  }
}
