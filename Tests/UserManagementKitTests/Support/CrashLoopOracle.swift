import Foundation
import Testing
import UserManagementKit
import UserManagementKitTesting

// What the crash loop (CrashLoopTests) checks a store against: the lines each child printed
// (ChildLog), what the reopened store holds (Observed), and the running tallies (Totals).

// MARK: - What the child said

/// The `try`, `ack` and `nak` lines of one child.
struct ChildLog {
  enum Change {
    case user(UserID, version: UInt64, firstName: String, status: String, role: String)
    case policy(PolicyID, version: UInt64, name: String)
    case policyDelete(PolicyID, version: UInt64)
    case failure(UserID, CredentialKind)
    case audit
  }

  struct Attempt {
    let number: Int
    let change: Change
    let event: UUID?
  }

  var attempts: [Int: Attempt] = [:]
  var acknowledged: Set<Int> = []
  var refused: [Int: String] = [:]
  var ready = false
  var problems: [String] = []

  /// Parses one child's lines. Commit numbers are made unique across `writer`s; `lenient`
  /// accepts the refusals writers sharing a store cause each other.
  init(_ lines: [String], writer: Int = 0, lenient: Bool = false) {
    for line in lines {
      var words = line.split(separator: " ").map(String.init)
      guard let first = words.first else { continue }
      if ["try", "ack", "nak"].contains(first), words.count >= 2, let number = Int(words[1]) {
        words[1] = String(writer * 100_000_000 + number)
      }
      switch first {
      case "try":
        if let attempt = Self.parseAttempt(words) {
          attempts[attempt.number] = attempt
        } else {
          problems.append("unreadable line: \(line)")
        }
      case "ack":
        if words.count == 2, let number = Int(words[1]), attempts[number] != nil {
          acknowledged.insert(number)
        } else {
          problems.append("ack of no attempt: \(line)")
        }
      case "nak":
        if words.count == 3, let number = Int(words[1]), attempts[number] != nil {
          refused[number] = words[2]
          // The child's commits are all well-formed and sized for the store; only rules
          // may refuse them. Anything else is the store failing.
          let expected =
            ["last_active_administrator", "policy_in_use"]
            + (lenient ? ["version_conflict", "already_bootstrapped", "policy_not_found"] : [])
          if !expected.contains(words[2]) {
            problems.append("a commit failed unexpectedly: \(line)")
          }
        } else {
          problems.append("nak of no attempt: \(line)")
        }
      case "ready":
        ready = true
      case "compact", "compacted":
        break
      default:
        problems.append("unexpected line: \(line)")
      }
    }
  }

  /// Adds another child's lines.
  mutating func merge(_ other: ChildLog) {
    attempts.merge(other.attempts) { $1 }
    acknowledged.formUnion(other.acknowledged)
    refused.merge(other.refused) { $1 }
    ready = ready || other.ready
    problems += other.problems
  }

  private static func parseAttempt(_ words: [String]) -> Attempt? {
    guard words.count >= 5, let number = Int(words[1]), words[words.count - 2] == "ev" else {
      return nil
    }
    let event = UUID(uuidString: words[words.count - 1])
    func id(_ index: Int) -> UUID? { UUID(uuidString: words[index]) }
    let change: Change
    switch words[2] {
    case "user" where words.count == 10:
      guard let uuid = id(3), let version = UInt64(words[4]) else { return nil }
      change = .user(
        UserID(rawValue: uuid), version: version, firstName: words[5], status: words[6],
        role: words[7])
    case "policy" where words.count == 8:
      guard let uuid = id(3), let version = UInt64(words[4]) else { return nil }
      change = .policy(PolicyID(rawValue: uuid), version: version, name: words[5])
    case "policydel" where words.count == 7:
      guard let uuid = id(3), let version = UInt64(words[4]) else { return nil }
      change = .policyDelete(PolicyID(rawValue: uuid), version: version)
    case "fail" where words.count == 7:
      guard let uuid = id(3), let kind = CredentialKind(rawValue: words[4]) else { return nil }
      change = .failure(UserID(rawValue: uuid), kind)
    case "audit" where words.count == 5:
      change = .audit
    default:
      return nil
    }
    return Attempt(number: number, change: change, event: event)
  }

