import CUMKSystem

/// How an ``EntryTable`` keys its entries.
protocol EntryKeying {
  associatedtype Key
  /// The hash of an entry's key. It must be a seeded hash (`hashValue`: SipHash with the
  /// process's random seed), so that whoever picks keys cannot pick collisions.
  static func hash(of entry: DirectoryEntry) -> Int
  /// The hash of `key`, as ``hash(of:)`` gives it for an entry with that key.
  static func hash(_ key: Key) -> Int
  /// Whether `entry`'s key is `key`.
  static func entry(_ entry: DirectoryEntry, hasKey key: Key) -> Bool
  /// Whether two entries have the same key.
  static func sameKey(_ a: DirectoryEntry, _ b: DirectoryEntry) -> Bool
  /// The part of an entry that adding it reads (its reference count and what ``hash(of:)``
  /// reads), and that a bulk load reads right after, as a byte offset into the object and a
  /// length: what ``EntryTable/putAll(_:)`` asks the processor for ahead of time.
  static var prefetchedBytes: (offset: Int, count: Int) { get }
}

/// Entries by their user's id.
enum EntriesByID: EntryKeying {
  static func hash(of entry: DirectoryEntry) -> Int { entry.record.id.hashValue }
  static func hash(_ key: UserID) -> Int { key.hashValue }
  static func entry(_ entry: DirectoryEntry, hasKey key: UserID) -> Bool {
    entry.record.id == key
  }
  static func sameKey(_ a: DirectoryEntry, _ b: DirectoryEntry) -> Bool {
    a.record.id == b.record.id
  }
  // The id lies inside the record, past the key's fields: the object's first two cache lines
  // hold it.
  static var prefetchedBytes: (offset: Int, count: Int) { (0, 128) }
}

/// Entries by their canonical username, whose hash each entry carries.
enum EntriesByUsername: EntryKeying {
  static func hash(of entry: DirectoryEntry) -> Int { entry.keyHash }
  static func hash(_ key: String) -> Int { key.hashValue }
  static func entry(_ entry: DirectoryEntry, hasKey key: String) -> Bool { entry.key == key }
  static func sameKey(_ a: DirectoryEntry, _ b: DirectoryEntry) -> Bool { a.key == b.key }
  // The hash is in the object's first cache line; the user's status, role and policies, which
  // opening counts right after, within its first four.
  static var prefetchedBytes: (offset: Int, count: Int) { (0, 256) }
}

/// The id index.
typealias IDIndex = EntryTable<EntriesByID>
/// The username index: the entries by canonical username.
typealias UsernameIndex = EntryTable<EntriesByUsername>

/// A hash table of entries, each found by the key `Keying` gives it: open addressing with
/// linear probing, each slot holding an entry and its key's hash.
///
/// A slot is 16 bytes, and a lookup or an insertion reads one slot's cache line in the common
/// case, then the entry only where the stored hash matches. Growing rehashes from the stored
/// hashes without reading an entry. ``putAll(_:)`` adds many entries asking the processor
/// for each one's slot and object some places ahead, so that their cache misses overlap:
/// opening a large store builds its indexes with it.
///
/// The hashes are seeded SipHash (``EntryKeying/hash(of:)``); a slot's place is the top bits
/// of the hash times the 64-bit golden ratio, so that a table filled in another table's
/// order does not cluster.
struct EntryTable<Keying: EntryKeying> {
  fileprivate struct Slot {
    var hash: Int
    var entry: DirectoryEntry?
  }

  private var slots: [Slot]
  /// `64 - log2(slots.count)`: a hash's home slot is the top bits of its mixed value.
  private var shift: Int
  /// The number of entries.
  private(set) var count = 0

  /// An empty table with room for `minimumCapacity` entries before it grows.
  init(minimumCapacity: Int = 0) {
    let size = Self.size(for: minimumCapacity)
    slots = Array(repeating: Slot(hash: 0, entry: nil), count: size)
    shift = 64 - size.trailingZeroBitCount
  }

  /// The slot count for `capacity` entries: a power of two at least 8, at most three
  /// quarters full.
  private static func size(for capacity: Int) -> Int {
    var size = 8
    while size / 4 * 3 < capacity { size <<= 1 }
    return size
  }

  /// Whether the table is empty.
  var isEmpty: Bool { count == 0 }

  /// Every entry, in no particular order.
  var entries: some Sequence<DirectoryEntry> { slots.lazy.compactMap(\.entry) }

