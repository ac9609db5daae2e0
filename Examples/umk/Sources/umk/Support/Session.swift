import Foundation
import UserManagementKit

/// Opens the store. The one place that knows which store implementation `umk` uses.
///
/// - Parameter path: The store directory; created (mode 0700) if missing.
/// - Returns: The store.
/// - Throws: ``UserManagementError`` when the store cannot be opened.
func openStore(at path: String) throws(UserManagementError) -> any DirectoryStore {
  try FileDirectoryStore(directory: path)
}

/// Closes a store opened by ``openStore(at:)``.
///
/// - Parameter store: The store.
func closeStore(_ store: any DirectoryStore) {
  (store as? FileDirectoryStore)?.close()
}

/// An open store and the directory over it, for one command.
struct Session {
  /// The store directory.
  let path: String
  /// The store.
  let store: any DirectoryStore
  /// The directory over the store.
  let directory: UserDirectory

  /// Opens the store at a path.
  ///
  /// - Parameters:
  ///   - path: The store directory.
  ///   - creating: Whether a missing store directory is created (`init`, `demo`); otherwise a
  ///     missing store is a store error, so that a mistyped `--store` does not create one.
  ///   - logSignIns: Whether sign-in outcomes are written to standard error (text mode; a
  ///     `--json` run keeps standard error for its one error document).
  /// - Returns: The session.
  /// - Throws: A store ``Failure`` (exit status 74) when the store cannot be opened.
  static func open(path: String, creating: Bool, logSignIns: Bool = false) throws(Failure)
    -> Session
  {
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    if exists && !isDirectory.boolValue {
      throw Failure(.storageFailure, "\(path) is not a directory.")
    }
    if !exists && !creating {
      throw Failure(.storageFailure, "There is no store at \(path); create one with `umk init`.")
    }
    let firebase = try firebaseParameters()
    let keyring = try secretKeyring()
    do {
      let store = try openStore(at: path)
      // Sign-ins change nothing the audit trail records, so their outcomes go to standard
      // error, one line each, for the operator's security log (never a secret or username).
      var configuration = UserDirectory.Configuration()
      configuration.accountSecurity.keyring = keyring
      if let firebase {
        configuration.passwordHasher = MigratingPasswordHasher(firebase: firebase)
      }
      if logSignIns {
        configuration.signInObserver = { event in Output.error("umk: \(event)") }
      }
      return Session(
        path: path, store: store,
        directory: UserDirectory(store: store, configuration: configuration))
    } catch {
      throw Failure(error)
    }
  }

  /// A Firebase project's password-hash parameters, from the environment:
  /// `UMK_FIREBASE_SIGNER_KEY` and `UMK_FIREBASE_SALT_SEPARATOR` (base64, as the Firebase
  /// console shows them), `UMK_FIREBASE_ROUNDS` and `UMK_FIREBASE_MEM_COST`. With them, users
  /// imported from Firebase can be imported and sign in (and are rehashed as they do); the
  /// signer key is a secret of the project, so it is never taken from the command line.
  ///
  /// - Returns: The parameters, or `nil` when `UMK_FIREBASE_SIGNER_KEY` is not set.
  /// - Throws: A usage ``Failure`` when they are incomplete or invalid.
  static func firebaseParameters() throws(Failure) -> FirebaseScryptParameters? {
    let environment = ProcessInfo.processInfo.environment
    guard let signerKey = environment["UMK_FIREBASE_SIGNER_KEY"] else { return nil }
    guard let separator = environment["UMK_FIREBASE_SALT_SEPARATOR"],
      let rounds = environment["UMK_FIREBASE_ROUNDS"].flatMap(Int.init),
      let memoryCost = environment["UMK_FIREBASE_MEM_COST"].flatMap(Int.init)
    else {
      throw Failure.usage(
        "UMK_FIREBASE_SIGNER_KEY needs UMK_FIREBASE_SALT_SEPARATOR, UMK_FIREBASE_ROUNDS and "
          + "UMK_FIREBASE_MEM_COST too.")
    }
    do {
      return try FirebaseScryptParameters(
        base64SignerKey: signerKey, base64SaltSeparator: separator, rounds: rounds,
        memoryCost: memoryCost)
    } catch {
      throw Failure.usage("The Firebase hash parameters are invalid: \(error.message)")
    }
  }

