import Testing
import UserManagementKitTesting

@testable import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Entries keyed by username with a hash of a few values only, so that many keys share a home
/// slot and clusters run over the table's end: what the tables must survive, which seeded
/// hashes make rare.
private enum CollidingKeys: EntryKeying {
  static func hash(of entry: DirectoryEntry) -> Int { hash(entry.key) }
  static func hash(_ key: String) -> Int {
    // Five hashes: forty keys share five home slots, and clusters run into one another and
    // (the last, at 0.91 of the table) past its end.
    -1 - (key.utf8.reduce(0) { $0 &+ Int($1) } % 5)
  }
  static func entry(_ entry: DirectoryEntry, hasKey key: String) -> Bool { entry.key == key }
  static func sameKey(_ a: DirectoryEntry, _ b: DirectoryEntry) -> Bool { a.key == b.key }
  static var prefetchedBytes: (offset: Int, count: Int) { (0, 64) }
}

/// The hash tables of the id and username indexes, against a `Dictionary` doing the same.
@Suite("Entry tables")
struct EntryTableTests {
  private func entry(_ number: Int, version: UInt64 = 1, id: UserID? = nil) -> DirectoryEntry {
    let user = User(
      id: id ?? UserID(rawValue: UUID()), username: Username(stored: "user\(number)@example.com"),
      firstName: "F", lastName: "\(number)", status: .active, role: .generalUser, policies: [],
      apiAccessEnabled: false, hasAPIPassword: false, hasPassword: false,
      mustChangePassword: false, version: version, securityStamp: SecurityStamp(rawValue: "s"),
      createdAt: Date(timeIntervalSinceReferenceDate: 0),
      updatedAt: Date(timeIntervalSinceReferenceDate: 0), createdBy: .system("t"))
    return DirectoryEntry(UserRecord(user: user, passwordHash: nil, apiPasswordHash: nil))
  }

  /// Random puts, removals and lookups over few keys: each returns what the dictionary's
  /// does, and the table holds what it holds after every step.
  private func checkAgainstDictionary<Keying: EntryKeying>(
    _: Keying.Type, keys: Int, steps: Int, seed: UInt64
  ) where Keying.Key == String {
    var random = SeededRandomNumberGenerator(seed: seed)
    var table = EntryTable<Keying>()
    var model: [String: DirectoryEntry] = [:]
    var versions: [Int: UInt64] = [:]
    for step in 0..<steps {
      let number = Int(random.next() % UInt64(keys))
      let key = "user\(number)@example.com"
      switch random.next() % 10 {
      case 0..<5:
        let version = versions[number, default: 0] + 1
        versions[number] = version
        let made = entry(number, version: version)
        let replaced = table.put(made)
        #expect(replaced === model.updateValue(made, forKey: key), "step \(step)")
      case 5..<8:
        #expect(table.remove(key: key) === model.removeValue(forKey: key), "step \(step)")
      default:
        #expect(table[key] === model[key], "step \(step)")
      }
      #expect(table.count == model.count, "step \(step)")
      if step % 97 == 0 || step == steps - 1 {
        for (key, entry) in model { #expect(table[key] === entry, "step \(step): \(key)") }
        let held = table.entries.map(\.key).sorted()
        #expect(held == model.keys.sorted(), "step \(step)")
      }
    }
  }

  @Test func collidingKeysBehaveAsADictionary() {
    for seed: UInt64 in [1, 2, 3] {
      checkAgainstDictionary(CollidingKeys.self, keys: 40, steps: 3_000, seed: seed)
    }
  }

  @Test func usernameKeysBehaveAsADictionary() {
    checkAgainstDictionary(EntriesByUsername.self, keys: 400, steps: 6_000, seed: 7)
  }

  /// Adding many at once stops at the first key already held, adding nothing from it on.
  @Test func putAllStopsAtTheFirstRepeatedKey() {
    for count in [0, 1, 7, 8, 9, 16, 17, 100, 300] {
      let elements = (0..<count).map { OrderedEntries.Element(entry($0)) }
      var table = UsernameIndex(minimumCapacity: 2)
      #expect(elements.withUnsafeBufferPointer { table.putAll($0) } == nil, "\(count)")
      #expect(table.count == count)
      for element in elements { #expect(table[element.entry.key] === element.entry) }

      guard count > 3 else { continue }
      let repeated = count / 2
      let more =
        (count..<count + 3).map { OrderedEntries.Element(entry($0)) }
        + [OrderedEntries.Element(entry(repeated, version: 2))]
        + (count + 3..<count + 30).map { OrderedEntries.Element(entry($0)) }
      let stop = more.withUnsafeBufferPointer { table.putAll($0) }
      #expect(stop == 3, "\(count)")
      #expect(table.count == count + 3)
      #expect(table[elements[repeated].entry.key] === elements[repeated].entry)
      #expect(table[more[4].entry.key] == nil)
    }
  }

  /// Adding many at once with few hashes (clusters past the table's end) holds what adding
  /// them one at a time holds, and stops at a key repeated within the same call.
  @Test func putAllWithCollidingKeys() {
    for count in [1, 5, 20, 40] {
      let entries = (0..<count).map { entry($0) }
      let elements = entries.map { OrderedEntries.Element($0) }
      var many = EntryTable<CollidingKeys>(minimumCapacity: 1)
      var one = EntryTable<CollidingKeys>(minimumCapacity: 1)
      #expect(elements.withUnsafeBufferPointer { many.putAll($0) } == nil, "\(count)")
      for entry in entries { #expect(one.put(entry) == nil) }
      #expect(many.count == count)
      for entry in entries {
        #expect(many[entry.key] === entry, "\(count): \(entry.key)")
        #expect(one[entry.key] === entry)
      }
      // A key repeated within one call stops it there, the first of the key kept.
      let twice = elements + [OrderedEntries.Element(entry(count / 2, version: 2))] + elements
      var other = EntryTable<CollidingKeys>()
      #expect(twice.withUnsafeBufferPointer { other.putAll($0) } == count, "\(count)")
      #expect(other.count == count)
      #expect(other[entries[count / 2].key] === entries[count / 2])
    }
  }

  /// The id index finds each entry by id, not by username, and adding many agrees with adding
  /// one at a time.
  @Test func theIDIndexKeysByID() {
    let entries = (0..<1_000).map { entry($0) }
    var one = IDIndex()
    for entry in entries { #expect(one.put(entry) == nil) }
    var many = IDIndex(minimumCapacity: 10)
    let elements = entries.map { OrderedEntries.Element($0) }
    #expect(elements.withUnsafeBufferPointer { many.putAll($0) } == nil)
    for entry in entries {
      #expect(one[entry.record.id] === entry)
      #expect(many[entry.record.id] === entry)
    }
    let same = entry(5, version: 2, id: entries[5].record.id)
    #expect(one.put(same) === entries[5])
    #expect(one[same.record.id] === same)
    #expect(one.remove(key: same.record.id) === same)
    #expect(one[same.record.id] == nil)
    #expect(one.count == 999)
    #expect(one.remove(key: same.record.id) == nil)
  }
}