  @inline(__always)
  private func home(_ hash: Int) -> Int { Self.home(hash, shift: shift) }

  /// The slot holding `key`'s entry, or `nil`.
  private func slot(of key: Keying.Key, hash: Int) -> Int? {
    let shift = shift
    let found = slots.withUnsafeBufferPointer { slots in
      Self.probe(slots, hash: hash, shift: shift) { Keying.entry($0, hasKey: key) }
    }
    return found.isHeld ? found.index : nil
  }

  /// The entry whose key is `key`.
  subscript(key: Keying.Key) -> DirectoryEntry? {
    slot(of: key, hash: Keying.hash(key)).flatMap { slots[$0].entry }
  }

  /// Adds `entry`, replacing the entry with its key, if any.
  ///
  /// - Returns: The entry replaced.
  @discardableResult
  mutating func put(_ entry: DirectoryEntry) -> DirectoryEntry? {
    let hash = Keying.hash(of: entry)
    let shift = shift
    // A table at its limit grows only for a new key.
    let roomForOneMore = count < slots.count / 4 * 3
    let (replaced, added) = slots.withUnsafeMutableBufferPointer {
      slots -> (DirectoryEntry?, Bool) in
      let index = Self.slot(for: entry, hash: hash, in: slots, shift: shift)
      if let existing = slots[index].entry {
        slots[index].entry = entry
        return (existing, false)
      }
      guard roomForOneMore else { return (nil, false) }
      slots[index] = Slot(hash: hash, entry: entry)
      return (nil, true)
    }
    if added {
      count += 1
    } else if replaced == nil {
      _ = insertNew(entry, hash: hash)
    }
    return replaced
  }

  /// Adds `entry` (whose key's hash is `hash`) unless an entry with its key is there, growing
  /// the table first if it is at its limit; returns whether it did.
  private mutating func insertNew(_ entry: DirectoryEntry, hash: Int) -> Bool {
    reserve(count + 1)
    let shift = shift
    return slots.withUnsafeMutableBufferPointer { slots in
      Self.insert(entry, hash: hash, into: slots, shift: shift, count: &count)
    }
  }

  /// Adds `entry` to slots with room for one more entry unless an entry with its key is
  /// there; returns whether it did.
  @inline(__always)
  private static func insert(
    _ entry: DirectoryEntry, hash: Int, into slots: UnsafeMutableBufferPointer<Slot>,
    shift: Int, count: inout Int
  ) -> Bool {
    let index = slot(for: entry, hash: hash, in: slots, shift: shift)
    guard slots[index].entry == nil else { return false }
    slots[index] = Slot(hash: hash, entry: entry)
    count += 1
    return true
  }

  /// The slot of the entry with `entry`'s key, or the empty slot where it would go.
  @inline(__always)
  private static func slot(
    for entry: DirectoryEntry, hash: Int, in slots: UnsafeMutableBufferPointer<Slot>, shift: Int
  ) -> Int {
    probe(UnsafeBufferPointer(slots), hash: hash, shift: shift) { Keying.sameKey($0, entry) }
      .index
  }

  /// Walks from `hash`'s home slot to the entry with that hash that `matches` accepts
  /// (`isHeld`), or to the empty slot that ends the run (where such an entry would go).
  @inline(__always)
  private static func probe(
    _ slots: UnsafeBufferPointer<Slot>, hash: Int, shift: Int,
    _ matches: (DirectoryEntry) -> Bool
  ) -> (index: Int, isHeld: Bool) {
    let mask = slots.count - 1
    var index = home(hash, shift: shift)
    // The entry is taken out only where the hash matches: taking it out retains it, a
    // write to the entry's own memory.
    while slots[index].entry != nil {
      if slots[index].hash == hash, let entry = slots[index].entry, matches(entry) {
        return (index, true)
      }
      index = (index + 1) & mask
    }
    return (index, false)
  }

  /// The home slot of `hash` in a table of `1 << (64 - shift)` slots.
  @inline(__always)
  private static func home(_ hash: Int, shift: Int) -> Int {
    Int(truncatingIfNeeded: (UInt64(UInt(bitPattern: hash)) &* 0x9E37_79B9_7F4A_7C15) >> shift)
  }

