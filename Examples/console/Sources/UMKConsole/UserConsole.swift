public import Hummingbird
public import Logging
public import UserManagementKit

/// The web console: the Administration pages of a ``UserDirectory``, served by Hummingbird.
///
/// A host mounts the console's routes on its own router:
///
/// ```swift
/// let console = UserConsole(
///   directory: directory, sessionStorage: MemoryPersistDriver(),
///   configuration: .init(pathPrefix: "/console"))
/// let router = Router()
/// console.addRoutes(to: router)
/// ```
///
/// Every page re-reads the signed-in user and ends the session when their security stamp
/// changed (deactivation, password reset, role change), so such changes take effect on the
/// very next request, in every process sharing the store. Every form carries a CSRF token and
/// every unsafe request must come from the console's own origin (Fetch Metadata). Pages are
/// server-rendered HTML with no script at all, under a Content-Security-Policy that allows none.
public struct UserConsole: Sendable {
  /// Settings of the console.
  public struct Configuration: Sendable {
    /// The path the console's pages live under, such as `/console`, or `""` for the root.
    public var pathPrefix: String
    /// Whether cookies carry the `Secure` attribute: turn it on whenever the console is served
    /// over TLS (directly or behind a proxy that terminates it).
    public var secureCookies: Bool
    /// How long a session lasts after sign-in.
    public var sessionDuration: Duration
    /// The name of the session cookie, before its prefix (see ``sentCookieName``).
    public var cookieName: String
    /// Users listed per page on the Administration page.
    public var pageSize: Int

    /// Creates settings.
    ///
    /// - Parameters:
    ///   - pathPrefix: The path prefix (default none).
    ///   - secureCookies: Whether cookies are `Secure` (default off, for plain-HTTP loopback).
    ///   - sessionDuration: The session lifetime (default 8 hours).
    ///   - cookieName: The session cookie's name, before its prefix (default `umk_console`).
    ///   - pageSize: Users per page (default 50).
    public init(
      pathPrefix: String = "", secureCookies: Bool = false,
      sessionDuration: Duration = .seconds(8 * 3600), cookieName: String = "umk_console",
      pageSize: Int = 50
    ) {
      var prefix = pathPrefix
      while prefix.hasSuffix("/") { prefix.removeLast() }
      if !prefix.isEmpty && !prefix.hasPrefix("/") { prefix = "/" + prefix }
      self.pathPrefix = prefix
      self.secureCookies = secureCookies
      self.sessionDuration = sessionDuration
      self.cookieName = cookieName
      self.pageSize = min(max(pageSize, 1), UserQuery.maximumLimit)
    }

    /// The session cookie's name as the console sends it. With `Secure` cookies it is
    /// ``cookieName`` prefixed `__Host-`, and the console's cookies are scoped to the whole
    /// host (``cookiePath`` is `/`, whatever the prefix) with no `Domain`: browsers then accept
    /// them only from a secure page of this very host, so no page on a sibling subdomain or on
    /// plain HTTP can plant or overwrite them (cookie tossing into another session). Without
    /// `Secure` cookies (plain-HTTP loopback) no prefix is allowed, and the name is
    /// ``cookieName`` as it is. A prefix given in ``cookieName`` is replaced, never doubled.
    /// The sign-in form's cookie is this name with `_signin`. Two consoles on one host need
    /// different ``cookieName``s.
    public var sentCookieName: String {
      var name = Substring(cookieName)
      for prefix in ["__Host-", "__Secure-"] where name.hasPrefix(prefix) {
        name = name.dropFirst(prefix.count)
      }
      return secureCookies ? "__Host-" + name : String(name)
    }

    /// The `Path` of the console's cookies: `/` with `Secure` cookies (a `__Host-` cookie
    /// must have it), otherwise ``pathPrefix`` (or `/` at the root).
    public var cookiePath: String {
      secureCookies || pathPrefix.isEmpty ? "/" : pathPrefix
    }
  }

  let app: ConsoleApp

  /// Creates the console over a directory.
  ///
  /// - Parameters:
  ///   - directory: The user directory the pages administer.
  ///   - sessionStorage: Where sessions live (for example `MemoryPersistDriver()`; a shared
  ///     driver lets several processes serve one console).
  ///   - configuration: The settings.
  ///   - logger: Where the console logs sign-ins and failures (never a secret).
  public init(
    directory: UserDirectory, sessionStorage: any PersistDriver,
    configuration: Configuration = Configuration(),
    logger: Logger = Logger(label: "UserManagementKit.console")
  ) {
    app = ConsoleApp(
      directory: directory, sessionStorage: sessionStorage, configuration: configuration,
      logger: logger)
  }

  /// Adds the console's pages to a router, under ``Configuration/pathPrefix``.
  ///
  /// - Parameter router: The host's router; any request context works.
  public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
    app.addRoutes(to: router)
  }
}
