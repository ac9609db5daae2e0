import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// What a session remembers: nothing secret but the CSRF token; the user is re-read from the
/// directory on every request.
struct ConsoleSession: Codable, Sendable {
  /// The signed-in user, or `nil` between the password step and the code step of a sign-in.
  var userID: String?
  /// The user's security stamp at sign-in.
  var stamp: String?
  /// The synchronizer token every form of this session carries.
  var csrf: String
  /// Between the password step and the code step of a two-factor sign-in: the directory's
  /// challenge. Sessions live on the server, so the token never reaches the browser.
  var challenge: String? = nil
}

/// A request that ends early with a ready response: a redirect, a refusal, a message page.
struct Finished: Error {
  let response: Response
}

/// A signed-in request: the session and the user as the directory has them now.
struct Visitor: Sendable {
  let session: ConsoleSession
  let user: User
  var principal: Principal { .user(user.id) }
  var isAdmin: Bool { user.role == .admin }
  var csrf: String { session.csrf }
}

/// The console's machinery: sessions, CSRF, headers, error pages. The pages are in
/// `Pages/`, one file per area.
final class ConsoleApp: Sendable {
  let directory: UserDirectory
  let sessions: SessionStorage<ConsoleSession>
  let configuration: UserConsole.Configuration
  let logger: Logger
  let drafts = DraftStore()
  let throttle: SignInThrottle

  /// The largest request body accepted (a policy import); forms are far smaller.
  static let maximumBodyBytes = 512 * 1024

  init(
    directory: UserDirectory, sessionStorage: any PersistDriver,
    configuration: UserConsole.Configuration, logger: Logger
  ) {
    self.directory = directory
    self.configuration = configuration
    self.logger = logger
    self.throttle = SignInThrottle(policy: directory.configuration.loginThrottle)
    self.sessions = SessionStorage(
      sessionStorage,
      configuration: SessionStorageConfiguration(
        sessionCookieParameters: SessionCookieParameters(
          name: configuration.sentCookieName,
          path: configuration.cookiePath,
          secure: configuration.secureCookies, sameSite: .strict),
        keyPrefix: "umk-console."))
  }

  /// A path inside the console.
  func path(_ suffix: String) -> String { configuration.pathPrefix + suffix }

  // MARK: Running a handler

  /// Runs a handler, turning every failure into a page: a ``Finished`` response as it is, a
  /// directory error as its message, anything else as a plain "something went wrong" page
  /// (logged, never shown).
  func run(_ request: Request, _ body: () async throws -> Response) async -> Response {
    do {
      return try await body()
    } catch let finished as Finished {
      return finished.response
    } catch let error as UserManagementError {
      return messagePage(
        status: Self.status(for: error), title: "Not done", message: error.message, visitor: nil)
    } catch {
      logger.error(
        "Console request failed",
        metadata: ["path": "\(request.uri.path)", "error": "\(type(of: error))"])
      return messagePage(
        status: .internalServerError, title: "Something went wrong",
        message: "The request could not be completed; nothing is known to have changed. Try again.",
        visitor: nil)
    }
  }

  /// The HTTP status that fits a directory error.
  static func status(for error: UserManagementError) -> HTTPResponse.Status {
    switch error.code {
    case .notAuthorized, .selfModificationForbidden: .forbidden
    case .userNotFound, .policyNotFound: .notFound
    case .versionConflict, .lastActiveAdministrator, .policyInUse, .usernameTaken, .policyNameTaken:
      .conflict
    case .throttled: .tooManyRequests
    case .overloaded: .serviceUnavailable
    case .storageFailure, .corruptStore: .internalServerError
    default: .badRequest
    }
  }

  // MARK: Sessions

  /// The signed-in user, re-read from the directory; ends the session (and redirects to the
  /// sign-in page) when there is none, the user is gone or inactive, or their security stamp
  /// changed since sign-in. Users who must change their password are sent to do so first.
  func visitor(_ request: Request, allowingPendingPasswordChange: Bool = false) async throws
    -> Visitor
  {
    guard let session = try? await sessions.load(request: request), let rawID = session.userID,
      let id = UserID(rawID)
    else {
      throw Finished(response: redirect(to: path("/sign-in")))
    }
    let user: User
    do {
      user = try await directory.user(id, by: .user(id))
    } catch {
      throw Finished(response: await endSession(request, reason: "ended"))
    }
    guard user.status == .active, user.securityStamp.rawValue == session.stamp else {
      throw Finished(response: await endSession(request, reason: "ended"))
    }
    if user.mustChangePassword && !allowingPendingPasswordChange {
      throw Finished(response: redirect(to: path("/account/password")))
    }
    return Visitor(session: session, user: user)
  }

  /// The signed-in administrator; a General User gets a refusal page.
  func admin(_ request: Request) async throws -> Visitor {
    let visitor = try await visitor(request)
    guard visitor.isAdmin else {
      throw Finished(
        response: messagePage(
          status: .forbidden, title: "Administrators only",
          message: "Only administrators can open this page.", visitor: visitor))
    }
    return visitor
  }

