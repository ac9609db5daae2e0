/// Entries sorted by their canonical username, in chunks of at most 256, so that an insert
/// moves at most one chunk's worth of references and a listing can start anywhere after a
/// binary search — no re-sorting, however often users are added.
///
/// Each element carries the first 16 bytes of its key, so most comparisons of a binary search
/// touch only the chunk's own memory instead of following a pointer to another entry and its
/// key's buffer (at a million users those pointer chases are cache misses that cost more than
/// everything else an insert does).
struct OrderedEntries {
  typealias Entry = DirectoryEntry

  private struct Element {
    var prefix: KeyPrefix
    var entry: Entry
  }

  private static let maximumChunk = 256
  private var chunks: [[Element]] = []
  /// The key of each chunk's first entry, with its prefix, for the binary search over chunks.
  private var firstKeys: [(prefix: KeyPrefix, key: String)] = []

  /// The first chunk that could contain `key`: the last whose first key is not greater.
  private func chunkIndex(for key: String, prefix: KeyPrefix) -> Int {
    firstKeys.withUnsafeBufferPointer { firsts in
      var low = 0
      var high = firsts.count
      while low < high {
        let mid = (low + high) / 2
        let first = firsts[mid]
        let notGreater = first.prefix != prefix ? first.prefix < prefix : first.key <= key
        if notGreater { low = mid + 1 } else { high = mid }
      }
      return max(0, low - 1)
    }
  }

  /// The index in `chunk` of the first element whose key is not less than (or, with
  /// `strictly`, greater than) `key`.
  private func bound(_ key: String, prefix: KeyPrefix, in chunk: Int, strictly: Bool) -> Int {
    chunks[chunk].withUnsafeBufferPointer { elements in
      var low = 0
      var high = elements.count
      while low < high {
        let mid = (low + high) / 2
        let element = elements[mid]
        let before: Bool
        if element.prefix != prefix {
          before = element.prefix < prefix
        } else {
          before = strictly ? element.entry.key <= key : element.entry.key < key
        }
        if before { low = mid + 1 } else { high = mid }
      }
      return low
    }
  }

  mutating func insert(_ entry: Entry) {
    let element = Element(prefix: KeyPrefix(entry.key), entry: entry)
    guard let lastChunk = chunks.indices.last else {
      chunks.append([element])
      firstKeys.append((element.prefix, entry.key))
      return
    }
    let chunk: Int
    let index: Int
    if let last = chunks[lastChunk].last,
      last.prefix != element.prefix ? last.prefix < element.prefix : last.entry.key < entry.key
    {
      // Appending in key order, as bulk imports and loading a snapshot do: no search, and a
      // full last chunk is followed by a new one instead of being split in half.
      if chunks[lastChunk].count >= Self.maximumChunk {
        var next: [Element] = []
        next.reserveCapacity(Self.maximumChunk)
        next.append(element)
        chunks.append(next)
        firstKeys.append((element.prefix, entry.key))
      } else {
        chunks[lastChunk].append(element)
      }
      return
    } else {
      chunk = chunkIndex(for: entry.key, prefix: element.prefix)
      index = bound(entry.key, prefix: element.prefix, in: chunk, strictly: false)
    }
    chunks[chunk].insert(element, at: index)
    if index == 0 { firstKeys[chunk] = (element.prefix, entry.key) }
    if chunks[chunk].count > Self.maximumChunk {
      let half = Self.maximumChunk / 2
      let upper = Array(chunks[chunk][half...])
      chunks[chunk].removeSubrange(half...)
      chunks.insert(upper, at: chunk + 1)
      firstKeys.insert((upper[0].prefix, upper[0].entry.key), at: chunk + 1)
    }
  }

  /// Inserts many entries at once, none of whose keys is present yet: sorts them, then
  /// merges them with the entries present in one pass, into full chunks — instead of a search
  /// and a move of part of a chunk for each (loading a log of many new users).
  mutating func merge(_ additions: [Entry]) {
    guard !additions.isEmpty else { return }
    var sorted = additions.map { Element(prefix: KeyPrefix($0.key), entry: $0) }
    sorted.sort { Self.orders($0, before: $1) }
    let total = chunks.reduce(0) { $0 + $1.count } + sorted.count
    var merged: [[Element]] = []
    merged.reserveCapacity((total + Self.maximumChunk - 1) / Self.maximumChunk)
    var mergedFirstKeys: [(prefix: KeyPrefix, key: String)] = []
    mergedFirstKeys.reserveCapacity(merged.capacity)
    var current: [Element] = []
    current.reserveCapacity(Self.maximumChunk)
    func emit(_ element: Element) {
      if current.count == Self.maximumChunk {
        merged.append(current)
        current = []
        current.reserveCapacity(Self.maximumChunk)
      }
      if current.isEmpty { mergedFirstKeys.append((element.prefix, element.entry.key)) }
      current.append(element)
    }
    var next = 0
    // The old chunks are released one by one as they are merged, so the index is never held
    // twice over.
    var old = chunks
    chunks = []
    firstKeys = []
    for chunk in old.indices {
      let elements = old[chunk]
      old[chunk] = []
      for element in elements {
        while next < sorted.count, Self.orders(sorted[next], before: element) {
          emit(sorted[next])
          next += 1
        }
        emit(element)
      }
    }
    while next < sorted.count {
      emit(sorted[next])
      next += 1
    }
    if !current.isEmpty { merged.append(current) }
    chunks = merged
    firstKeys = mergedFirstKeys
  }

