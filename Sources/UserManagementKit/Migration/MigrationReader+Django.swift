extension MigrationReader {
  /// Django: `manage.py dumpdata auth.user` (optionally with `auth.group`), a JSON array of
  /// `{"model": "auth.user", "pk": …, "fields": {…}}`; positions are indices into the array.
  ///
  /// Username: `email` when it is a valid address, else `username` when it is one. `groups`
  /// are the roles: natural keys (`[["editors"]]`, from `--natural-foreign`) by name, primary
  /// keys through the dump's `auth.group` records (a key without its record names no role).
  /// `is_superuser` (and `is_staff`, as ``MigrationOptions/djangoAdministrators`` says) makes
  /// an administrator; `is_active: false` disables. The `password` is kept as Django wrote it
  /// (`pbkdf2_sha256$…`, `argon2$argon2id$…`, `bcrypt_sha256$…`, …); an unusable password
  /// (`!…`) or an empty one is no password. Records of other models are skipped.
  static func readDjango(_ bytes: [UInt8], into context: inout ReadingContext) {
    guard let records = MigrationJSON.parse(bytes)?.array else {
      context.issue(
        0,
        invalid("model", "invalid_json", "The file is not a Django dumpdata JSON array."))
      return
    }
    var groupNames: [Int: String] = [:]
    for record in records where record["model"]?.string == "auth.group" {
      if let pk = record["pk"]?.integer, let name = record["fields"]?["name"]?.string {
        groupNames[pk] = name
      }
    }
    for (index, item) in records.enumerated() {
      guard let model = item["model"]?.string else {
        context.issue(index, invalid("model", "missing_field", "The record has no \"model\"."))
        continue
      }
      guard model == "auth.user" else {
        context.reading.skipped += 1
        continue
      }
      guard let fields = item["fields"], case .object = fields else {
        context.issue(
          index, invalid("fields", "missing_field", "The record has no \"fields\" object."))
        continue
      }
      var record = SourceRecord(position: index)
      record.usernames = [
        ("email", fields["email"]?.string), ("username", fields["username"]?.string),
      ]
      record.firstName = fields["first_name"]?.string
      record.lastName = fields["last_name"]?.string
      record.disabled = fields["is_active"]?.bool == false
      let superuser = fields["is_superuser"]?.bool == true
      let staff = fields["is_staff"]?.bool == true
      switch context.options.djangoAdministrators {
      case .superusers: record.administratorByFlag = superuser
      case .superusersAndStaff: record.administratorByFlag = superuser || staff
      case .none: record.administratorByFlag = false
      }
      for group in fields["groups"]?.array ?? [] {
        if let key = group.integer {
          if let name = groupNames[key] { record.roles.append(name) }
        } else if let name = group.array?.first?.string ?? group.string {
          record.roles.append(name)
        }
      }
      if let password = fields["password"]?.string, !password.isEmpty,
        !password.hasPrefix("!")
      {
        record.passwordHash = PasswordHash(encoded: password)
        record.format = djangoFormat(password)
      }
      context.finish(record)
    }
  }

  /// The name of a Django hasher from its encoded password: the text before the first `$`,
  /// if it is a plain identifier.
  private static func djangoFormat(_ password: String) -> String {
    guard let dollar = password.firstIndex(of: "$") else { return "unknown" }
    let name = password[..<dollar]
    guard !name.isEmpty, name.utf8.count <= 32,
      name.utf8.allSatisfy({
        ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F
      })
    else { return "unknown" }
    return String(name)
  }
}
