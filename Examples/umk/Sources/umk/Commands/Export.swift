import ArgumentParser
import Foundation
import UserManagementKit

extension UMK {
  /// `umk export`: every user as JSON Lines.
  struct Export: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Print every user as JSON Lines, the format `umk import` reads.",
      discussion: """
        Password hashes allow offline guessing: with --include-hashes, treat the output like \
        the store itself. API passwords are never exported. With --json, one document \
        {"users": […]} instead of lines.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--include-hashes`.
    @Flag(help: "Include the login password hashes.") var includeHashes = false
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Prints the users: one `PortableUser` per line, or one document with `--json`.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let users = try await context.directory.exportUsers(
        includingPasswordHashes: includeHashes, by: context.principal)
      if context.json {
        Output.document(ExportOutput(users: users))
        return
      }
      // Each line is the user's own Codable form (what `PortableUser(jsonLine:)` reads),
      // encoded with sorted keys so that two exports of the same store are the same bytes.
      let encoder = Output.encoder()
      var text: [UInt8] = []
      for user in users {
        text += try encoder.encode(user)
        text.append(UInt8(ascii: "\n"))
      }
      Output.raw(text)
    }
  }
}