  /// Whether `a`'s key is less than `b`'s.
  private static func orders(_ a: Element, before b: Element) -> Bool {
    a.prefix != b.prefix ? a.prefix < b.prefix : a.entry.key < b.entry.key
  }

  /// Replaces the entry with the same key.
  mutating func replace(_ entry: Entry) {
    guard !chunks.isEmpty else { return }
    let prefix = KeyPrefix(entry.key)
    let chunk = chunkIndex(for: entry.key, prefix: prefix)
    let index = bound(entry.key, prefix: prefix, in: chunk, strictly: false)
    if index < chunks[chunk].count, chunks[chunk][index].entry.key == entry.key {
      chunks[chunk][index].entry = entry
    }
  }

  /// Removes the entry with this key, if present (only to undo an insert whose commit failed
  /// to reach the disk).
  mutating func remove(key: String) {
    guard !chunks.isEmpty else { return }
    let prefix = KeyPrefix(key)
    let chunk = chunkIndex(for: key, prefix: prefix)
    let index = bound(key, prefix: prefix, in: chunk, strictly: false)
    guard index < chunks[chunk].count, chunks[chunk][index].entry.key == key else { return }
    chunks[chunk].remove(at: index)
    if chunks[chunk].isEmpty {
      chunks.remove(at: chunk)
      firstKeys.remove(at: chunk)
    } else if index == 0 {
      firstKeys[chunk] = (chunks[chunk][0].prefix, chunks[chunk][0].entry.key)
    }
  }

  /// Calls `body` with entries in ascending key order, starting after `key` (or at the
  /// beginning), until it returns `false`.
  func forEachAscending(after key: String?, _ body: (Entry) -> Bool) {
    guard !chunks.isEmpty else { return }
    var chunk = 0
    var index = 0
    if let key {
      let prefix = KeyPrefix(key)
      chunk = chunkIndex(for: key, prefix: prefix)
      index = bound(key, prefix: prefix, in: chunk, strictly: true)
    }
    while chunk < chunks.count {
      let elements = chunks[chunk]
      while index < elements.count {
        if !body(elements[index].entry) { return }
        index += 1
      }
      chunk += 1
      index = 0
    }
  }

  /// Calls `body` with entries in descending key order, starting before `key` (or at the
  /// end), until it returns `false`.
  func forEachDescending(before key: String?, _ body: (Entry) -> Bool) {
    guard !chunks.isEmpty else { return }
    var chunk = chunks.count - 1
    var index = chunks[chunk].count - 1
    if let key {
      let prefix = KeyPrefix(key)
      chunk = chunkIndex(for: key, prefix: prefix)
      index = bound(key, prefix: prefix, in: chunk, strictly: false) - 1
    }
    while chunk >= 0 {
      let elements = chunks[chunk]
      while index >= 0 {
        if !body(elements[index].entry) { return }
        index -= 1
      }
      chunk -= 1
      if chunk >= 0 { index = chunks[chunk].count - 1 }
    }
  }
}

/// The first 16 UTF-8 bytes of a key, big-endian in two words and zero-padded, so that
/// comparing prefixes orders keys as their bytes do. Keys are canonical usernames (ASCII), for
/// which byte order is `String` order; equal prefixes fall back to comparing the strings.
struct KeyPrefix: Equatable, Comparable {
  var high: UInt64 = 0
  var low: UInt64 = 0

  init(_ key: String) {
    var index = 0
    for byte in key.utf8 {
      if index == 16 { break }
      if index < 8 {
        high |= UInt64(byte) << (56 - 8 * index)
      } else {
        low |= UInt64(byte) << (56 - 8 * (index - 8))
      }
      index += 1
    }
  }

  static func < (lhs: KeyPrefix, rhs: KeyPrefix) -> Bool {
    (lhs.high, lhs.low) < (rhs.high, rhs.low)
  }
}