  /// Attempts the store may have applied: acknowledged ones, and the ones in flight when the
  /// child was killed. (Refused ones must not have been applied.)
  var live: [Attempt] {
    attempts.values.filter { refused[$0.number] == nil }.sorted { $0.number < $1.number }
  }

  func isAcknowledged(_ attempt: Attempt) -> Bool { acknowledged.contains(attempt.number) }
}

// MARK: - What the store holds

/// Everything the test compares between trials, read from a freshly opened store.
struct Observed {
  struct ThrottleKey: Hashable {
    let user: UserID
    let kind: CredentialKind
  }

  var users: [UserID: User] = [:]
  var policies: [PolicyID: Policy] = [:]
  var throttles: [ThrottleKey: Int] = [:]
  var audit: Set<UUID> = []
  var auditEventCount = 0
  var generation: UInt64 = 0

  init() {}

  init(_ store: FileDirectoryStore) async throws {
    var cursor: UserCursor?
    repeat {
      let page = try await store.users(
        matching: UserQuery(limit: UserQuery.maximumLimit, after: cursor))
      for user in page.users { users[user.id] = user }
      cursor = page.nextCursor
    } while cursor != nil
    for user in users.values {
      for kind in CredentialKind.allCases {
        let count = try await store.loginThrottle(for: user.id, kind: kind).consecutiveFailures
        if count != 0 { throttles[ThrottleKey(user: user.id, kind: kind)] = count }
      }
    }
    for policy in try await store.policies() { policies[policy.id] = policy }
    let events = try await store.auditEvents(
      matching: AuditQuery(limit: Int.max, newestFirst: false))
    audit = Set(events.map(\.id))
    auditEventCount = events.count
    generation = store.statistics.generation
  }

  /// What is wrong with this state, given the state before the trial and what the child said.
  func problems(comparedWith previous: Observed, after log: ChildLog) -> [String] {
    var problems: [String] = []
    let live = log.live
    problems += userProblems(previous, log, live)
    problems += policyProblems(previous, log, live)

    // Failed sign-in counters only grow here: by the acknowledged failures at least, by the
    // live ones at most.
    var keys = Set(throttles.keys).union(previous.throttles.keys)
    var acknowledgedFailures: [ThrottleKey: Int] = [:]
    var liveFailures: [ThrottleKey: Int] = [:]
    for attempt in live {
      guard case .failure(let user, let kind) = attempt.change else { continue }
      let key = ThrottleKey(user: user, kind: kind)
      keys.insert(key)
      liveFailures[key, default: 0] += 1
      if log.isAcknowledged(attempt) { acknowledgedFailures[key, default: 0] += 1 }
    }
    for key in keys {
      let before = previous.throttles[key] ?? 0
      let now = throttles[key] ?? 0
      let low = before + (acknowledgedFailures[key] ?? 0)
      let high = before + (liveFailures[key] ?? 0)
      if now < low || now > high {
        problems.append(
          "failed sign-ins of \(key.user) (\(key.kind)): \(now), expected \(low)...\(high)")
      }
    }

    // The audit trail: nothing lost, nothing repeated, every acknowledged event there, and
    // every new event from a live commit.
    if auditEventCount != audit.count {
      problems.append(
        "the audit trail repeats events: \(auditEventCount) events, \(audit.count) ids")
    }
    let lost = previous.audit.subtracting(audit)
    if !lost.isEmpty {
      problems.append("\(lost.count) audit events of earlier trials are gone")
    }
    let liveEvents = Set(live.compactMap(\.event))
    for attempt in live where log.isAcknowledged(attempt) {
      if let event = attempt.event, !audit.contains(event) {
        problems.append("the audit event of acknowledged commit \(attempt.number) is missing")
      }
    }
    let unexplained = audit.subtracting(previous.audit).subtracting(liveEvents)
    if !unexplained.isEmpty {
      problems.append("\(unexplained.count) audit events no live commit wrote")
    }

    // The directory's invariants.
    let usernames = Set(users.values.map(\.username.canonical))
    if usernames.count != users.count { problems.append("usernames are not unique") }
    if !users.isEmpty && !users.values.contains(where: \.isActiveAdmin) {
      problems.append("no active administrator")
    }
    for user in users.values {
      for policy in user.policies where policies[policy] == nil {
        problems.append("\(user.id) holds policy \(policy), which does not exist")
      }
    }
    return problems
  }

