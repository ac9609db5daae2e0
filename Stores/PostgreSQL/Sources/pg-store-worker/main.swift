// A worker the tests start as separate processes, each with its own `PostgresClient`, to race
// commits across processes. It waits until a shared start time, acts, and prints one line per
// attempt: `ok` or the error code.
//
//   pg-store-worker SCENARIO URL INDEX START_UNIX_SECONDS [ARGUMENT…]
//
// Scenarios:
//   admins N            admin INDEX deactivates (even INDEX) or demotes (odd INDEX) admin INDEX+1
//                       mod N, acting through a version precondition, as UserDirectory does
//   username ATTEMPTS   tries to insert "race@example.com" (in varying case) ATTEMPTS times
//   assign COUNT        gives the policy named "Contested" to holder-INDEX-k, k < COUNT
//   delete-policy       deletes the policy named "Contested"
//   fail COUNT          records COUNT failed sign-ins for admin0@example.com, one commit each
//   event               commits one audit event about admin0@example.com
//   bump TASKS COUNT    TASKS concurrent tasks each bump the version of target@example.com
//                       COUNT times (read, then commit version + 1 with its audit event,
//                       retrying conflicts); prints one line per bump
import Foundation
import PostgresDirectoryStore
import UserManagementKit

struct WorkerFailure: Error, CustomStringConvertible {
  var description: String
}

func code(of error: any Error) -> String {
  (error as? UserManagementError)?.code.rawValue ?? "other:\(type(of: error))"
}

/// Commits, retrying version conflicts after re-reading (up to `times` times).
func retrying(times: Int = 100, _ attempt: () async throws -> Void) async -> String {
  for _ in 0..<times {
    do {
      try await attempt()
      return "ok"
    } catch let error as UserManagementError where error.code == .versionConflict {
      continue
    } catch {
      return code(of: error)
    }
  }
  return UserManagementError.Code.versionConflict.rawValue
}

func event(_ actor: Principal, _ target: User, _ action: AuditAction) -> AuditEvent {
  AuditEvent(
    id: UUID(), time: Date(), actor: actor,
    target: .user(target.id, username: target.username.rawValue), action: action, changes: [])
}

func run(_ arguments: [String]) async throws {
  guard arguments.count >= 4, let index = Int(arguments[2]), let start = Double(arguments[3])
  else {
    throw WorkerFailure(description: "usage: pg-store-worker SCENARIO URL INDEX START [ARG…]")
  }
  let scenario = arguments[0]
  let url = try PostgresStoreURL(arguments[1])
  let extra = arguments.dropFirst(4).compactMap { Int($0) }
  try await PostgresDirectoryStore.withStore(url: url) { store in
    // Warm the connection, then wait for the common start.
    _ = try await store.profile(usernameKey: "admin0@example.com")
    let delay = start - Date().timeIntervalSince1970
    if delay > 0 { try await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
    switch scenario {
    case "admins":
      let count = extra.first ?? 2
      let outcome = await retrying {
        guard let actor = try await store.user(usernameKey: "admin\(index)@example.com")?.user,
          actor.isActiveAdmin
        else { throw UserManagementError(.notAuthorized, "The actor is no longer an admin.") }
        let targetKey = "admin\((index + 1) % count)@example.com"
        guard var target = try await store.user(usernameKey: targetKey) else {
          throw WorkerFailure(description: "no target")
        }
        let action: AuditAction
        if index % 2 == 0 {
          target.user.status = .inactive
          action = .userDeactivated
        } else {
          target.user.role = .generalUser
          action = .roleChanged
        }
        target.user.version += 1
        try await store.commit(
          ChangeSet(
            preconditions: [.userVersion(actor.id, actor.version)], users: [target],
            auditEvents: [event(.user(actor.id), target.user, action)]))
      }
      print(outcome)
    case "username":
      for attempt in 0..<(extra.first ?? 1) {
        let spelling = attempt % 2 == 0 ? "race@example.com" : "RACE@example.com"
        let username = try Username(spelling)
        let user = User(
          id: UserID(rawValue: UUID()), username: username, firstName: "Race",
          lastName: "W\(index)", status: .active, role: .generalUser, policies: [],
          apiAccessEnabled: false, hasAPIPassword: false, hasPassword: false,
          mustChangePassword: false, version: 1, securityStamp: SecurityStamp(rawValue: "s"),
          createdAt: Date(), updatedAt: Date(), createdBy: .system("worker"))
        do {
          try await store.commit(
            ChangeSet(
              users: [UserRecord(user: user, passwordHash: nil, apiPasswordHash: nil)],
              auditEvents: [event(.system("worker"), user, .userCreated)]))
          print("ok")
        } catch {
          print(code(of: error))
        }
      }
    case "assign":
      for number in 0..<(extra.first ?? 1) {
        let outcome = await retrying {
          guard let policy = try await store.policy(nameKey: "contested") else {
            throw UserManagementError(.policyNotFound, "The policy is gone.")
          }
          guard
            var holder = try await store.user(usernameKey: "holder-\(index)-\(number)@example.com")
          else { throw WorkerFailure(description: "no holder") }
          holder.user.policies.insert(policy.id)
          holder.user.version += 1
          try await store.commit(
            ChangeSet(
              preconditions: [.policyVersion(policy.id, policy.version)], users: [holder],
              auditEvents: [event(.system("worker"), holder.user, .policiesChanged)]))
        }
        print(outcome)
      }
    case "delete-policy":
      let outcome = await retrying {
        guard let policy = try await store.policy(nameKey: "contested") else {
          throw UserManagementError(.policyNotFound, "The policy is gone.")
        }
        try await store.commit(ChangeSet(policies: [.delete(policy.id, version: policy.version)]))
      }
      print(outcome)
    case "fail":
      guard let admin = try await store.profile(usernameKey: "admin0@example.com") else {
        throw WorkerFailure(description: "no admin0")
      }
      for _ in 0..<(extra.first ?? 1) {
        do {
          try await store.commit(
            ChangeSet(throttleUpdates: [
              ThrottleUpdate(user: admin.id, kind: .password, operation: .recordFailure(at: Date()))
            ]))
          print("ok")
        } catch {
          print(code(of: error))
        }
      }
    case "event":
      guard let admin = try await store.profile(usernameKey: "admin0@example.com") else {
        throw WorkerFailure(description: "no admin0")
      }
      try await store.commit(
        ChangeSet(auditEvents: [event(.system("worker-\(index)"), admin, .userUpdated)]))
      print("ok")
    case "bump":
      let tasks = extra.first ?? 1
      let count = extra.dropFirst().first ?? 1
      let outcomes = await withTaskGroup(of: [String].self) { group in
        for task in 0..<tasks {
          group.addTask {
            var lines: [String] = []
            for number in 0..<count {
              lines.append(
                await retrying(times: 10_000) {
                  guard var target = try await store.user(usernameKey: "target@example.com")
                  else { throw WorkerFailure(description: "no target") }
                  target.user.lastName = "W\(index)-\(task)-\(number)"
                  target.user.version += 1
                  try await store.commit(
                    ChangeSet(
                      users: [target],
                      auditEvents: [event(.system("worker-\(index)"), target.user, .userUpdated)]))
                })
            }
            return lines
          }
        }
        var all: [String] = []
        for await lines in group { all += lines }
        return all
      }
      for line in outcomes { print(line) }
    default:
      throw WorkerFailure(description: "unknown scenario \(scenario)")
    }
  }
}

do {
  try await run(Array(CommandLine.arguments.dropFirst()))
} catch {
  FileHandle.standardError.write(Data("pg-store-worker: \(error)\n".utf8))
  exit(1)
}
