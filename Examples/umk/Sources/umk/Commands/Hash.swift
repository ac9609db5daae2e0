import ArgumentParser
import UserManagementKit

extension UMK {
  /// `umk hash …`: password hashes, outside any store (but `census`).
  struct Hash: AsyncParsableCommand {
    /// The group's help and commands.
    static let configuration = CommandConfiguration(
      abstract: "Make and verify password hashes; count a store's hashes.",
      subcommands: [Make.self, Verify.self, Census.self])

    /// `--algorithm`.
    enum Algorithm: String, ExpressibleByArgument, CaseIterable {
      /// Argon2id, m = 19,456 KiB, t = 2, p = 1.
      case argon2id
      /// PBKDF2-HMAC-SHA256, 600,000 iterations.
      case pbkdf2Sha256 = "pbkdf2-sha256"
      /// PBKDF2-HMAC-SHA512, 220,000 iterations.
      case pbkdf2Sha512 = "pbkdf2-sha512"

      /// The hasher, with production parameters.
      var hasher: any PasswordHasher {
        switch self {
        case .argon2id: Argon2PasswordHasher()
        case .pbkdf2Sha256: PBKDF2PasswordHasher(variant: .sha256)
        case .pbkdf2Sha512: PBKDF2PasswordHasher(variant: .sha512)
        }
      }
    }
  }
}

extension UMK.Hash {
  /// `umk hash make`.
  struct Make: UMKCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Hash the password on standard input with production parameters.",
      discussion: """
        argon2id: m=19456 KiB, t=2, p=1 (the library's default); pbkdf2-sha256: 600,000 \
        iterations; pbkdf2-sha512: 220,000 iterations. No password policy is applied.
        """)

    /// `--store` (unused), `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--algorithm`.
    @Option(help: ArgumentHelp("The algorithm (default argon2id).", valueName: "name"))
    var algorithm: Algorithm = .argon2id
    /// `--password-stdin` (required).
    @Flag(help: "Read the password from standard input (required).") var passwordStdin = false

    /// Requires `--password-stdin`.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard passwordStdin else {
        throw ValidationError("The password is read from standard input: give --password-stdin.")
      }
    }

    /// Prints the hash.
    ///
    /// - Throws: A usage ``Failure`` when standard input cannot be read.
    func run() async throws {
      let secret = try StandardInput.secret()
      let hash = try algorithm.hasher.hash(secret)
      if global.json {
        Output.document(HashMadeOutput(hash: hash.encoded, algorithm: hash.algorithm))
      } else {
        Output.line(hash.encoded)
      }
    }
  }

  /// `umk hash verify`.
  struct Verify: UMKCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Check the password on standard input against a hash (exit 0 if it matches).",
      discussion: """
        Every format the library verifies: its own Argon2 and PBKDF2 PHC strings, Django, \
        passlib, ASP.NET Core Identity, argon2-cffi and bcrypt, within the default cost \
        limits. Exit 1 if the password does not match, 65 if the hash is malformed, unknown \
        or too costly. With --hash-stdin the hash is read from standard input too (its first \
        line; the password follows), so it never shows in the process list.
        """)

    /// `--store` (unused), `--json`.
    @OptionGroup var global: GlobalOptions
    /// The stored hash, unless `--hash-stdin`.
    @Argument(
      help: ArgumentHelp(
        "The stored hash (visible in the process list: prefer --hash-stdin).", valueName: "hash"))
    var hash: String?
    /// `--hash-stdin`.
    @Flag(help: "Read the hash from the first line of standard input, before the password.")
    var hashStdin = false
    /// `--password-stdin` (required).
    @Flag(help: "Read the password from standard input (required).") var passwordStdin = false

    /// Requires `--password-stdin`, and the hash either as an argument or on standard input.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard passwordStdin else {
        throw ValidationError("The password is read from standard input: give --password-stdin.")
      }
      guard (hash == nil) == hashStdin else {
        throw ValidationError("Give the hash either as an argument or with --hash-stdin.")
      }
    }

    /// Prints the verdict and exits 0 if the password matches, 1 if not.
    ///
    /// - Throws: `unsupported_hash` (exit 65); `ExitCode` 1 when the password does not match.
    func run() async throws {
      let secret: Secret
      let stored: PasswordHash
      if let hash {
        secret = try StandardInput.secret()
        stored = PasswordHash(encoded: hash)
      } else {
        let (encoded, password) = try StandardInput.twoSecrets(first: "hash", second: "password")
        secret = password
        stored = PasswordHash(
          encoded: encoded.withUnsafeBytes { String(decoding: $0, as: UTF8.self) })
      }
      let verdict = try MigratingPasswordHasher().verify(secret, against: stored)
      if global.json {
        Output.document(
          HashVerdictOutput(
            valid: verdict.isValid, needsRehash: verdict == .validNeedsRehash,
            algorithm: stored.algorithm))
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

  /// `umk hash census`.
  struct Census: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Count the store's password hashes by format and parameters.",
      discussion: "Reads every user's hash, so it is an administrator's command (--as).")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Prints the census.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let census = try await context.directory.passwordHashCensus(by: context.principal)
      if context.json {
        Output.document(HashCensusOutput(census))
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
