import Foundation
import Logging
import PostgresNIO
import UserManagementKit

extension PostgresDirectoryStore {
  /// One page of users, by keyset pagination over sort keys computed in Swift.
  ///
  /// The database narrows the candidates (exact conditions, and for an ASCII search text the
  /// trigram index); `UserFilter.matches(_:)` decides, so the page equals the reference
  /// definition exactly.
  ///
  /// - Parameter query: The query.
  /// - Returns: The page.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func users(matching query: UserQuery) async throws -> UserPage {
    if Self.matchesNobody(query.filter) { return UserPage(users: [], nextCursor: nil) }
    let sort = query.sort
    let column = Self.keyColumn(sort.field)
    let direction = sort.descending ? "DESC" : "ASC"
    var after = query.after.map { cursor in
      (Keys.normalized(cursor.position.primary), Keys.normalized(cursor.position.usernameKey))
    }
    // The SQL conditions decide exactly, or (for ASCII search text) nearly: fetch one page.
    // Search text the database cannot pre-filter is matched in Swift over larger batches.
    let prefiltered = query.filter.normalizedSearch.map(Self.canPrefilter) ?? true
    let batch = prefiltered ? query.limit + 1 : max(query.limit + 1, 200)
    var users: [User] = []
    while users.count <= query.limit {
      var builder = SQLBuilder(
        "SELECT \(column), username_key, \(UserColumns.list) FROM umk_users WHERE true")
      try Self.appendConditions(query.filter, to: &builder)
      if let position = after {
        let (primary, key) = position
        builder.append(" AND (\(column), username_key) \(sort.descending ? "<" : ">") (")
        try builder.bind(primary)
        builder.append(", ")
        try builder.bind(key)
        builder.append(")")
      }
      builder.append(" ORDER BY \(column) \(direction), username_key \(direction) LIMIT ")
      try builder.bind(Int64(batch))
      let sql = builder.query
      let rows = try await run("list users") { connection in
        var rows: [(String, String, User)] = []
        for try await row in try await connection.guardedQuery(sql, logger: logger) {
          let cells = row.makeRandomAccess()
          rows.append(
            (
              try cells[0].decode(String.self), try cells[1].decode(String.self),
              try UserColumns.user(cells, at: 2)
            ))
        }
        return rows
      }
      for (_, _, user) in rows where query.filter.matches(user) { users.append(user) }
      guard rows.count == batch, let last = rows.last else { break }
      after = (last.0, last.1)
    }
    let more = users.count > query.limit
    if more { users.removeLast(users.count - query.limit) }
    let next =
      more ? users.last.map { UserCursor(sort: sort, position: sort.position(of: $0)) } : nil
    return UserPage(users: users, nextCursor: next)
  }

  /// The number of users matching the filter.
  ///
  /// - Parameter filter: The filter.
  /// - Returns: The count.
  /// - Throws: `UserManagementError` with code `storage_failure`.
  public func userCount(matching filter: UserFilter) async throws -> Int {
    if Self.matchesNobody(filter) { return 0 }
    var builder = SQLBuilder()
    let exact = Self.isExact(filter)
    builder.append(
      exact
        ? "SELECT count(*) FROM umk_users WHERE true"
        : "SELECT \(UserColumns.list) FROM umk_users WHERE true")
    try Self.appendConditions(filter, to: &builder)
    let sql = builder.query
    if exact {
      let counts = try await run("count users") { connection in
        try await Self.collect(
          try await connection.guardedQuery(sql, logger: logger).decode(Int64.self))
      }
      return Int(clamping: counts.first ?? 0)
    }
    return try await run("count users") { connection in
      var count = 0
      for try await row in try await connection.guardedQuery(sql, logger: logger) {
        if filter.matches(try UserColumns.user(row.makeRandomAccess(), at: 0)) { count += 1 }
      }
      return count
    }
  }

  /// Whether no user can match: search text with a NUL, which no name or username holds (and
  /// which PostgreSQL text cannot even carry).
  static func matchesNobody(_ filter: UserFilter) -> Bool {
    filter.normalizedSearch?.utf8.contains(0) == true
  }

  /// Whether a `LIKE` on the stored lowercased text can pre-filter for `needle` without dropping
  /// a user the reference keeps: ASCII, so a match by `UserFilter.matches(_:)` is a byte match,
  /// except for `;` and `` ` ``, which Swift also finds in U+037E and U+1FEF (canonically
  /// equivalent to them) where the bytes differ. (U+212A KELVIN SIGN, the only other such
  /// character, lowercases to `k` in the stored text.)
  static func canPrefilter(_ needle: String) -> Bool {
    needle.utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: "`") }
  }

  /// Whether the SQL conditions alone decide the filter (no search text).
  static func isExact(_ filter: UserFilter) -> Bool {
    filter.normalizedSearch == nil
  }

  static func keyColumn(_ field: UserSort.Field) -> String {
    switch field {
    case .username: "username_key"
    case .firstName: "first_key"
    case .lastName: "last_key"
    case .createdAt: "created_key"
    }
  }

  /// Appends the filter's conditions. A search text becomes a `LIKE` pre-filter only when
  /// ``canPrefilter(_:)`` says a match by `UserFilter.matches(_:)` implies a byte match in the
  /// stored lowercased text, so the pre-filter never drops a user the reference would keep.
  static func appendConditions(_ filter: UserFilter, to builder: inout SQLBuilder)
    throws(UserManagementError)
  {
    if let status = filter.status {
      builder.append(" AND status = ")
      try builder.bind(status.rawValue)
    }
    if let role = filter.role {
      builder.append(" AND role = ")
      try builder.bind(role.rawValue)
    }
    if let apiAccess = filter.apiAccess {
      builder.append(" AND api_access = ")
      try builder.bind(apiAccess)
    }
    if let policy = filter.policy {
      builder.append(
        " AND EXISTS (SELECT 1 FROM umk_user_policies p WHERE p.user_id = umk_users.id"
          + " AND p.policy_id = ")
      try builder.bind(policy.rawValue)
      builder.append(")")
    }
    if let needle = filter.normalizedSearch, canPrefilter(needle) {
      builder.append(" AND search LIKE ")
      try builder.bind(Keys.containsPattern(needle))
    }
  }
}
