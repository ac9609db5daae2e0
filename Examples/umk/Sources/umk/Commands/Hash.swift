import ArgumentParser
import UserManagementKit

/// `umk hash …`: password hashes, outside any store (but `census`).
struct HashCommands: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hash", abstract: "Make and verify password hashes; count a store's hashes.",
    subcommands: [Make.self, Verify.self, Census.self])

  enum Algorithm: String, ExpressibleByArgument, CaseIterable {
    case argon2id
    case pbkdf2Sha256 = "pbkdf2-sha256"
    case pbkdf2Sha512 = "pbkdf2-sha512"

    var hasher: any PasswordHasher {
      switch self {
      case .argon2id: Argon2PasswordHasher()
      case .pbkdf2Sha256: PBKDF2PasswordHasher(variant: .sha256)
      case .pbkdf2Sha512: PBKDF2PasswordHasher(variant: .sha512)
      }
    }
  }

  struct Make: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Hash the password on standard input with production parameters.",
      discussion: """
        argon2id: m=19456 KiB, t=2, p=1 (the library's default); pbkdf2-sha256: 600,000 \
        iterations; pbkdf2-sha512: 220,000 iterations. No password policy is applied.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The algorithm (default argon2id).", valueName: "name"))
    var algorithm: Algorithm = .argon2id
    @Flag(help: "Read the password from standard input (required).") var passwordStdin = false

    func validate() throws {
      guard passwordStdin else {
        throw ValidationError("The password is read from standard input: give --password-stdin.")
      }
    }

    mutating func run() async throws {
      let secret = try StandardInput.secret()
      let hash = try algorithm.hasher.hash(secret)
      if global.json {
        Output.document(
          .object([("hash", .string(hash.encoded)), ("algorithm", .string(hash.algorithm))]))
      } else {
        Output.line(hash.encoded)
      }
    }
  }

  struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check the password on standard input against a hash (exit 0 if it matches).",
      discussion: """
        Every format the library verifies: its own Argon2 and PBKDF2 PHC strings, Django, \
        passlib, ASP.NET Core Identity, argon2-cffi and bcrypt, within the default cost \
        limits. Exit 1 if the password does not match, 65 if the hash is malformed, unknown \
        or too costly.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The stored hash.", valueName: "hash")) var hash: String
    @Flag(help: "Read the password from standard input (required).") var passwordStdin = false

    func validate() throws {
      guard passwordStdin else {
        throw ValidationError("The password is read from standard input: give --password-stdin.")
      }
    }

    mutating func run() async throws {
      let secret = try StandardInput.secret()
      let stored = PasswordHash(encoded: hash)
      let verdict = try MigratingPasswordHasher().verify(secret, against: stored)
      if global.json {
        Output.document(
          .object([
            ("valid", .bool(verdict.isValid)),
            ("needsRehash", .bool(verdict == .validNeedsRehash)),
            ("algorithm", .string(stored.algorithm)),
          ]))
      } else {
        switch verdict {
        case .valid: Output.line("valid")
        case .validNeedsRehash: Output.line("valid (would be rehashed at the next sign-in)")
        case .invalid: Output.line("invalid")
        }
      }
      if !verdict.isValid { throw ExitCode(ExitStatus.refused.rawValue) }
    }
  }

  struct Census: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Count the store's password hashes by format and parameters.",
      discussion: "Reads every user's hash, so it is an administrator's command (--as).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let census = try await session.directory.passwordHashCensus(by: actor)
        if global.json {
          Output.document(
            .object([
              ("total", .int(census.total)),
              ("needingRehash", .int(census.needingRehash)),
              ("unsupported", .int(census.unsupported)),
              ("withoutPassword", .int(census.withoutPassword)),
              (
                "groups",
                .array(
                  census.groups.map { entry in
                    .object([
                      ("algorithm", .string(entry.group.algorithm)),
                      ("parameters", .string(entry.group.parameters)),
                      ("needsRehash", .bool(entry.group.needsRehash)),
                      ("count", .int(entry.count)),
                    ])
                  })
              ),
            ]))
          return
        }
        Output.line(
          "\(census.total) users: \(census.needingRehash) hashes to upgrade at sign-in, "
            + "\(census.unsupported) unsupported, \(census.withoutPassword) without a password")
        for entry in census.groups {
          let parameters = entry.group.parameters.isEmpty ? "" : " \(entry.group.parameters)"
          Output.line(
            "  \(entry.count) × \(entry.group.algorithm)\(parameters)"
              + (entry.group.needsRehash ? " (upgraded at sign-in)" : ""))
        }
      }
    }
  }
}
