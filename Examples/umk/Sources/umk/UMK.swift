// umk: the user-administration console on a terminal, against the file-backed store.
//
// Every command opens the store named by --store (default $UMK_STORE, else ./umk-store), runs
// one UserDirectory operation, prints the result (as one JSON document with --json) and exits
// with a sysexits status (see ExitStatus). Secrets come only from standard input.

import ArgumentParser
import Foundation
import UserManagementKit

@main
enum Main {
  static func main() async {
    let arguments = Array(CommandLine.arguments.dropFirst())
    let json = arguments.contains("--json")
    do {
      var command = try UMK.parseAsRoot(arguments)
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let code as ExitCode {
      exit(code.rawValue)
    } catch let failure as Failure {
      Output.report(failure, json: json)
      exit(failure.status.rawValue)
    } catch let error as UserManagementError {
      let failure = Failure(error)
      Output.report(failure, json: json)
      exit(failure.status.rawValue)
    } catch {
      let code = UMK.exitCode(for: error)
      if json && code != .success {
        let message = UMK.message(for: error)
        Output.report(
          Failure(
            code: "usage", message: message.isEmpty ? "Invalid usage." : message,
            status: .usage),
          json: true)
        exit(ExitStatus.usage.rawValue)
      }
      UMK.exit(withError: error)
    }
  }
}

/// The root command.
struct UMK: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "umk",
    abstract: "Administer a UserManagementKit directory kept in a file-backed store.",
    discussion: """
      SECURITY: the store directory's file permissions are the security boundary. `--as` \
      names the acting user without a password: anyone who can write the store directory \
      can act as every user. Keep it mode 0700, owned by the operator account.

      Secrets are read only from standard input (--password-stdin) or generated \
      (--generate-password, printed once); never from arguments or the environment.

      Exit status: 0 success; 1 refused by a rule, denied, or invalid credentials; 64 usage \
      error; 65 malformed input (hash, import file, policy JSON); 74 store error.
      """,
    version: "0.1.0",
    subcommands: [
      Init.self, UserCommands.self, APICommands.self, Login.self, Passwd.self,
      PolicyCommands.self, Authorize.self, Audit.self, Import.self, Export.self,
      HashCommands.self, Demo.self,
    ]
  )
}
