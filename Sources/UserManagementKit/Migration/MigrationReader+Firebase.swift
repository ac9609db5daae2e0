import UMKCrypto

extension MigrationReader {
  /// The prefix of the hashes the Firebase reader writes.
  public static let firebaseScryptPrefix = "$firebase-scrypt$"

  /// Firebase: `firebase auth:export users.json` (`{"users":[{…}]}`, positions are indices
  /// into `users`) or `… users.csv` (no header row; columns in Firebase's documented order,
  /// UID, Email, Email Verified, Password Hash, Password Salt, Name, Photo URL, …; positions
  /// are lines). A file whose first non-blank character is `{` is JSON.
  ///
  /// Username: `email`. `displayName` (CSV: Name) is the full name. `disabled: true`
  /// disables (the CSV has no such column). A password hash and its salt become
  /// `$firebase-scrypt$<salt>$<hash>`, both in standard base64 without padding (Firebase
  /// writes them padded; they are decoded and written again). The project's hash
  /// configuration (signer key, salt separator, rounds, memory cost) is not in the export:
  /// it is given to the hasher that verifies these hashes.
  static func readFirebase(_ bytes: [UInt8], into context: inout ReadingContext) {
    let first = bytes.first { ![0x20, 0x09, 0x0D, 0x0A, 0xEF, 0xBB, 0xBF].contains($0) }
    if first == UInt8(ascii: "{") {
      readFirebaseJSON(bytes, into: &context)
    } else {
      context.reading.positionKind = .line
      readFirebaseCSV(bytes, into: &context)
    }
  }

  private static func readFirebaseJSON(_ bytes: [UInt8], into context: inout ReadingContext) {
    guard let users = MigrationJSON.parse(bytes)?["users"]?.array else {
      context.issue(
        0,
        invalid(
          "users", "invalid_json",
          "The file is not a Firebase export (a JSON object with a \"users\" array)."))
      return
    }
    for (index, user) in users.enumerated() {
      var record = SourceRecord(position: index)
      record.usernames = [("email", user["email"]?.string)]
      record.fullName = user["displayName"]?.string
      record.disabled = user["disabled"]?.bool == true
      do throws(UserManagementError) {
        try firebaseHash(
          user["passwordHash"]?.string, salt: user["salt"]?.string, into: &record,
          fields: ("passwordHash", "salt"))
      } catch {
        context.issue(index, error)
        continue
      }
      context.finish(record)
    }
  }

  private static func readFirebaseCSV(_ bytes: [UInt8], into context: inout ReadingContext) {
    let table = CSV.read(bytes)
    for row in table.records {
      guard row.fields.count >= 6 else {
        context.issue(
          row.line,
          invalid(
            "csv", "invalid_csv",
            "The record has \(row.fields.count) fields; a Firebase CSV export has at least 6."))
        continue
      }
      var record = SourceRecord(position: row.line)
      record.usernames = [("Email", row.fields[1])]
      record.fullName = row.fields[5]
      do throws(UserManagementError) {
        try firebaseHash(
          row.fields[3].isEmpty ? nil : row.fields[3],
          salt: row.fields[4].isEmpty ? nil : row.fields[4], into: &record,
          fields: ("Password Hash", "Password Salt"))
      } catch {
        context.issue(row.line, error)
        continue
      }
      context.finish(record)
    }
    if let failure = table.failure {
      context.issue(
        failure.line, invalid("csv", "invalid_csv", "The CSV is malformed: \(failure.reason)."))
    }
  }

  private static func firebaseHash(
    _ hash: String?, salt: String?, into record: inout SourceRecord,
    fields: (hash: String, salt: String)
  ) throws(UserManagementError) {
    guard let hash else { return }
    guard let key = decodeBase64(hash), !key.isEmpty else {
      throw invalid(fields.hash, "invalid_value", "\"\(fields.hash)\" is not base64.")
    }
    guard let salt, let saltBytes = decodeBase64(salt), !saltBytes.isEmpty else {
      throw invalid(fields.salt, "invalid_value", "\"\(fields.salt)\" is missing or not base64.")
    }
    record.passwordHash = PasswordHash(
      encoded: firebaseScryptPrefix + Base64.encode(saltBytes, variant: .standardUnpadded) + "$"
        + Base64.encode(key, variant: .standardUnpadded))
    record.format = "firebase-scrypt"
  }
}
