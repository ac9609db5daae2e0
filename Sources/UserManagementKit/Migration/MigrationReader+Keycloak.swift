import UMKCrypto

extension MigrationReader {
  /// Keycloak: `{"realm": …, "users": [{…}]}`; positions are indices into `users`.
  ///
  /// Username: `email` when it is a valid address, else `username` when it is one. Realm
  /// roles (`realmRoles`) and groups (`groups`, paths without the leading slash) are the
  /// roles. `enabled: false` disables. Service accounts (`serviceAccountClientId`) are
  /// skipped. The `password` credential becomes a PHC string:
  ///
  /// | Keycloak algorithm | stored as |
  /// |---|---|
  /// | `pbkdf2-sha256`, `pbkdf2-sha512` | `$pbkdf2-sha256$i=<hashIterations>,l=<key bytes>$<salt>$<key>` |
  /// | `pbkdf2` (HMAC-SHA1) | passlib's `$pbkdf2$<iterations>$<salt>$<key>`, the key's first 20 bytes |
  /// | `argon2` | `$argon2<type>$v=<19 or 16>$m=<memory>,t=<hashIterations>,p=<parallelism>$<salt>$<hash>` |
  ///
  /// PBKDF2-SHA1's first 20 bytes are its whole first block, which is what a 20-byte
  /// derivation computes, so the shortened key verifies the same passwords. Keycloak's
  /// FIPS-mode password padding (`maxPaddingLength`) is not represented: credentials made
  /// with it do not verify.
  static func readKeycloak(_ bytes: [UInt8], into context: inout ReadingContext) {
    guard let root = MigrationJSON.parse(bytes), let users = root["users"]?.array else {
      context.issue(
        0,
        invalid(
          "users", "invalid_json",
          "The file is not a Keycloak realm export (a JSON object with a \"users\" array)."))
      return
    }
    for (index, user) in users.enumerated() {
      guard case .object = user else {
        context.issue(index, invalid("users", "invalid_json", "The record is not an object."))
        continue
      }
      if user["serviceAccountClientId"]?.string != nil {
        context.reading.skipped += 1
        continue
      }
      var record = SourceRecord(position: index)
      record.usernames = [("email", user["email"]?.string), ("username", user["username"]?.string)]
      record.firstName = user["firstName"]?.string
      record.lastName = user["lastName"]?.string
      record.disabled = user["enabled"]?.bool == false
      record.roles = user["realmRoles"].map(\.strings) ?? []
      for group in user["groups"].map(\.strings) ?? [] {
        record.roles.append(group.hasPrefix("/") ? String(group.dropFirst()) : group)
      }
      do throws(UserManagementError) {
        if let credential = user["credentials"]?.array?.first(where: {
          $0["type"]?.string == "password"
        }) {
          let (hash, format) = try keycloakHash(credential)
          record.passwordHash = hash
          record.format = format
        }
      } catch {
        context.issue(index, error)
        continue
      }
      context.finish(record)
    }
  }