  private func userProblems(_ previous: Observed, _ log: ChildLog, _ live: [ChildLog.Attempt])
    -> [String]
  {
    var problems: [String] = []
    var attempted: [UserID: [ChildLog.Attempt]] = [:]
    for attempt in live {
      if case .user(let id, _, _, _, _) = attempt.change {
        attempted[id, default: []].append(attempt)
      }
    }
    for id in Set(users.keys).union(previous.users.keys).union(attempted.keys) {
      let tries = attempted[id] ?? []
      let versions = tries.compactMap { attempt -> (UInt64, Bool)? in
        guard case .user(_, let version, _, _, _) = attempt.change else { return nil }
        return (version, log.isAcknowledged(attempt))
      }
      let acknowledged = versions.filter(\.1).map(\.0).max()
      let before = previous.users[id]
      guard let now = users[id] else {
        if before != nil { problems.append("user \(id) vanished") }
        if let acknowledged {
          problems.append("user \(id): acknowledged version \(acknowledged) lost, user missing")
        }
        continue
      }
      if let acknowledged, now.version < acknowledged {
        problems.append(
          "user \(id): acknowledged version \(acknowledged) lost, store has \(now.version)")
      }
      if let before, before == now { continue }
      if now.version <= before?.version ?? 0 {
        problems.append(
          "user \(id) changed without a newer version: \(String(describing: before)) -> \(now)")
        continue
      }
      let written = tries.contains { attempt in
        guard case .user(_, let version, let firstName, let status, let role) = attempt.change
        else { return false }
        return version == now.version && firstName == now.firstName
          && status == now.status.rawValue && role == now.role.rawValue
      }
      if !written {
        problems.append("user \(id) at version \(now.version) is no live commit's: \(now)")
      }
    }
    return problems
  }

  private func policyProblems(
    _ previous: Observed, _ log: ChildLog, _ live: [ChildLog.Attempt]
  ) -> [String] {
    var problems: [String] = []
    var puts: [PolicyID: [(version: UInt64, name: String, acknowledged: Bool)]] = [:]
    var deletes: [PolicyID: Bool] = [:]  // Whether a live delete was acknowledged.
    for attempt in live {
      switch attempt.change {
      case .policy(let id, let version, let name):
        puts[id, default: []].append((version, name, log.isAcknowledged(attempt)))
      case .policyDelete(let id, _):
        deletes[id] = (deletes[id] ?? false) || log.isAcknowledged(attempt)
      default:
        break
      }
    }
    let ids = Set(policies.keys).union(previous.policies.keys).union(puts.keys).union(
      deletes.keys)
    for id in ids {
      let acknowledged = (puts[id] ?? []).filter(\.acknowledged).map(\.version).max()
      let before = previous.policies[id]
      guard let now = policies[id] else {
        // Gone: only a live delete may have removed it.
        if (before != nil || acknowledged != nil) && deletes[id] == nil {
          problems.append("policy \(id) vanished without a delete")
        }
        continue
      }
      if deletes[id] == true { problems.append("policy \(id): acknowledged delete lost") }
      if let acknowledged, now.version < acknowledged {
        problems.append(
          "policy \(id): acknowledged version \(acknowledged) lost, store has \(now.version)")
      }
      if let before, before == now { continue }
      let written = (puts[id] ?? []).contains { $0.version == now.version && $0.name == now.name }
      if now.version <= before?.version ?? 0 || !written {
        problems.append(
          "policy \(id) at version \(now.version) is no live commit's: "
            + "\(String(describing: before)) -> \(now)")
      }
    }
    return problems
  }
}

/// Counts for the summary line.
struct Totals {
  var acked = 0
  var refused = 0
  var inFlight = 0
  var killedBeforeReady = 0
  var killedMidCompaction = 0
  var compactions: UInt64 = 0

  mutating func add(
    _ log: ChildLog, killedBeforeReady: Bool, midCompaction: Bool, compactions: UInt64
  ) {
    killedMidCompaction += midCompaction ? 1 : 0
    acked += log.acknowledged.count
    refused += log.refused.count
    inFlight += log.attempts.count - log.acknowledged.count - log.refused.count
    self.killedBeforeReady += killedBeforeReady ? 1 : 0
    self.compactions += compactions
  }
}
