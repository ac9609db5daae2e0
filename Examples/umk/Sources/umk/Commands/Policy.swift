import ArgumentParser
import Foundation
import UserManagementKit

extension UMK {
  /// `umk policy …`: the access-control policy catalog.
  struct Policy: AsyncParsableCommand {
    /// The group's help and commands.
    static let configuration = CommandConfiguration(
      abstract: "Import, export, list, show and remove policies.",
      subcommands: [Import.self, Export.self, List.self, Show.self, Remove.self])
  }
}

extension UMK.Policy {
  /// `umk policy import`.
  struct Import: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Import policies from the console's JSON (one document or an array).",
      discussion: """
        All or nothing: documents whose name matches an existing policy replace its content; \
        the others are created. FILE may be - for standard input.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The JSON file.
    @Argument(help: ArgumentHelp("The JSON file.", valueName: "file")) var file: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Imports the policies and prints them.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `invalid_policy` (exit 65), `unreadable_input` (exit 65), the library's
    ///   refusals.
    func run(in context: OperatorContext) async throws {
      let data = try InputFile.read(file)
      let policies = try await context.directory.importPolicies(
        try PolicyDocument.decodeList(from: data), by: context.principal)
      if context.json {
        Output.document(PolicyListOutput(policies: policies.map(PolicyOutput.init)))
        return
      }
      for policy in policies {
        Output.dataLine("Imported policy \"\(policy.name)\" (version \(policy.version))")
      }
    }
  }

  /// `umk policy export`.
  struct Export: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Print policies as the console's JSON (all of them, as an array, or one).")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// Only this policy.
    @Argument(help: ArgumentHelp("Only this policy.", valueName: "name")) var name: String?
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Prints the documents, in the shape `policy import` reads, with or without `--json`.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      if let name {
        // One document for one name, in the same shape `policy import` reads.
        let document = try await context.directory.policy(named: name, by: context.principal)
          .document
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        Output.line(String(decoding: try encoder.encode(document), as: UTF8.self))
      } else {
        let documents = try await context.directory.policies(by: context.principal)
          .map(\.document)
        Output.line(String(decoding: PolicyDocument.encodeList(documents), as: UTF8.self))
      }
    }
  }

  /// `umk policy list`.
  struct List: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(abstract: "List the policies, by name.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Prints the policies.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let policies = try await context.directory.policies(by: context.principal)
      if context.json {
        Output.document(PolicyListOutput(policies: policies.map(PolicyOutput.init)))
        return
      }
      for policy in policies {
        let count = policy.permissions.count
        Output.dataLine(
          "\(policy.name) — \(policy.description) (\(count) permission\(count == 1 ? "" : "s"))")
      }
      if policies.isEmpty { Output.line("No policies.") }
    }
  }

  /// `umk policy show`.
  struct Show: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(abstract: "Show a policy.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The policy.
    @Argument(help: ArgumentHelp("The policy's name.", valueName: "name")) var name: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Prints the policy.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let policy = try await context.directory.policy(named: name, by: context.principal)
      if context.json {
        Output.document(PolicyShowOutput(policy: PolicyOutput(policy)))
        return
      }
      Output.dataLine("\(policy.name) — \(policy.description)")
      Output.line("  id: \(policy.id), version \(policy.version)")
      for (index, permission) in policy.permissions.enumerated() {
        let actions = permission.allowed.map(\.rawValue).joined(separator: ", ")
        let ids = permission.resourceIds.map(\.description).joined(separator: ", ")
        Output.dataLine("  #\(index + 1) \(permission.resourceType): \(actions) on \(ids)")
      }
    }
  }

  /// `umk policy remove`.
  struct Remove: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Delete a policy that no user holds.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The policy.
    @Argument(help: ArgumentHelp("The policy's name.", valueName: "name")) var name: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Deletes the policy.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `policy_in_use` and the library's other refusals.
    func run(in context: OperatorContext) async throws {
      let policy = try await context.directory.policy(named: name, by: context.principal)
      try await context.directory.deletePolicy(policy.id, by: context.principal)
      if context.json {
        Output.document(
          PolicyRemovedOutput(removed: .init(id: policy.id.description, name: policy.name)))
      } else {
        Output.dataLine("Removed policy \"\(policy.name)\"")
      }
    }
  }
}

/// Files named on the command line.
enum InputFile {
  /// Reads a file, or standard input for `-`.
  ///
  /// - Parameter path: The path, or `-`.
  /// - Returns: The bytes.
  /// - Throws: `unreadable_input` (exit 65) when the file cannot be read.
  static func read(_ path: String) throws(Failure) -> [UInt8] {
    if path == "-" {
      return try StandardInput.readAll(limit: 1 << 30)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Failure(.unreadableInput, "\(path) cannot be read.")
    }
    return Array(data)
  }
}
