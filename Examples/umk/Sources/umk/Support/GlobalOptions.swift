import ArgumentParser
import Foundation

/// `--store` and `--json`: the options every command takes.
struct GlobalOptions: ParsableArguments {
  /// `--store DIR`, when given.
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The store directory (default: $UMK_STORE, else ./umk-store).",
      valueName: "dir"))
  var store: String?

  /// `--json`: one JSON document on standard output, errors as JSON on standard error.
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

/// `--as EMAIL`: the acting user of an operator command (see ``OperatorCommand``).
struct ActingOptions: ParsableArguments {
  /// The acting user's username.
  @Option(
    name: .customLong("as"),
    help: ArgumentHelp(
      "The acting user. Not authenticated: the store's file permissions are the boundary.",
      valueName: "email"))
  var username: String
}

/// What can be read of a command line that did not parse: the global options, found by the
/// same parser and the same ``GlobalOptions`` declaration, everything else set aside.
///
/// `main` parses this only after the real parse failed, to decide whether to report the usage
/// error as JSON. It honours what the parser honours (`--` ends the options, `--json` is a
/// flag, not a value); if even this lenient parse fails, the error is reported as text.
struct UnparsedCommandLine: ParsableArguments {
  /// The global options, as far as they parse.
  @OptionGroup var global: GlobalOptions

  /// Every other argument, unread.
  @Argument(parsing: .allUnrecognized) var others: [String] = []
}
