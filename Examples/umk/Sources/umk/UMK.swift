// umk: the user-administration console on a terminal, against the file-backed store.
//
// Every command opens the store named by --store (default $UMK_STORE, else ./umk-store), runs
// one UserDirectory operation, prints the result (as one JSON document with --json) and exits
// with a sysexits status (see ExitStatus). Secrets come only from standard input.

import ArgumentParser
import Foundation
import UserManagementKit

/// The root command; every command is a nested type of its group, every group of `UMK`.
@main
struct UMK: AsyncParsableCommand {
  /// `umk`'s name, help and commands.
  static let configuration = CommandConfiguration(
    commandName: "umk",
    abstract: "Administer a UserManagementKit directory kept in a file-backed store.",
    discussion: """
      SECURITY: the store directory's file permissions are the security boundary. `--as` \
      names the acting user without a password: anyone who can write the store directory \
      can act as every user. Keep it mode 0700, owned by the operator account.

      Secrets are read only from standard input (--password-stdin, --code-stdin, \
      --token-stdin, --key-stdin) or generated (--generate-password, API keys, tokens, \
      recovery codes: printed once); never from arguments or the environment.

      Exit status: 0 success; 1 refused by a rule, denied, or invalid credentials; 64 usage \
      error; 65 malformed input (hash, import file, policy JSON); 74 store error.
      """,
    version: "0.1.0",
    subcommands: [
      Init.self, User.self, API.self, APIKeys.self, Login.self, Passwd.self, PasswordReset.self,
      SecondFactor.self, Policy.self, Authorize.self, Audit.self, Import.self, Export.self,
      Hash.self, Demo.self,
    ]
  )

  /// Parses the command line, runs the command, and exits with the status its outcome calls
  /// for (``ExitStatus``), reporting a failure as JSON when the command has `--json`.
  static func main() async {
    let arguments = Array(CommandLine.arguments.dropFirst())
    var command: any ParsableCommand
    do {
      command = try parseAsRoot(arguments)
    } catch {
      exitAfterParsing(error, arguments: arguments)
    }
    let json = (command as? any UMKCommand)?.global.json ?? false
    do {
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let code as ExitCode {
      Foundation.exit(code.rawValue)
    } catch let failure as Failure {
      exit(failing: failure, json: json)
    } catch let error as UserManagementError {
      exit(failing: Failure(error), json: json)
    } catch {
      // Errors of the argument parser's own kinds (none of umk's commands throw them from
      // `run`, but a future one might): reported as the parser reports them.
      exit(withError: error)
    }
  }

  /// Reports a failure and exits with its status.
  ///
  /// - Parameters:
  ///   - failure: The failure.
  ///   - json: Whether to report it as JSON.
  private static func exit(failing failure: Failure, json: Bool) -> Never {
    Output.report(failure, json: json)
    Foundation.exit(failure.status.rawValue)
  }

  /// Exits after the command line did not parse (or asked for help or the version).
  ///
  /// The command was not built, so its `--json` is unknown; the command line is parsed again
  /// leniently, as ``UnparsedCommandLine`` (the same ``GlobalOptions`` declaration, every other
  /// argument set aside), and if that finds `--json` the usage error is reported as
  /// `{"error":{"code":"usage",…}}`. Otherwise — or if even that parse fails — the parser's own
  /// report (message and usage) goes to standard error. Help and `--version` are printed as
  /// usual and exit 0.
  ///
  /// - Parameters:
  ///   - error: The parser's error.
  ///   - arguments: The command line, without the program name.
  private static func exitAfterParsing(_ error: any Error, arguments: [String]) -> Never {
    let code = exitCode(for: error)
    guard code != .success,
      let unparsed = try? UnparsedCommandLine.parse(arguments), unparsed.global.json
    else {
      exit(withError: error)
    }
    let message = self.message(for: error)
    exit(failing: .usage(message.isEmpty ? "Invalid usage." : message), json: true)
  }
}