  /// Deletes the session and sends the browser to the sign-in page.
  func endSession(_ request: Request, reason: String?) async -> Response {
    var response = redirect(to: path("/sign-in") + (reason.map { "?\($0)=1" } ?? ""))
    if let cookie = try? await sessions.delete(request: request) {
      response.setCookie(cookie)
    }
    return response
  }

  /// Starts a new session (always a new id) and returns its cookie.
  ///
  /// A session before sign-in exists only between a right password and its second factor's
  /// code (the sign-in page itself keeps nothing on the server; see `signInCookie(_:)`), and
  /// lasts 30 minutes at most.
  func startSession(_ session: ConsoleSession, replacing request: Request) async throws -> Cookie {
    _ = try? await sessions.delete(request: request)
    let lifetime =
      session.userID == nil
      ? min(configuration.sessionDuration, .seconds(1800)) : configuration.sessionDuration
    return try await sessions.save(session: session, expiresIn: lifetime)
  }

  // MARK: Unsafe requests

  /// Reads and checks a form post: it must come from this origin (Fetch Metadata), fit the size
  /// limits, and carry the session's CSRF token.
  func form(
    _ request: Request, csrf expected: String, maximumFieldBytes: Int = FormData.maximumFieldBytes,
    visitor: Visitor?
  ) async throws -> FormData {
    try checkFetchMetadata(request, visitor: visitor)
    let body: ByteBuffer
    do {
      body = try await request.body.collect(upTo: Self.maximumBodyBytes)
    } catch {
      throw Finished(
        response: messagePage(
          status: .contentTooLarge, title: "Not done",
          message: "The form is too large; nothing was changed.", visitor: visitor))
    }
    let form: FormData
    do {
      form = try FormData(parsing: body.readableBytesView, maximumFieldBytes: maximumFieldBytes)
    } catch {
      throw Finished(
        response: messagePage(
          status: .badRequest, title: "Not done", message: error.message, visitor: visitor))
    }
    guard Tokens.equal(form["csrf"] ?? "", expected) else {
      logger.notice(
        "Refused a form without a valid CSRF token", metadata: ["path": "\(request.uri.path)"])
      throw Finished(response: forgedRequestPage(visitor: visitor))
    }
    return form
  }

  /// Refuses unsafe requests that a browser says come from another site.
  func checkFetchMetadata(_ request: Request, visitor: Visitor?) throws {
    guard let name = HTTPField.Name("Sec-Fetch-Site"), let site = request.headers[name] else {
      return  // Not a browser that sends Fetch Metadata: the CSRF token still decides.
    }
    guard site == "same-origin" || site == "none" else {
      logger.notice("Refused a cross-site form post", metadata: ["path": "\(request.uri.path)"])
      throw Finished(response: forgedRequestPage(visitor: visitor))
    }
  }

  func forgedRequestPage(visitor: Visitor?) -> Response {
    messagePage(
      status: .forbidden, title: "Request refused",
      message:
        "This form did not come from the console or has expired. Reload the page and try again; nothing was changed.",
      visitor: visitor)
  }

  // MARK: Responses

  /// Headers every console page carries.
  static func securityHeaders(cacheable: Bool = false) -> HTTPFields {
    var headers = HTTPFields()
    headers[.contentSecurityPolicy] =
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
      + "frame-ancestors 'none'; base-uri 'none'"
    if let name = HTTPField.Name("X-Content-Type-Options") { headers[name] = "nosniff" }
    if let name = HTTPField.Name("Referrer-Policy") { headers[name] = "no-referrer" }
    if let name = HTTPField.Name("X-Frame-Options") { headers[name] = "DENY" }
    if let name = HTTPField.Name("Cross-Origin-Opener-Policy") { headers[name] = "same-origin" }
    headers[.cacheControl] = cacheable ? "public, max-age=3600" : "no-store"
    return headers
  }

  func html(_ status: HTTPResponse.Status = .ok, _ document: HTML) -> Response {
    var headers = Self.securityHeaders()
    headers[.contentType] = "text/html; charset=utf-8"
    return Response(
      status: status, headers: headers,
      body: ResponseBody(byteBuffer: ByteBuffer(string: document.markup)))
  }

  func redirect(to location: String) -> Response {
    var headers = Self.securityHeaders()
    headers[.location] = location
    return Response(status: .seeOther, headers: headers)
  }

  func messagePage(
    status: HTTPResponse.Status, title: String, message: String, visitor: Visitor?
  ) -> Response {
    html(
      status,
      layout(
        title: title, visitor: visitor,
        body: """
          <h1>\(title)</h1>
          <p role="alert" class="error">\(message)</p>
          <p><a href="\(path("/"))">Back to the console</a></p>
          """))
  }
}
