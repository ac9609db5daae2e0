// `umk-postgres`: creates or upgrades the PostgreSQL store's schema from the command line.
//
//   umk-postgres migrate --url postgres://user@host:port/database
//   umk-postgres version
import Foundation
import PostgresDirectoryStore
import UserManagementKit

let usage = """
  usage: umk-postgres migrate [--url URL]   create or upgrade the schema (URL defaults to
                                            $UMK_POSTGRES_URL)
         umk-postgres version               print the schema version this build creates
  """

func fail(_ message: String, status: Int32 = 1) -> Never {
  FileHandle.standardError.write(Data((message + "\n").utf8))
  exit(status)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail(usage, status: 64) }
arguments.removeFirst()

switch command {
case "version":
  print(PostgresDirectoryStore.schemaVersion)
case "migrate":
  var url = ProcessInfo.processInfo.environment["UMK_POSTGRES_URL"]
  var fromCommandLine = false
  while let argument = arguments.first {
    arguments.removeFirst()
    switch argument {
    case "--url":
      guard let value = arguments.first else { fail("--url needs a value\n\(usage)", status: 64) }
      arguments.removeFirst()
      url = value
      fromCommandLine = true
    default:
      fail("unknown argument \(argument)\n\(usage)", status: 64)
    }
  }
  guard let url else { fail("no URL: pass --url or set UMK_POSTGRES_URL\n\(usage)", status: 64) }
  do {
    let parsed = try PostgresStoreURL(url)
    if fromCommandLine && parsed.password != nil {
      // Other users can read a command line (ps, /proc) and shells keep it in their history.
      FileHandle.standardError.write(
        Data(
          ("umk-postgres: warning: the password in --url is visible to other users of this "
            + "machine; pass the URL in UMK_POSTGRES_URL instead.\n").utf8))
    }
    // Opening the store runs the migration.
    let version = try await PostgresDirectoryStore.withStore(url: parsed) { _ in
      PostgresDirectoryStore.schemaVersion
    }
    print("The schema of \(parsed) is at version \(version).")
  } catch {
    fail("umk-postgres: \(error)")
  }
case "--help", "-h", "help":
  print(usage)
default:
  fail(usage, status: 64)
}
