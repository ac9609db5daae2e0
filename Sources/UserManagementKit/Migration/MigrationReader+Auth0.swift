extension MigrationReader {
  /// Auth0: the user export (NDJSON, one user per line) joined with the bulk password-hash
  /// export (NDJSON, `{"_id":{"$oid":…},"email":…,"passwordHash":"$2b$10$…",…}`); positions
  /// are lines of each file.
  ///
  /// A password record belongs to the user whose `user_id` is `auth0|<_id>`, else to the user
  /// with its e-mail address; a password record that belongs to nobody, or to a user another
  /// record already gave a password, is an issue in the password file. Username: `email`,
  /// else `username` when it is an address. `given_name` and `family_name` are the names,
  /// `name` the full name. `blocked: true` disables. Roles are `app_metadata.roles` (or a
  /// top-level `roles`), for exports that include them. The bcrypt hash is kept as it is.
  static func readAuth0(_ bytes: [UInt8], passwords: [UInt8]?, into context: inout ReadingContext) {
    // The password records, by id and by canonical e-mail address.
    var byID: [String: (line: Int, hash: String)] = [:]
    var byEmail: [String: (line: Int, hash: String)] = [:]
    var claimed = Set<Int>()
    var passwordLines: [Int] = []
    for (line, object) in ndjson(passwords ?? [], file: .passwords, into: &context) {
      guard let hash = object["passwordHash"]?.string, !hash.isEmpty else { continue }
      let id = object["_id"]?["$oid"]?.string ?? object["_id"]?.string
      let email = object["email"]?.string.map(Username.canonicalize)
      guard id != nil || email != nil else {
        context.reading.issues.append(
          MigrationRecordIssue(
            file: .passwords, position: line,
            error: invalid(
              "_id", "missing_field", "The password record has no \"_id\" or \"email\".")))
        continue
      }
      if let id { byID[id] = byID[id] ?? (line, hash) }
      if let email { byEmail[email] = byEmail[email] ?? (line, hash) }
      passwordLines.append(line)
    }
    for (line, user) in ndjson(bytes, file: .users, into: &context) {
      var record = SourceRecord(position: line)
      record.usernames = [("email", user["email"]?.string), ("username", user["username"]?.string)]
      record.firstName = user["given_name"]?.string
      record.lastName = user["family_name"]?.string
      record.fullName = user["name"]?.string
      record.disabled = user["blocked"]?.bool == true
      record.roles = (user["app_metadata"]?["roles"] ?? user["roles"]).map(\.strings) ?? []
      var password: (line: Int, hash: String)?
      if let userID = user["user_id"]?.string, let bar = userID.firstIndex(of: "|") {
        password = byID[String(userID[userID.index(after: bar)...])]
      }
      if password == nil, let email = user["email"]?.string {
        password = byEmail[Username.canonicalize(email)]
      }
      if let password {
        guard claimed.insert(password.line).inserted else {
          context.issue(
            line,
            invalid(
              "passwordHash", "duplicate",
              "The password record on line \(password.line) of the password file belongs to an "
                + "earlier user too."))
          continue
        }
        let hash = PasswordHash(encoded: password.hash)
        record.passwordHash = hash
        record.format = hash.algorithm
      }
      context.finish(record)
    }
    for line in passwordLines where !claimed.contains(line) {
      context.reading.issues.append(
        MigrationRecordIssue(
          file: .passwords, position: line,
          error: invalid(
            "_id", "no_user", "No user of the user export matches the password record.")))
    }
  }

  /// The JSON objects of an NDJSON file, with their line numbers; a line that is not a JSON
  /// object is an issue in `file`.
  static func ndjson(
    _ bytes: [UInt8], file: MigrationRecordIssue.File, into context: inout ReadingContext
  ) -> [(Int, MigrationJSON)] {
    var objects: [(Int, MigrationJSON)] = []
    var lineNumber = 0
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      lineNumber += 1
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      guard let object = MigrationJSON.parse(line), case .object = object else {
        context.reading.issues.append(
          MigrationRecordIssue(
            file: file, position: lineNumber,
            error: invalid("user", "invalid_json", "The line is not a JSON object.")))
        continue
      }
      objects.append((lineNumber, object))
    }
    return objects
  }
}
