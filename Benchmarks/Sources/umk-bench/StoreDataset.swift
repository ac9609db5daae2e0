import Foundation
import UserManagementKit
import UserManagementKitTesting

/// The stored users of the store benchmarks: the directory benchmarks' population (see
/// ``Dataset``) as complete `UserRecord`s, made without a `UserDirectory` so that a store can be
/// filled directly, and the same rows as tab-separated text for the SQLite reference.
///
/// Every field derives from the user's number, so both stores hold exactly the same users:
/// a random-looking version-4 UUID, a realistic Argon2id PHC string (`$argon2id$v=19$m=19456,
/// t=2,p=1$<salt>$<tag>`, 97 characters; nothing is really hashed), for users with API access a
/// token hash as `APIPasswordGenerator` makes them (89 characters), a 15-character security
/// stamp, version 1, and creation and update times one second apart per user from 2026-01-01.
/// Every user was created by the first administrator of the population.
struct StoreDataset: Sendable {
  /// The population.
  let dataset: Dataset
  /// The policies users hold, created in the store before them.
  let policies: [Policy]
  /// Who created every user: the first administrator.
  let creator: Principal

  /// The population of `count` users.
  ///
  /// - Parameter count: The number of users.
  init(count: Int) {
    dataset = Dataset(count: count)
    let created = Self.epoch
    policies = Dataset.policyNames.enumerated().map { offset, name in
      Policy(
        id: PolicyID(rawValue: Self.uuid(seed: 0x9011_C1E5 &+ UInt64(offset))), name: name,
        description: "",
        permissions: [
          Permission(
            resourceType: name.lowercased().replacing(" ", with: "-"), allowed: [.view, .edit],
            resourceIds: [.any])
        ],
        version: 1, createdAt: created, updatedAt: created)
    }
    var firstAdmin = 0
    while firstAdmin < count - 1,
      dataset.profile(at: firstAdmin, policies: []).role != .admin
    {
      firstAdmin += 1
    }
    creator = .user(UserID(rawValue: Self.uuid(seed: UInt64(dataset.number(at: firstAdmin)))))
  }

  /// The number of users.
  var count: Int { dataset.count }

  /// 2026-01-01T00:00:00Z, the creation time of the first user.
  static let epoch = Date(timeIntervalSince1970: 1_767_225_600)

  /// The record of the user inserted `index`-th, at version 1.
  ///
  /// - Parameter index: The insertion index, `0..<count`.
  /// - Returns: The record.
  /// - Throws: ``UserManagementError`` if the generated username were invalid (it is not).
  func record(at index: Int) throws(UserManagementError) -> UserRecord {
    let profile = dataset.profile(at: index, policies: policies.map(\.id))
    var stream = UInt64(profile.number) &* 0x2545_F491_4F6C_DDFD
    func text(_ length: Int) -> String {
      var bytes: [UInt8] = []
      bytes.reserveCapacity(length)
      while bytes.count < length {
        stream = SeededRandomNumberGenerator.mix(stream)
        var bits = stream
        for _ in 0..<10 where bytes.count < length {
          bytes.append(Self.base64Alphabet[Int(bits & 0x3F)])
          bits >>= 6
        }
      }
      return String(decoding: bytes, as: UTF8.self)
    }
    let passwordHash = PasswordHash(
      encoded: "$argon2id$v=19$m=19456,t=2,p=1$" + text(22) + "$" + text(43))
    let apiPasswordHash =
      profile.apiAccessEnabled
      ? PasswordHash(encoded: "$umk-token-hmac-sha256$" + text(22) + "$" + text(43)) : nil
    let created = Self.epoch.addingTimeInterval(Double(index))
    let user = User(
      id: UserID(rawValue: Self.uuid(seed: UInt64(profile.number))),
      username: try Username(profile.username), firstName: profile.firstName,
      lastName: profile.lastName, status: profile.status, role: profile.role,
      policies: profile.policies, apiAccessEnabled: profile.apiAccessEnabled,
      hasAPIPassword: apiPasswordHash != nil, hasPassword: true, mustChangePassword: false,
      version: 1, securityStamp: SecurityStamp(rawValue: text(15)), createdAt: created,
      updatedAt: created, createdBy: creator)
    return UserRecord(user: user, passwordHash: passwordHash, apiPasswordHash: apiPasswordHash)
  }

  /// The records of the users inserted `range`-th.
  ///
  /// - Parameter range: Insertion indexes.
  /// - Returns: The records, in insertion order.
  /// - Throws: What ``record(at:)`` throws.
  func records(_ range: Range<Int>) throws(UserManagementError) -> [UserRecord] {
    var result: [UserRecord] = []
    result.reserveCapacity(range.count)
    for index in range { result.append(try record(at: index)) }
    return result
  }

  /// Appends a record as one line of the SQLite reference's input: 16 tab-separated fields,
  /// in the order of `sqlite_ref.c`'s `split_fields` (policies comma-separated, a missing hash
  /// empty, times as seconds since 1970).
  ///
  /// - Parameters:
  ///   - record: The record.
  ///   - text: The text to append to.
  static func appendLine(_ record: UserRecord, to text: inout String) {
    let user = record.user
    let fields = [
      user.id.description, user.username.rawValue, user.firstName, user.lastName,
      user.status.rawValue, user.role.rawValue,
      user.policies.map(\.description).sorted().joined(separator: ","),
      user.apiAccessEnabled ? "1" : "0", user.mustChangePassword ? "1" : "0",
      record.passwordHash?.encoded ?? "", record.apiPasswordHash?.encoded ?? "",
      String(user.version), user.securityStamp.rawValue,
      String(user.createdAt.timeIntervalSince1970), String(user.updatedAt.timeIntervalSince1970),
      user.createdBy.description,
    ]
    text += fields.joined(separator: "\t")
    text += "\n"
  }

  /// The user changed by the `k`-th update of the update benchmarks: a permutation of the
  /// users for consecutive `k`, the same function as `user_for` in `sqlite_ref.c`.
  ///
  /// - Parameter k: The update's number.
  /// - Returns: The user's insertion index.
  func userIndex(forUpdate k: UInt64) -> Int {
    let count = UInt64(self.count)
    return Int((k % count) &* 48_271 % count)
  }

  /// The first name the `k`-th update sets (the same as `sqlite_ref.c`'s).
  ///
  /// - Parameter k: The update's number.
  /// - Returns: Such as `Name1234`.
  static func updatedFirstName(_ k: UInt64) -> String {
    "Name\(k)"
  }

  /// `A`–`Z`, `a`–`z`, `0`–`9`, `+`, `/`.
  private static let base64Alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  /// A random-looking version-4 UUID derived from a seed.
  ///
  /// - Parameter seed: Any value; equal seeds give equal UUIDs.
  /// - Returns: The UUID.
  static func uuid(seed: UInt64) -> UUID {
    let high = (SeededRandomNumberGenerator.mix(seed ^ 0x55AA_55AA) & ~0xF000) | 0x4000
    let low =
      (SeededRandomNumberGenerator.mix(high) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
    func byte(_ word: UInt64, _ index: Int) -> UInt8 {
      UInt8(truncatingIfNeeded: word >> (56 - 8 * index))
    }
    return UUID(
      uuid: (
        byte(high, 0), byte(high, 1), byte(high, 2), byte(high, 3), byte(high, 4),
        byte(high, 5), byte(high, 6), byte(high, 7), byte(low, 0), byte(low, 1), byte(low, 2),
        byte(low, 3), byte(low, 4), byte(low, 5), byte(low, 6), byte(low, 7)
      ))
  }
}