  /// Removes the entry whose key is `key`, if any.
  ///
  /// - Returns: The entry removed.
  @discardableResult
  mutating func remove(key: Keying.Key) -> DirectoryEntry? {
    guard var hole = slot(of: key, hash: Keying.hash(key)) else { return nil }
    let removed = slots[hole].entry
    slots[hole] = Slot(hash: 0, entry: nil)
    count -= 1
    // Backward-shift deletion: every entry after the hole, up to the next empty slot, moves
    // into it if the hole lies between its home and where it is, so that no lookup stops
    // short at the hole.
    let mask = slots.count - 1
    var index = hole
    while true {
      index = (index + 1) & mask
      guard slots[index].entry != nil else { break }
      let fromHome = (index - home(slots[index].hash)) & mask
      if fromHome >= (index - hole) & mask {
        slots[hole] = slots[index]
        slots[index] = Slot(hash: 0, entry: nil)
        hole = index
      }
    }
    return removed
  }

  /// Makes room for `capacity` entries, rehashing into a larger table if needed.
  mutating func reserve(_ capacity: Int) {
    guard capacity > slots.count / 4 * 3 else { return }
    let size = Self.size(for: capacity)
    let old = slots
    slots = Array(repeating: Slot(hash: 0, entry: nil), count: size)
    let shift = 64 - size.trailingZeroBitCount
    self.shift = shift
    let mask = size - 1
    slots.withUnsafeMutableBufferPointer { slots in
      for slot in old where slot.entry != nil {
        var index = Self.home(slot.hash, shift: shift)
        while slots[index].entry != nil { index = (index + 1) & mask }
        slots[index] = slot
      }
    }
  }

  /// Adds the entries of `elements` in order, as ``put(_:)`` would each, until one has the
  /// key of an entry already in the table.
  ///
  /// Loading a large store adds a million entries scattered over the heap to a table larger
  /// than the processor's caches, a cache miss for the entry (to hash it and retain it) and
  /// one for its slot each. This asks the processor for the entry `2 × distance` places ahead
  /// and for the slot `distance` places ahead (the entry by then in the cache, to hash), so
  /// that the misses overlap instead of following one another.
  ///
  /// - Returns: The position of the first element whose key was already in the table (it and
  ///   the elements after it are not added), or `nil`.
  mutating func putAll(_ elements: UnsafeBufferPointer<OrderedEntries.Element>) -> Int? {
    reserve(count + elements.count)
    guard let base = elements.baseAddress else { return nil }
    guard let referenceOffset = MemoryLayout<OrderedEntries.Element>.offset(of: \.entry) else {
      // Not a stored property any more: one at a time, without asking ahead.
      for (position, element) in elements.enumerated()
      where !insertNew(element.entry, hash: Keying.hash(of: element.entry)) {
        return position
      }
      return nil
    }
    let distance = 8
    let shift = shift
    let hashed = Keying.prefetchedBytes
    /// The address of the entry at `position`, read as a plain address: not retained, which
    /// would wait for the cache miss this is to hide.
    func object(at position: Int) -> UnsafeRawPointer? {
      (UnsafeRawPointer(base + position) + referenceOffset).load(as: UnsafeRawPointer?.self)
    }
    var count = count
    defer { self.count = count }
    return slots.withUnsafeMutableBufferPointer { slots -> Int? in
      guard let slotBase = slots.baseAddress else { return nil }
      // The hashes of the entries between `distance` places ahead and the current one.
      return withUnsafeTemporaryAllocation(of: Int.self, capacity: distance) { pending in
        /// Hashes the entry at `position` (asked for earlier), keeps the hash and asks for
        /// its slot.
        func prepare(_ position: Int) {
          guard position < elements.count, let address = object(at: position) else { return }
          let hash = Unmanaged<DirectoryEntry>.fromOpaque(address)
            ._withUnsafeGuaranteedRef { Keying.hash(of: $0) }
          pending[position % distance] = hash
          cumk_prefetch_for_write(slotBase + Self.home(hash, shift: shift))
        }
        func request(_ position: Int) {
          guard position < elements.count, let address = object(at: position) else { return }
          var offset = hashed.offset
          while offset < hashed.offset + hashed.count {
            cumk_prefetch_for_write(address + offset)
            offset += 64
          }
        }
        for position in 0..<min(elements.count, 2 * distance) { request(position) }
        for position in 0..<min(elements.count, distance) { prepare(position) }
        for position in elements.indices {
          request(position + 2 * distance)
          let hash = pending[position % distance]
          prepare(position + distance)
          let entry = elements[position].entry
          if !Self.insert(entry, hash: hash, into: slots, shift: shift, count: &count) {
            return position
          }
        }
        return nil
      }
    }
  }
}