  /// The keyring that seals authenticator secrets, from the environment (`UMK_SECRET_KEY` and
  /// `UMK_PREVIOUS_SECRET_KEYS`, see `SecretKeyring.init(environment:)`); without it they are
  /// stored unsealed. Every process that opens the store needs the same keys.
  ///
  /// - Returns: The keyring, or `nil` when `UMK_SECRET_KEY` is not set.
  /// - Throws: A usage ``Failure`` when a key is malformed (the message never shows it).
  static func secretKeyring() throws(Failure) -> SecretKeyring? {
    do {
      return try SecretKeyring(environment: ProcessInfo.processInfo.environment)
    } catch {
      throw Failure.usage(error.message)
    }
  }

  /// Closes the store.
  func close() {
    closeStore(store)
  }

  // MARK: Resolving names

  /// The principal named by `--as`: the user with that username. The library then checks
  /// that they are active (and an administrator where required).
  ///
  /// The lookup reads the store directly, as a host maps its signed-in user to an id: `--as`
  /// is not authenticated, which is why the store's permissions are the security boundary.
  ///
  /// - Parameter username: The acting user's username.
  /// - Returns: The principal.
  /// - Throws: `not_authorized` when no such user exists.
  func principal(_ username: String) async throws(Failure) -> Principal {
    guard let user = try await profile(username) else {
      throw Failure(.notAuthorized, "No user named \(username) may act.")
    }
    return .user(user.id)
  }

  /// A user by username, read from the store without a principal (see ``principal(_:)``).
  ///
  /// - Parameter username: The username, in any case.
  /// - Returns: The user, or `nil`.
  /// - Throws: A store ``Failure``.
  func profile(_ username: String) async throws(Failure) -> User? {
    do {
      return try await store.profile(usernameKey: Username.canonicalize(username))
    } catch let error as UserManagementError {
      throw Failure(error)
    } catch {
      throw Failure(.storageFailure, "The store failed (\(type(of: error))).")
    }
  }

  /// A user's id for a command that names a target user, read as `principal` may read it.
  ///
  /// - Parameters:
  ///   - username: The username.
  ///   - principal: Who reads.
  /// - Returns: The user's id.
  /// - Throws: The library's refusal.
  func userID(_ username: String, by principal: Principal) async throws(Failure) -> UserID {
    do {
      return try await directory.user(named: username, by: principal).id
    } catch {
      throw Failure(error)
    }
  }

  /// Policy names by id, for output; empty if the principal may not read the catalog.
  ///
  /// - Parameter principal: Who reads.
  /// - Returns: The names by id.
  func policyNames(by principal: Principal) async -> [PolicyID: String] {
    guard let policies = try? await directory.policies(by: principal) else { return [:] }
    return Dictionary(policies.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
  }

  /// Policy ids for names (case-insensitively).
  ///
  /// - Parameters:
  ///   - names: The names.
  ///   - principal: Who reads.
  /// - Returns: The ids.
  /// - Throws: `policy_not_found` for an unknown name.
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

  // MARK: Printing users

  /// Prints a user (and a generated secret, this once): `{"user":…}` with `--json`, else a
  /// summary line.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - principal: Who reads (for the policy names).
  ///   - json: Whether `--json` was given.
  ///   - verb: What happened (`Added`, `Updated`, …), for the text output.
  ///   - generated: The generated password or API password.
  func show(
    _ user: User, by principal: Principal, json: Bool, verb: String?,
    generated: GeneratedSecret? = nil
  ) async {
    let names = await policyNames(by: principal)
    if json {
      Output.document(
        UserResultOutput(user: UserOutput(user, policyNames: names), generated: generated))
      return
    }
    if let verb { Output.line("\(verb) \(user.username)") }
    Output.dataLine(UserOutput.summary(user, policyNames: names))
    switch generated {
    case .password(let secret):
      Output.line("Generated password (shown once): \(secret.revealForDisplay())")
      if user.mustChangePassword && verb != nil {
        Output.line("The user must change this password at the next sign-in.")
      }
    case .apiPassword(let secret):
      Output.line("Generated API password (shown once): \(secret.revealForDisplay())")
    case nil:
      break
    }
  }
}

/// A password or API password that the library generated: printed once, then gone.
enum GeneratedSecret {
  /// A login password.
  case password(Secret)
  /// An API password.
  case apiPassword(Secret)
}
