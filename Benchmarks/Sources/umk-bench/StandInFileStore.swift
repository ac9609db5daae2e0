import Foundation
import UserManagementKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A temporary stand-in with `FileDirectoryStore`'s API, used only until that store lands:
/// an `InMemoryDirectoryStore` that appends every commit to a log as one JSON line and fsyncs
/// it, and replays the log when opened. No group commit, no compaction. It exists so that the
/// store benchmarks can be developed end to end; its figures mean nothing.
final class StandInFileStore: DirectoryStore, @unchecked Sendable {
  /// Options (none).
  struct Options: Sendable {}

  private struct Entry: Codable {
    var users: [UserRecord]
    var policies: [Policy]
    var auditEvents: [AuditEvent]
  }

  private let memory = InMemoryDirectoryStore()
  private let lock = NSLock()
  private let descriptor: Int32

  /// Opens the store in `directory`, creating it if missing.
  ///
  /// - Parameters:
  ///   - directory: The directory.
  ///   - options: Options.
  /// - Throws: ``UserManagementError`` with code `storageFailure`.
  init(directory: String, options: Options = Options()) throws(UserManagementError) {
    let path = directory + "/log.jsonl"
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700])
    } catch {
      throw UserManagementError(.storageFailure, "cannot create \(directory)")
    }
    if let data = FileManager.default.contents(atPath: path) {
      let decoder = JSONDecoder()
      var decoded: [Entry] = []
      for line in data.split(separator: UInt8(ascii: "\n")) {
        guard let entry = try? decoder.decode(Entry.self, from: line) else {
          throw UserManagementError(.storageFailure, "a log line does not decode")
        }
        decoded.append(entry)
      }
      let entries = decoded
      let memory = memory
      let replay = { @Sendable () async throws in
        for entry in entries {
          try await memory.commit(
            ChangeSet(users: entry.users, policies: entry.policies.map { .put($0) }))
        }
      }
      let done = DispatchSemaphore(value: 0)
      let failure = FailureBox()
      Task {
        do { try await replay() } catch { failure.set() }
        done.signal()
      }
      done.wait()
      if failure.failed { throw UserManagementError(.storageFailure, "the log does not replay") }
    }
    descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    if descriptor < 0 { throw UserManagementError(.storageFailure, "cannot open \(path)") }
  }

  private final class FailureBox: @unchecked Sendable {
    var failed = false
    func set() { failed = true }
  }

  /// Does nothing.
  func compact() async throws(UserManagementError) {}

  /// Closes the log.
  func close() {
    Glibc.close(descriptor)
  }

  func commit(_ changes: ChangeSet) async throws {
    try await memory.commit(changes)
    let entry = Entry(
      users: changes.users,
      policies: changes.policies.compactMap {
        if case .put(let policy) = $0 { return policy }
        return nil
      }, auditEvents: changes.auditEvents)
    var line = try JSONEncoder().encode(entry)
    line.append(UInt8(ascii: "\n"))
    let descriptor = descriptor
    let ok = lock.withLock {
      let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      return written == line.count && fsync(descriptor) == 0
    }
    guard ok else {
      throw UserManagementError(.storageFailure, "cannot append to the log")
    }
  }

  func user(id: UserID) async throws -> UserRecord? { await memory.user(id: id) }
  func user(usernameKey: String) async throws -> UserRecord? {
    await memory.user(usernameKey: usernameKey)
  }
  func users(matching query: UserQuery) async throws -> UserPage {
    await memory.users(matching: query)
  }
  func countUsers(matching filter: UserFilter) async throws -> Int {
    await memory.countUsers(matching: filter)
  }
  func loginThrottle(for user: UserID, kind: CredentialKind) async throws -> LoginThrottleState {
    await memory.loginThrottle(for: user, kind: kind)
  }
  func policy(id: PolicyID) async throws -> Policy? { await memory.policy(id: id) }
  func policy(nameKey: String) async throws -> Policy? { await memory.policy(nameKey: nameKey) }
  func policies() async throws -> [Policy] { await memory.policies() }
  func auditEvents(matching query: AuditQuery) async throws -> [AuditEvent] {
    await memory.auditEvents(matching: query)
  }
  func subscribeToAuditEvents() -> AsyncStream<AuditEvent> { memory.subscribeToAuditEvents() }
}
