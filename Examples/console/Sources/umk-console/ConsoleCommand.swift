import ArgumentParser
import Foundation
import Hummingbird
import Logging
import UMKConsole
import UserManagementKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `umk-console`: serves the web console on a file-backed directory.
@main
struct ConsoleCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "umk-console",
    abstract: "Serve the user-management web console on a file store.",
    discussion: """
      On an empty store, name the first administrator with --admin-username (and their names);
      their password is read from standard input with --password-stdin, or generated and
      printed once.
      """)

  @Option(help: "The store directory (created if missing).")
  var store: String

  @Option(help: "The address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "The port to listen on.")
  var port = 8080

  @Option(help: "The path prefix the console lives under, such as /console.")
  var prefix = ""

  @Option(help: "The first administrator's username (e-mail), used only on an empty store.")
  var adminUsername: String?

  @Option(help: "The first administrator's first name.")
  var adminFirstName = "Admin"

  @Option(help: "The first administrator's last name.")
  var adminLastName = "User"

  @Flag(help: "Read the first administrator's password from standard input (one line).")
  var passwordStdin = false

  @Option(help: "Users per page on the Administration page.")
  var pageSize = 50

  @Option(help: "Failed sign-ins allowed per username before delays begin.")
  var signInFreeAttempts = 5

  @Option(
    help: "The first delay after the free attempts, in seconds; it doubles with each failure.")
  var signInDelay = 1

  @Flag(help: "Mark cookies Secure (when a TLS proxy is in front).")
  var secureCookies = false

  @Option(help: "The log level: trace, debug, info, notice, warning, error or critical.")
  var logLevel = "info"

  func run() async throws {
    var logger = Logger(label: "umk-console")
    logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
    let signInLogger = logger
    let keyring = try SecretKeyring(environment: ProcessInfo.processInfo.environment)
    if keyring == nil {
      logger.warning(
        """
        UMK_SECRET_KEY is not set: authenticator secrets of two-factor sign-in are stored \
        unsealed, protected only by the store's file permissions.
        """)
    }
    let directory = UserDirectory(
      store: try FileDirectoryStore(directory: store),
      configuration: UserDirectory.Configuration(
        loginThrottle: LoginThrottlePolicy(
          freeAttempts: signInFreeAttempts, baseDelay: .seconds(max(1, signInDelay))),
        signInObserver: { event in
          signInLogger.info(
            "sign-in",
            metadata: [
              "outcome": "\(event.outcome)", "user": "\(event.userID.map(\.description) ?? "-")",
            ])
        },
        accountSecurity: .init(keyring: keyring)))
    try await bootstrapIfEmpty(directory, logger: logger)
    if !secureCookies && !["127.0.0.1", "::1", "localhost"].contains(host) {
      logger.warning(
        """
        Serving beyond this machine without --secure-cookies: the session cookie is sent over \
        plain HTTP too. Put a TLS proxy in front and pass --secure-cookies.
        """,
        metadata: ["host": "\(host)"])
    }

    // The in-memory session store is a service: it removes expired sessions every 10 minutes.
    let sessions = MemoryPersistDriver()
    let console = UserConsole(
      directory: directory, sessionStorage: sessions,
      configuration: .init(pathPrefix: prefix, secureCookies: secureCookies, pageSize: pageSize),
      logger: logger)
    let router = Router()
    console.addRoutes(to: router)
    // Hummingbird logs "Server started and listening on HOST:PORT" once it is.
    let app = Application(
      router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
      services: [sessions], logger: logger)
    try await app.runService()
  }

  /// Creates the first administrator when the store has no user yet.
  func bootstrapIfEmpty(_ directory: UserDirectory, logger: Logger) async throws {
    let count = try await directory.userCount(by: .system("umk-console"))
    guard count == 0 else {
      if adminUsername != nil {
        logger.notice("The store already has users; --admin-username is ignored.")
      }
      return
    }
    guard let adminUsername else {
      throw ValidationError(
        "The store is empty: name its first administrator with --admin-username EMAIL.")
    }
    let password: NewSecret
    if passwordStdin {
      guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ValidationError("--password-stdin: standard input had no password.")
      }
      password = .typed(Secret(line))
    } else {
      password = .generated
    }
    let result = try await directory.bootstrap(
      NewUser(
        username: adminUsername, firstName: adminFirstName, lastName: adminLastName,
        password: password, role: .admin))
    logger.notice("Created the first administrator", metadata: ["user": "\(result.user.username)"])
    if let generated = result.generatedPassword {
      // Printed once, to standard output only (never to the log).
      print("Generated password for \(result.user.username): \(generated.revealForDisplay())")
    }
  }
}
