import UserManagementKit

/// `import`'s summary: `{"dryRun","committed","users","passwordHashCount"}`.
struct ImportOutput: Encodable {
  /// Whether `--dry-run` was given.
  let dryRun: Bool
  /// Whether the users were committed.
  let committed: Bool
  /// How many users were (or would be) imported.
  let users: Int
  /// How many of them carry a password hash.
  let passwordHashCount: Int
}

/// `export --json`: `{"users":[…]}`, each user in the shape of an import line.
struct ExportOutput: Encodable {
  /// The users, in username order, in `PortableUser`'s own JSON form.
  let users: [PortableUser]
}
