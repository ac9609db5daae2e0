import UMKCrypto

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Which users a listing or count includes. Every condition that is set must hold.
public struct UserFilter: Hashable, Sendable {
  /// Only users with this status.
  public var status: UserStatus?
  /// Only users with this role.
  public var role: Role?
  /// Only users who hold this policy.
  public var policy: PolicyID?
  /// Only users whose direct API access is on (`true`) or off (`false`).
  public var apiAccess: Bool?
  /// Only users whose first name, last name or username contains this text, compared
  /// case-insensitively (both sides lowercased). Empty or whitespace-only text matches all.
  public var search: String?

  /// Creates a filter; with no arguments it matches every user.
  ///
  /// - Parameters:
  ///   - status: Only this status.
  ///   - role: Only this role.
  ///   - policy: Only holders of this policy.
  ///   - apiAccess: Only users with API access on or off.
  ///   - search: Only users whose names or username contain this text.
  public init(
    status: UserStatus? = nil, role: Role? = nil, policy: PolicyID? = nil,
    apiAccess: Bool? = nil, search: String? = nil
  ) {
    self.status = status
    self.role = role
    self.policy = policy
    self.apiAccess = apiAccess
    self.search = search
  }

  /// The search text as compared: trimmed and lowercased, or `nil` when it matches all.
  public var normalizedSearch: String? {
    guard let search else { return nil }
    let trimmed = search.trimmingWhitespace().lowercased()
    return trimmed.isEmpty ? nil : trimmed
  }

  /// Whether `user` passes the filter. This is the reference definition that every
  /// ``DirectoryStore`` must agree with.
  ///
  /// - Parameter user: A user.
  /// - Returns: Whether every set condition holds.
  public func matches(_ user: User) -> Bool {
    if let status, user.status != status { return false }
    if let role, user.role != role { return false }
    if let policy, !user.policies.contains(policy) { return false }
    if let apiAccess, user.apiAccessEnabled != apiAccess { return false }
    if let needle = normalizedSearch {
      return Self.lowercased(user.firstName, contains: needle)
        || Self.lowercased(user.lastName, contains: needle)
        || Self.lowercased(user.username.rawValue, contains: needle)
    }
    return true
  }

  /// Whether `text.lowercased()` contains `needle` (lowercased already), compared by
  /// `Character` as Swift compares strings.
  ///
  /// When both are ASCII without a carriage return, every byte is a character of its own and
  /// lowercasing is per byte, so a byte search that lowercases as it goes gives the same answer
  /// without allocating; anything else takes the general path.
  static func lowercased(_ text: String, contains needle: String) -> Bool {
    let quick = text.utf8.withContiguousStorageIfAvailable { haystack -> Bool? in
      let found = needle.utf8.withContiguousStorageIfAvailable { needle -> Bool? in
        asciiSearch(haystack, for: needle)
      }
      return found ?? nil
    }
    if case .some(.some(let answer)) = quick { return answer }
    return text.lowercased().contains(needle)
  }

  /// The byte search of ``lowercased(_:contains:)``, or `nil` when a byte is outside ASCII or
  /// is a carriage return (which joins a following line feed into one character).
  private static func asciiSearch(
    _ haystack: UnsafeBufferPointer<UInt8>, for needle: UnsafeBufferPointer<UInt8>
  ) -> Bool? {
    for byte in needle where byte >= 0x80 || byte == 0x0D { return nil }
    for byte in haystack where byte >= 0x80 || byte == 0x0D { return nil }
    guard needle.count <= haystack.count else { return false }
    guard !needle.isEmpty else { return true }
    candidates: for start in 0...(haystack.count - needle.count) {
      for offset in 0..<needle.count {
        var byte = haystack[start + offset]
        if byte >= 0x41 && byte <= 0x5A { byte |= 0x20 }
        if byte != needle[offset] { continue candidates }
      }
      return true
    }
    return false
  }
}

/// The order of a user listing. Ties are broken by canonical username, which is unique, so the
/// order is total and stable across pages.
public struct UserSort: Hashable, Sendable, Codable {
  /// What to sort by.
  public enum Field: String, Hashable, Sendable, Codable, CaseIterable {
    /// Canonical username.
    case username
    /// Lowercased first name.
    case firstName
    /// Lowercased last name.
    case lastName
    /// Creation time.
    case createdAt
  }

  /// What to sort by.
  public var field: Field
  /// Whether the order is descending.
  public var descending: Bool

  /// Creates a sort order.
  ///
  /// - Parameters:
  ///   - field: What to sort by.
  ///   - descending: Whether to sort descending.
  public init(_ field: Field = .username, descending: Bool = false) {
    self.field = field
    self.descending = descending
  }

  /// The position of `user` in this order: the primary key, then the canonical username.
  ///
  /// Keys are strings compared with Swift's `String` ordering (by Unicode scalar values of
  /// the canonically equivalent form). Creation times become fixed-width decimal strings of
  /// microseconds, so they compare correctly as strings.
  ///
  /// - Parameter user: A user.
  /// - Returns: The user's sort position.
  public func position(of user: User) -> UserCursor.Position {
    let primary: String
    switch field {
    case .username: primary = user.username.canonical
    case .firstName: primary = user.firstName.lowercased()
    case .lastName: primary = user.lastName.lowercased()
    case .createdAt: primary = Self.timeKey(user.createdAt)
    }
    return UserCursor.Position(primary: primary, usernameKey: user.username.canonical)
  }

