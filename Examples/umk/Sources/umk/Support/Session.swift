import ArgumentParser
import Foundation
import UserManagementKit

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The store directory (default: $UMK_STORE, else ./umk-store).",
      valueName: "dir"))
  var store: String?

  @Flag(help: "Print one JSON document on standard output; errors as JSON on standard error.")
  var json = false

  /// The store directory: `--store`, else `$UMK_STORE`, else `./umk-store`.
  var storePath: String {
    if let store { return store }
    if let fromEnvironment = ProcessInfo.processInfo.environment["UMK_STORE"],
      !fromEnvironment.isEmpty
    {
      return fromEnvironment
    }
    return "./umk-store"
  }
}

/// Opens the store. The one place that knows which store implementation `umk` uses.
///
/// - Parameter path: The store directory; created (mode 0700) if missing.
/// - Returns: The store.
/// - Throws: ``UserManagementError`` when the store cannot be opened.
func openStore(at path: String) throws(UserManagementError) -> any DirectoryStore {
  try FileDirectoryStore(directory: path)
}

/// Closes a store opened by ``openStore(at:)``.
func closeStore(_ store: any DirectoryStore) {
  (store as? FileDirectoryStore)?.close()
}

/// An open store and the directory over it, for one command.
struct Session {
  let path: String
  let store: any DirectoryStore
  let directory: UserDirectory

  /// Opens the store named by the options.
  ///
  /// - Parameters:
  ///   - options: The global options.
  ///   - creating: Whether a missing store directory is created (`init`, `demo`); otherwise a
  ///     missing store is a store error, so that a mistyped `--store` does not create one.
  /// - Returns: The session.
  /// - Throws: A store ``Failure`` (exit status 74) when the store cannot be opened.
  static func open(_ options: GlobalOptions, creating: Bool = false) throws(Failure) -> Session {
    try open(path: options.storePath, creating: creating)
  }

  static func open(path: String, creating: Bool) throws(Failure) -> Session {
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    if exists && !isDirectory.boolValue {
      throw Failure.store("\(path) is not a directory.")
    }
    if !exists && !creating {
      throw Failure.store("There is no store at \(path); create one with `umk init`.")
    }
    do {
      let store = try openStore(at: path)
      return Session(path: path, store: store, directory: UserDirectory(store: store))
    } catch {
      throw Failure(error)
    }
  }

  func close() {
    closeStore(store)
  }

  /// Runs `body` with the session, closing the store afterwards whatever happens.
  static func with<T>(
    _ options: GlobalOptions, creating: Bool = false,
    _ body: (Session) async throws -> T
  ) async throws -> T {
    let session = try open(options, creating: creating)
    defer { session.close() }
    return try await body(session)
  }

  // MARK: Resolving names

  /// The principal named by `--as`: the user with that username. The library then checks
  /// that they are active (and an administrator where required).
  ///
  /// The lookup reads the store directly, as a host maps its signed-in user to an id: `--as`
  /// is not authenticated, which is why the store's permissions are the security boundary.
  func principal(_ username: String) async throws(Failure) -> Principal {
    guard let user = try await profile(username) else {
      throw Failure(
        code: "not_authorized", message: "No user named \(username) may act.",
        status: .refused)
    }
    return .user(user.id)
  }

  /// A user by username, read from the store without a principal (see
  /// ``principal(_:)``), or `nil`.
  func profile(_ username: String) async throws(Failure) -> User? {
    do {
      return try await store.profile(usernameKey: Username.canonicalize(username))
    } catch let error as UserManagementError {
      throw Failure(error)
    } catch {
      throw Failure.store("The store failed (\(type(of: error))).")
    }
  }

  /// A user's id for a command that names a target user, read as `principal` reads.
  func userID(_ username: String, by principal: Principal) async throws(Failure) -> UserID {
    do {
      return try await directory.user(named: username, by: principal).id
    } catch {
      throw Failure(error)
    }
  }

  /// Policy names by id, for output; empty if the principal may not read the catalog.
  func policyNames(by principal: Principal) async -> [PolicyID: String] {
    guard let policies = try? await directory.policies(by: principal) else { return [:] }
    return Dictionary(policies.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
  }

  /// Policy ids for names (case-insensitively).
  func policyIDs(_ names: [String], by principal: Principal) async throws(Failure)
    -> Set<PolicyID>
  {
    var ids = Set<PolicyID>()
    for name in names {
      do {
        ids.insert(try await directory.policy(named: name, by: principal).id)
      } catch {
        throw Failure(error)
      }
    }
    return ids
  }
}