  /// A Keycloak password credential as a PHC string, and its format's name.
  private static func keycloakHash(_ credential: MigrationJSON) throws(UserManagementError) -> (
    PasswordHash, String
  ) {
    let secret: MigrationJSON
    let data: MigrationJSON
    if let secretText = credential["secretData"]?.string {
      guard let parsedSecret = MigrationJSON.parse(Array(secretText.utf8)),
        let dataText = credential["credentialData"]?.string,
        let parsedData = MigrationJSON.parse(Array(dataText.utf8))
      else {
        throw invalid(
          "credentials", "invalid_json",
          "The password credential's \"secretData\" or \"credentialData\" is not JSON.")
      }
      secret = parsedSecret
      data = parsedData
    } else {
      // Keycloak before 11 kept the fields on the credential itself.
      guard let value = credential["hashedSaltedValue"] else {
        throw invalid(
          "credentials", "missing_field", "The password credential has no \"secretData\".")
      }
      secret = .object(["value": value, "salt": credential["salt"] ?? .null])
      data = .object([
        "algorithm": credential["algorithm"] ?? .null,
        "hashIterations": credential["hashIterations"] ?? .null,
      ])
    }
    guard let value = secret["value"]?.string.flatMap(decodeBase64), !value.isEmpty,
      let salt = secret["salt"]?.string.flatMap(decodeBase64), !salt.isEmpty
    else {
      throw invalid(
        "credentials", "invalid_value",
        "The password credential's \"value\" or \"salt\" is not base64.")
    }
    guard let iterations = data["hashIterations"]?.integer, iterations >= 1 else {
      throw invalid(
        "credentials", "invalid_value",
        "The password credential's \"hashIterations\" is not a positive integer.")
    }
    let algorithm = data["algorithm"]?.string ?? "pbkdf2-sha256"
    switch algorithm {
    case "pbkdf2-sha256", "pbkdf2-sha512":
      return (
        PasswordHash(
          encoded: "$\(algorithm)$i=\(iterations),l=\(value.count)$"
            + Base64.encode(salt, variant: .standardUnpadded) + "$"
            + Base64.encode(value, variant: .standardUnpadded)),
        algorithm
      )
    case "pbkdf2":
      guard value.count >= 20 else {
        throw invalid(
          "credentials", "invalid_value", "The PBKDF2 credential's key is shorter than 20 bytes.")
      }
      return (
        PasswordHash(
          encoded: "$pbkdf2$\(iterations)$" + Base64.encode(salt, variant: .passlibAdapted)
            + "$" + Base64.encode(value.prefix(20), variant: .passlibAdapted)),
        "pbkdf2-sha1"
      )
    case "argon2":
      return try keycloakArgon2(value: value, salt: salt, iterations: iterations, data: data)
    default:
      throw unsupported(
        "credentials",
        "The password credential's algorithm \"\(DisplayText.quoted(algorithm))\" is not one "
          + "the library verifies.")
    }
  }

  /// Keycloak's Argon2 provider: parameters in `additionalParameters`, each a list of one
  /// string (`{"type":["id"],"version":["1.3"],"memory":["7168"],…}`); plain values are read too.
  private static func keycloakArgon2(
    value: [UInt8], salt: [UInt8], iterations: Int, data: MigrationJSON
  ) throws(UserManagementError) -> (PasswordHash, String) {
    let parameters = data["additionalParameters"]
    func parameter(_ name: String) -> MigrationJSON? {
      guard let entry = parameters?[name] else { return nil }
      return entry.array?.first ?? entry
    }
    let type = parameter("type")?.string ?? "id"
    guard ["id", "i", "d"].contains(type) else {
      throw unsupported("credentials", "The Argon2 credential's \"type\" is not id, i or d.")
    }
    let version: Int
    switch parameter("version")?.string ?? "1.3" {
    case "1.3", "19": version = 19
    case "1.0", "16": version = 16
    default:
      throw unsupported("credentials", "The Argon2 credential's \"version\" is not 1.3 or 1.0.")
    }
    guard let memory = parameter("memory")?.integer, memory >= 1,
      let parallelism = parameter("parallelism")?.integer, parallelism >= 1
    else {
      throw invalid(
        "credentials", "invalid_value",
        "The Argon2 credential needs positive \"memory\" and \"parallelism\".")
    }
    if let length = parameter("hashLength")?.integer, length != value.count {
      throw invalid(
        "credentials", "invalid_value",
        "The Argon2 credential's \"hashLength\" does not match its value.")
    }
    return (
      PasswordHash(
        encoded: "$argon2\(type)$v=\(version)$m=\(memory),t=\(iterations),p=\(parallelism)$"
          + Base64.encode(salt, variant: .standardUnpadded) + "$"
          + Base64.encode(value, variant: .standardUnpadded)),
      "argon2\(type)"
    )
  }
}