  /// Whether position `a` comes before position `b` in this order.
  ///
  /// - Parameters:
  ///   - a: A position.
  ///   - b: Another position.
  /// - Returns: Whether `a` sorts first.
  public func orders(_ a: UserCursor.Position, before b: UserCursor.Position) -> Bool {
    let ascending = (a.primary, a.usernameKey) < (b.primary, b.usernameKey)
    if descending {
      return (b.primary, b.usernameKey) < (a.primary, a.usernameKey)
    }
    return ascending
  }

  static func timeKey(_ date: Date) -> String {
    let micros = (date.timeIntervalSince1970 * 1_000_000).rounded(.down)
    let clamped = max(min(micros, 9.2e18), -9.2e18)
    let biased = UInt64(bitPattern: Int64(clamped)) ^ (1 << 63)
    let digits = String(biased)
    return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
  }
}

/// An opaque position in a user listing, returned with a page and passed back to get the next.
///
/// A cursor records the sort order it was made for; using it with another order is refused
/// with ``UserManagementError/Code/invalidCursor``. Cursors stay valid while users change:
/// the next page starts after the position, whatever was added or changed meanwhile.
public struct UserCursor: Hashable, Sendable, CustomStringConvertible {
  /// A point in a sort order.
  public struct Position: Hashable, Sendable {
    /// The primary sort key.
    public var primary: String
    /// The canonical username, which breaks ties.
    public var usernameKey: String

    /// Creates a position.
    ///
    /// - Parameters:
    ///   - primary: The primary sort key.
    ///   - usernameKey: The canonical username.
    public init(primary: String, usernameKey: String) {
      self.primary = primary
      self.usernameKey = usernameKey
    }
  }

  /// The order the cursor belongs to.
  public let sort: UserSort
  /// The position of the last user of the previous page.
  public let position: Position

  /// Creates a cursor.
  ///
  /// - Parameters:
  ///   - sort: The order.
  ///   - position: The last position returned.
  public init(sort: UserSort, position: Position) {
    self.sort = sort
    self.position = position
  }

  /// The opaque string form to hand to clients.
  public var description: String {
    let fields = [
      "1", sort.field.rawValue, sort.descending ? "d" : "a", position.primary,
      position.usernameKey,
    ]
    let joined = fields.joined(separator: "\u{1F}")
    return Base64.encode(joined.utf8, variant: .urlSafeUnpadded)
  }

  /// Parses the string form made by ``description``.
  ///
  /// - Parameter string: A cursor string.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidCursor``.
  public init(parsing string: String) throws(UserManagementError) {
    // No key the library makes holds a NUL, and some stores cannot even bind one.
    guard string.utf8.count <= 4096,
      let bytes = Base64.decode(string, variant: .urlSafeUnpadded), !bytes.contains(0),
      let text = String(validating: bytes, as: UTF8.self)
    else {
      throw UserManagementError(.invalidCursor, "The cursor is malformed.")
    }
    let fields = text.split(separator: "\u{1F}", omittingEmptySubsequences: false)
    guard fields.count == 5, fields[0] == "1",
      let field = UserSort.Field(rawValue: String(fields[1])),
      fields[2] == "a" || fields[2] == "d"
    else {
      throw UserManagementError(.invalidCursor, "The cursor is malformed.")
    }
    sort = UserSort(field, descending: fields[2] == "d")
    position = Position(primary: String(fields[3]), usernameKey: String(fields[4]))
  }
}

/// A request for one page of users.
public struct UserQuery: Hashable, Sendable {
  /// Which users to include.
  public var filter: UserFilter
  /// The order.
  public var sort: UserSort
  /// The page size, 1 to ``maximumLimit``.
  public var limit: Int
  /// Start after this cursor (from the previous page), or at the beginning when `nil`.
  public var after: UserCursor?

  /// The largest page size.
  public static let maximumLimit = 1000

  /// Creates a query.
  ///
  /// - Parameters:
  ///   - filter: Which users to include.
  ///   - sort: The order.
  ///   - limit: The page size.
  ///   - after: The cursor of the previous page.
  public init(
    filter: UserFilter = UserFilter(), sort: UserSort = UserSort(), limit: Int = 50,
    after: UserCursor? = nil
  ) {
    self.filter = filter
    self.sort = sort
    self.limit = limit
    self.after = after
  }

  /// Checks the limit and that the cursor belongs to this order.
  ///
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidField``
  ///   for a bad limit or ``UserManagementError/Code/invalidCursor`` for a foreign cursor.
  public func validate() throws(UserManagementError) {
    guard (1...Self.maximumLimit).contains(limit) else {
      throw .invalidField(
        "limit", "out_of_range", "The page size must be between 1 and \(Self.maximumLimit).")
    }
    if let after, after.sort != sort {
      throw UserManagementError(
        .invalidCursor, "The cursor belongs to a listing with a different order.")
    }
  }
}

/// One page of users.
public struct UserPage: Hashable, Sendable {
  /// The users, in the query's order.
  public var users: [User]
  /// The cursor for the next page, or `nil` when this is the last page.
  public var nextCursor: UserCursor?

  /// Creates a page.
  ///
  /// - Parameters:
  ///   - users: The users.
  ///   - nextCursor: The cursor of the next page.
  public init(users: [User], nextCursor: UserCursor?) {
    self.users = users
    self.nextCursor = nextCursor
  }
}
