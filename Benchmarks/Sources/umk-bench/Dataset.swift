import UserManagementKit
import UserManagementKitTesting

/// The deterministic users a benchmark directory holds.
///
/// User `index` (the order of insertion) gets the username number
/// `(index × 611,953 + 12,345) mod count`, a permutation of `0..<count`, so usernames are not
/// inserted in sorted order. Everything else about a user derives from a SplitMix64 hash of that
/// number (``SeededRandomNumberGenerator/mix(_:)``):
///
/// - about 2% administrators, the rest General Users;
/// - about 15% inactive;
/// - about 30% with direct API access;
/// - General Users hold no policy (30%), one (50%) or two (20%) of ``policyNames``;
/// - first names are two syllables, one of 100 (`Kalina`, `Torek`, …), so each first name, and
///   so each search term of ``searchTerms``, matches about 1% of users;
/// - last names are two syllables, one of 256 (`Bromwell`, `Fennford`, …).
struct Dataset: Sendable {
  /// The number of users.
  let count: Int

  /// The policies the population is spread over.
  static let policyNames = [
    "Reports reader", "Billing editor", "Support agent", "Inventory manager", "Auditor",
    "Developer",
  ]

  private static let firstSyllables = ["ka", "to", "mi", "sa", "le", "vo", "ri", "na", "jo", "be"]
  private static let secondSyllables = [
    "lina", "rek", "dova", "mir", "tana", "sel", "vin", "rud", "peta", "gor",
  ]
  private static let lastStems = [
    "Brom", "Char", "Dusk", "Fenn", "Gald", "Hask", "Ivor", "Jask", "Kern", "Lund", "Morr",
    "Nock", "Oss", "Pell", "Quin", "Rask",
  ]
  private static let lastEndings = [
    "well", "ton", "berg", "stead", "ford", "wick", "holm", "ley", "by", "worth", "dale",
    "more", "field", "haven", "croft", "gate",
  ]
  private static let stride = 611_953
  private static let offset = 12_345

  /// The username number of the user inserted `index`-th.
  ///
  /// - Parameter index: The insertion index, `0..<count`.
  /// - Returns: The number in the username.
  func number(at index: Int) -> Int {
    (index % count * Self.stride % count + Self.offset) % count
  }

  /// The username with this number, such as `user0123456@example.com`.
  ///
  /// - Parameter number: A username number.
  /// - Returns: The username as typed.
  static func username(_ number: Int) -> String {
    let digits = String(number)
    return "user" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits
      + "@example.com"
  }

  /// Everything about the user inserted `index`-th but its credentials and bookkeeping.
  struct Profile {
    /// The number in the username.
    var number: Int
    /// The username as typed.
    var username: String
    /// The first name.
    var firstName: String
    /// The last name.
    var lastName: String
    /// Active or inactive.
    var status: UserStatus
    /// Administrator or General User.
    var role: Role
    /// The policies held (none for administrators).
    var policies: Set<PolicyID>
    /// Whether direct API access is enabled.
    var apiAccessEnabled: Bool
  }

  /// The profile of the user inserted `index`-th.
  ///
  /// - Parameters:
  ///   - index: The insertion index.
  ///   - policies: The identifiers of the policies named by ``policyNames``, in order.
  /// - Returns: The profile.
  func profile(at index: Int, policies: [PolicyID]) -> Profile {
    let number = number(at: index)
    let traits = SeededRandomNumberGenerator.mix(UInt64(number))
    let names = SeededRandomNumberGenerator.mix(traits)
    let role: Role = traits % 100 < 2 ? .admin : .generalUser
    let status: UserStatus = (traits >> 8) % 100 < 15 ? .inactive : .active
    let apiAccess = (traits >> 16) % 100 < 30
    var held: Set<PolicyID> = []
    if role == .generalUser, !policies.isEmpty {
      let count = policies.count
      let first = Int((traits >> 32) % UInt64(count))
      switch (traits >> 24) % 10 {
      case 3...7:
        held = [policies[first]]
      case 8...9:
        let second = (first + 1 + Int((traits >> 40) % UInt64(count - 1))) % count
        held = [policies[first], policies[second]]
      default:
        break
      }
    }
    return Profile(
      number: number, username: Self.username(number), firstName: Self.firstName(names),
      lastName: Self.lastName(names), status: status, role: role, policies: held,
      apiAccessEnabled: apiAccess)
  }

  /// The request that adds the user inserted `index`-th.
  ///
  /// - Parameters:
  ///   - index: The insertion index.
  ///   - policies: The identifiers of the policies named by ``policyNames``, in order.
  ///   - password: The typed password (the same for everyone; hashing is not measured).
  /// - Returns: The request.
  func newUser(at index: Int, policies: [PolicyID], password: Secret) -> NewUser {
    let profile = profile(at: index, policies: policies)
    return NewUser(
      username: profile.username, firstName: profile.firstName, lastName: profile.lastName,
      password: .typed(password), status: profile.status, role: profile.role,
      policies: profile.policies, apiAccessEnabled: profile.apiAccessEnabled)
  }

  /// Every first name, lowercased: search terms that each match about 1% of users, in a fixed
  /// shuffled order.
  static var searchTerms: [String] {
    var terms: [String] = []
    for first in firstSyllables {
      for second in secondSyllables { terms.append(first + second) }
    }
    var state: UInt64 = 42
    for index in terms.indices.reversed() where index > 0 {
      state = SeededRandomNumberGenerator.mix(state)
      terms.swapAt(index, Int(state % UInt64(index + 1)))
    }
    return terms
  }

  private static func firstName(_ bits: UInt64) -> String {
    let first = firstSyllables[Int(bits % 10)]
    let second = secondSyllables[Int((bits / 10) % 10)]
    return capitalized(first) + second
  }

  private static func lastName(_ bits: UInt64) -> String {
    let stem = lastStems[Int((bits / 100) % 16)]
    let ending = lastEndings[Int((bits / 1_600) % 16)]
    return stem + ending
  }

  private static func capitalized(_ syllable: String) -> String {
    syllable.prefix(1).uppercased() + syllable.dropFirst()
  }
}
