/// One grant of an access-control policy: some actions on some resources of one type.
///
/// In the console's JSON a permission reads
/// `{"resourceType": "dashboard", "allowed": ["view", "edit"], "resourceIds": ["*"]}`.
public struct Permission: Hashable, Sendable, Codable {
  /// The type of resource the permission applies to, such as `"dashboard"`. Matched exactly,
  /// byte for byte (see ``grants(_:on:)``).
  public var resourceType: String
  /// The actions allowed; ``Action/all`` (`"*"`) allows every action.
  public var allowed: [Action]
  /// The resources the permission applies to.
  public var resourceIds: [ResourceSelector]

  /// Creates a permission.
  ///
  /// - Parameters:
  ///   - resourceType: The resource type, such as `"dashboard"`.
  ///   - allowed: The allowed actions.
  ///   - resourceIds: The resources it applies to.
  public init(resourceType: String, allowed: [Action], resourceIds: [ResourceSelector]) {
    self.resourceType = resourceType
    self.allowed = allowed
    self.resourceIds = resourceIds
  }

  /// Whether this permission allows `action` on `resource`.
  ///
  /// Resource types and ids match by their exact UTF-8 bytes, not by Unicode canonical
  /// equivalence (which Swift's `==` on `String` uses): hosts name resources by keys they
  /// compare byte for byte, so a grant on `K1` must not allow `\u{212A}1` (KELVIN SIGN), a
  /// different key to the host that merely looks the same.
  ///
  /// - Parameters:
  ///   - action: The action requested.
  ///   - resource: The resource acted on.
  /// - Returns: Whether the permission grants it.
  public func grants(_ action: Action, on resource: Resource) -> Bool {
    guard resourceType.utf8.elementsEqual(resource.type.utf8) else { return false }
    guard allowed.contains(where: { $0 == .all || $0 == action }) else { return false }
    return resourceIds.contains { $0.matches(resource) }
  }

  /// Whether two permissions are the same grant, byte for byte: resource types, actions and
  /// ids compare by their UTF-8 bytes (see ``grants(_:on:)``), so replacing an id with a
  /// canonically equivalent spelling is a change.
  ///
  /// - Parameters:
  ///   - lhs: A permission.
  ///   - rhs: Another permission.
  /// - Returns: Whether they grant exactly the same.
  public static func == (lhs: Permission, rhs: Permission) -> Bool {
    lhs.resourceType.utf8.elementsEqual(rhs.resourceType.utf8) && lhs.allowed == rhs.allowed
      && lhs.resourceIds == rhs.resourceIds
  }

  /// Hashes the bytes equality compares.
  ///
  /// - Parameter hasher: The hasher.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(bytes: resourceType)
    hasher.combine(allowed)
    hasher.combine(resourceIds)
  }
}

extension Hasher {
  /// Feeds a string's UTF-8 bytes, then a terminator, so that hashing agrees with byte-exact
  /// equality.
  mutating func combine(bytes string: String) {
    for byte in string.utf8 { combine(byte) }
    combine(0xFF as UInt8)
  }
}

/// An action on a resource. The console knows ``view``, ``edit``, ``delete`` and the wildcard
/// ``all``; hosts may use their own action names (lowercase letters, digits, `_`, `-`, `.`).
public struct Action: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral,
  CustomStringConvertible
{
  /// The action's name.
  public let rawValue: String

  /// Wraps an action name. Validation happens when a policy is saved.
  ///
  /// - Parameter rawValue: The action's name.
  public init(rawValue: String) {
    self.rawValue = rawValue
  }

  /// Wraps an action name written as a literal.
  ///
  /// - Parameter value: The action's name.
  public init(stringLiteral value: String) {
    self.rawValue = value
  }

  /// The action's name.
  public var description: String { rawValue }

  /// Whether two actions have the same name, byte for byte.
  ///
  /// - Parameters:
  ///   - lhs: An action.
  ///   - rhs: Another action.
  /// - Returns: Whether their names are the same bytes.
  public static func == (lhs: Action, rhs: Action) -> Bool {
    lhs.rawValue.utf8.elementsEqual(rhs.rawValue.utf8)
  }

  /// Hashes the name's bytes.
  ///
  /// - Parameter hasher: The hasher.
  public func hash(into hasher: inout Hasher) { hasher.combine(bytes: rawValue) }

  /// Reading a resource.
  public static let view: Action = "view"
  /// Changing a resource.
  public static let edit: Action = "edit"
  /// Deleting a resource.
  public static let delete: Action = "delete"
  /// Every action (`"*"`), in a permission's `allowed` list.
  public static let all: Action = "*"

  /// Decodes an action name.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` if the value is not a string.
  public init(from decoder: any Decoder) throws {
    rawValue = try decoder.singleValueContainer().decode(String.self)
  }

  /// Encodes the action name.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }

  var isWellFormed: Bool {
    if self == .all { return true }
    guard let first = rawValue.utf8.first, first >= 0x61 && first <= 0x7A else { return false }
    return rawValue.utf8.count <= 64
      && rawValue.utf8.allSatisfy { byte in
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
          || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
      }
  }
}

