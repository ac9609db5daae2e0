import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The README's "Quick start", compiled and run as it is printed.
///
/// The code between the `quick start` markers below is the README's Swift block without its
/// `import UserManagementKit` line. ``readmeShowsThisCode()`` checks that the two are the same
/// text, so the README cannot show code that no longer compiles or runs. It uses the default
/// configuration (Argon2id), which costs about a second per hash in a debug build; the snippet
/// hashes three times.
struct ReadmeQuickStartTests {
  @Test func quickStartRuns() async throws {
    // The snippet may `return` early (when no password was generated); this catches it.
    let progress = Progress()
    defer { #expect(progress.reachedTheEnd) }

    // quick start: begin
    // Users, policies and the audit trail live in a store: here in memory; in files with
    // `try FileDirectoryStore(directory: "/var/lib/myapp/users")` (crash-safe; created 0700, and
    // refused with `insecure_store` if it exists with access for group or others).
    let directory = UserDirectory(store: InMemoryDirectoryStore())

    // The first administrator comes from an explicit bootstrap of an empty directory.
    let ada = try await directory.bootstrap(
      NewUser(
        username: "ada@example.com", firstName: "Ada", lastName: "Lovelace",
        password: .typed(Secret("analytical engine 1843")))
    ).user

    // Every operation names who performs it; the rules are checked inside the library.
    let readers = try await directory.createPolicy(
      PolicyDocument(
        name: "Readers",
        permissions: [
          Permission(resourceType: "dashboard", allowed: [.view], resourceIds: [.any])
        ]),
      by: .user(ada.id))
    let grace = try await directory.addUser(
      NewUser(
        username: "grace@example.com", firstName: "Grace", lastName: "Hopper",
        password: .generated, policies: [readers.id]),
      by: .user(ada.id))
    guard let password = grace.generatedPassword else { return }  // returned once, only here
    print("Give Grace her password once:", password.revealForDisplay())

    // Grace has no second factor, so the password signs her in (see "Two-factor sign-in").
    guard
      case .signedIn(let session) = try await directory.authenticate(
        username: "GRACE@example.com", password: password)
    else { return }
    let allowed = try await directory.isAllowed(
      session.user.id, to: .view, on: Resource(type: "dashboard", id: "sales"))
    print("Grace may view the sales dashboard:", allowed)  // true

    // Nobody deactivates themselves, not even an administrator.
    do {
      try await directory.setStatus(.inactive, of: ada.id, by: .user(ada.id))
    } catch UserManagementError.Code.selfModificationForbidden {
      print("Refused: administrators cannot deactivate themselves.")
    }
    // quick start: end

    // Compared outside the macro: Swift 6.3.1 crashes (MandatoryAllocBoxToStack) on an
    // `#expect(a == b)` over these values after the snippet's typed-throws `do`/`catch`.
    let signedInAsGrace = session.user.id == grace.user.id
    #expect(signedInAsGrace)
    #expect(allowed)
    let stillActive = try await directory.user(ada.id, by: .user(ada.id))
    #expect(stillActive.status == .active)
    progress.reachedTheEnd = true
  }

  @Test func readmeShowsThisCode() throws {
    let testFile = URL(fileURLWithPath: #filePath)
    let root = testFile.deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let readme = try String(
      contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let source = try String(contentsOf: testFile, encoding: .utf8)

    let shown = try #require(Self.swiftBlock(under: "## Quick start", in: readme))
    let tested = try #require(
      Self.lines(of: source, between: "// quick start: begin", and: "// quick start: end"))
    #expect(shown == "import UserManagementKit\n\n" + Self.dedented(tested))
  }

  /// Whether the test got past the snippet.
  final class Progress {
    var reachedTheEnd = false
  }

  /// The first fenced `swift` block after the heading, without its fences.
  static func swiftBlock(under heading: String, in markdown: String) -> String? {
    let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
    guard let headingIndex = lines.firstIndex(where: { $0 == heading }),
      let open = lines[headingIndex...].firstIndex(where: { $0 == "```swift" }),
      let close = lines[(open + 1)...].firstIndex(where: { $0 == "```" })
    else { return nil }
    return lines[(open + 1)..<close].joined(separator: "\n")
  }

  /// The lines strictly between two marker lines (compared after trimming spaces).
  static func lines(of text: String, between begin: String, and end: String) -> [Substring]? {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let trimmed = lines.map { $0.drop(while: { $0 == " " }) }
    guard let start = trimmed.firstIndex(where: { $0 == begin }),
      let stop = trimmed[(start + 1)...].firstIndex(where: { $0 == end })
    else { return nil }
    return Array(lines[(start + 1)..<stop])
  }

  /// The lines without the indentation they all share (blank lines aside), joined.
  static func dedented(_ lines: [Substring]) -> String {
    let indentation =
      lines.filter { !$0.allSatisfy { $0 == " " } }
      .map { $0.prefix(while: { $0 == " " }).count }.min() ?? 0
    return lines.map { String($0.dropFirst(indentation)) }.joined(separator: "\n")
  }
}