/// Which resources of a type a permission covers.
///
/// In JSON a selector is a string: `"*"` for every resource, `"parent:<id>"` for the children
/// of the resource `<id>`, and any other string for the resource with exactly that id.
public enum ResourceSelector: Hashable, Sendable, Codable, CustomStringConvertible {
  /// Every resource of the type (`"*"`).
  case any
  /// The resource with exactly this id, compared byte for byte. The id may not be `"*"` or
  /// start with `"parent:"` (a policy holding one is refused), since its JSON form would read
  /// back as ``any`` or ``childrenOf(_:)``.
  case id(String)
  /// Every resource whose parent is this id (`"parent:<id>"`). The parent itself is not
  /// included; grant it with its own ``id(_:)`` selector.
  case childrenOf(String)

  /// Parses the JSON string form.
  ///
  /// - Parameter string: `"*"`, `"parent:<id>"` or an exact id.
  public init(_ string: String) {
    // On bytes: `String.hasPrefix` compares whole characters, and `parent:` followed by a
    // combining mark would not "start with" `parent:` although its bytes do.
    let prefix = Self.parentPrefix.utf8
    if string.utf8.elementsEqual("*".utf8) {
      self = .any
    } else if string.utf8.starts(with: prefix) {
      self = .childrenOf(String(decoding: string.utf8.dropFirst(prefix.count), as: UTF8.self))
    } else {
      self = .id(string)
    }
  }

  /// Whether two selectors select the same resources: same case, ids equal byte for byte.
  ///
  /// - Parameters:
  ///   - lhs: A selector.
  ///   - rhs: Another selector.
  /// - Returns: Whether they are the same selector.
  public static func == (lhs: ResourceSelector, rhs: ResourceSelector) -> Bool {
    switch (lhs, rhs) {
    case (.any, .any): true
    case (.id(let a), .id(let b)), (.childrenOf(let a), .childrenOf(let b)):
      a.utf8.elementsEqual(b.utf8)
    default: false
    }
  }

  /// Hashes the case and the id's bytes.
  ///
  /// - Parameter hasher: The hasher.
  public func hash(into hasher: inout Hasher) {
    switch self {
    case .any: hasher.combine(0 as UInt8)
    case .id(let id):
      hasher.combine(1 as UInt8)
      hasher.combine(bytes: id)
    case .childrenOf(let parent):
      hasher.combine(2 as UInt8)
      hasher.combine(bytes: parent)
    }
  }

  /// The JSON string form.
  public var description: String {
    switch self {
    case .any: "*"
    case .id(let id): id
    case .childrenOf(let parent): Self.parentPrefix + parent
    }
  }

  /// Whether the selector covers `resource`, comparing ids by their exact UTF-8 bytes.
  ///
  /// - Parameter resource: The resource.
  /// - Returns: Whether it is selected.
  public func matches(_ resource: Resource) -> Bool {
    switch self {
    case .any: true
    case .id(let id): id.utf8.elementsEqual(resource.id.utf8)
    case .childrenOf(let parent): resource.parentID?.utf8.elementsEqual(parent.utf8) ?? false
    }
  }

  /// Decodes the JSON string form.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` if the value is not a string.
  public init(from decoder: any Decoder) throws {
    self.init(try decoder.singleValueContainer().decode(String.self))
  }

  /// Encodes the JSON string form.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }

  static let parentPrefix = "parent:"
}

/// A resource a user wants to act on, described for an authorization check.
public struct Resource: Hashable, Sendable {
  /// The resource type, such as `"dashboard"`.
  public var type: String
  /// The resource's id.
  public var id: String
  /// The id of the resource's parent, if it has one (matched by `parent:<id>` selectors).
  public var parentID: String?
  /// The user who owns (created) the resource, if known.
  public var owner: UserID?

  /// Describes a resource.
  ///
  /// - Parameters:
  ///   - type: The resource type.
  ///   - id: The resource id.
  ///   - parentID: The parent resource's id.
  ///   - owner: The owning user.
  public init(type: String, id: String, parentID: String? = nil, owner: UserID? = nil) {
    self.type = type
    self.id = id
    self.parentID = parentID
    self.owner = owner
  }
}
