import Dispatch

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

  /// Builds the index in one pass from entries given in ascending key order, frame by frame
  /// (a snapshot's), and entries in any order (a log's new users), into full chunks: the
  /// additions are sorted, then merged with the ordered entries — instead of a search and a
  /// move of part of a chunk for each addition.
  ///
  /// A large index is built in two halves on two threads (each half of the frames with the
  /// additions that fall among them), then joined: at a million users, one pass is about a
  /// fifth of opening a store, and the thread that makes it is the one the other waits for.
  ///
  /// - Parameters:
  ///   - frames: Entries in strictly ascending key order, frame by frame.
  ///   - additions: Entries in any order, none with the key of another.
  ///   - parts: 1 to build on this thread, 2 for two halves on two threads; by default 2 from
  ///     100,000 entries on when there are two processors.
  /// - Returns: The index, or the number of the first frame whose entries are not in strictly
  ///   ascending order.
  static func build(ordered frames: [[Entry]], adding additions: [Entry], parts: Int? = nil)
    -> Result<OrderedEntries, FrameOutOfOrder>
  {
    var sorted = additions.map { Element(prefix: KeyPrefix($0.key), entry: $0) }
    sorted.sort { orders($0, before: $1) }
    let ordered = frames.reduce(0) { $0 + $1.count }
    let halves =
      parts ?? (ordered + sorted.count >= 100_000 && Platform.activeProcessorCount > 1 ? 2 : 1)
    // The second half starts at the first frame past the middle that holds an entry.
    let split =
      halves > 1 ? frames.indices.dropFirst(frames.count / 2).first { !frames[$0].isEmpty } : nil
    guard let split, split > 0, let boundary = frames[split].first else {
      return build(frames[...], adding: sorted[...])
    }
    let boundaryElement = Element(prefix: KeyPrefix(boundary.key), entry: boundary)
    // The additions below the second half's first entry belong to the first half.
    var low = 0
    var high = sorted.count
    while low < high {
      let mid = (low + high) / 2
      if orders(sorted[mid], before: boundaryElement) { low = mid + 1 } else { high = mid }
    }
    let cut = low
    let results = Locked<[Result<OrderedEntries, FrameOutOfOrder>?]>([nil, nil])
    let additionsSorted = sorted
    // Each half allocates its chunks on its own thread.
    let chunkBytes = maximumChunk * MemoryLayout<Element>.stride + 64
    let chunkCount = (ordered + sorted.count) / maximumChunk + 2
    DispatchQueue.concurrentPerform(iterations: 2) { half in
      let built = Platform.withPreparedAllocations(bytes: chunkCount / 2 * chunkBytes) {
        half == 0
          ? build(frames[..<split], adding: additionsSorted[..<cut])
          : build(frames[split...], adding: additionsSorted[cut...])
      }
      results.withLock { $0[half] = built }
    }
    let (first, second) = results.withLock { ($0[0], $0[1]) }
    // The first failure in frame order: the first half's, then the join, then the second's.
    guard case .success(var index)? = first else {
      return first ?? .failure(FrameOutOfOrder(frame: 0))
    }
    let lastOfFirst = frames[..<split].last { !$0.isEmpty }?.last
    if let lastOfFirst,
      !orders(
        Element(prefix: KeyPrefix(lastOfFirst.key), entry: lastOfFirst), before: boundaryElement)
    {
      return .failure(FrameOutOfOrder(frame: split))
    }
    guard case .success(let upper)? = second else {
      return second ?? .failure(FrameOutOfOrder(frame: split))
    }
    index.chunks.append(contentsOf: upper.chunks)
    index.firstKeys.append(contentsOf: upper.firstKeys)
    return .success(index)
  }

  /// Builds one part of the index (see ``build(ordered:adding:parts:)``): `frames` (a slice,
  /// so its indices are the frames' numbers) merged with `sorted`, in ascending key order.
  private static func build(
    _ frames: ArraySlice<[Entry]>, adding sorted: ArraySlice<Element>
  ) -> Result<OrderedEntries, FrameOutOfOrder> {
    let total = frames.reduce(0) { $0 + $1.count } + sorted.count
    var index = OrderedEntries()
    index.chunks.reserveCapacity((total + maximumChunk - 1) / maximumChunk)
    index.firstKeys.reserveCapacity(index.chunks.capacity)
    var current: [Element] = []
    current.reserveCapacity(maximumChunk)
    func emit(_ element: Element) {
      if current.count == maximumChunk {
        index.chunks.append(current)
        current.removeAll(keepingCapacity: true)
      }
      if current.isEmpty { index.firstKeys.append((element.prefix, element.entry.key)) }
      current.append(element)
    }
    var next = sorted.startIndex
    var previous: Element?
    for (number, frame) in zip(frames.indices, frames) {
      for entry in frame {
        let element = Element(prefix: KeyPrefix(entry.key), entry: entry)
        if let previous, !orders(previous, before: element) {
          return .failure(FrameOutOfOrder(frame: number))
        }
        while next < sorted.endIndex, orders(sorted[next], before: element) {
          emit(sorted[next])
          next += 1
        }
        emit(element)
        previous = element
      }
    }
    while next < sorted.endIndex {
      emit(sorted[next])
      next += 1
    }
    if !current.isEmpty { index.chunks.append(current) }
    return .success(index)
  }

  /// A frame whose entries are out of order (see ``build(ordered:adding:)``).
  struct FrameOutOfOrder: Error {
    var frame: Int
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
    // On the string's own bytes when it has them in one piece (every native string does):
    // building an index computes a million of these.
    let fast: KeyPrefix? = key.utf8.withContiguousStorageIfAvailable { Self(bytes: $0) }
    if let fast {
      self = fast
      return
    }
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

  private init(bytes: UnsafeBufferPointer<UInt8>) {
    let count = min(16, bytes.count)
    for index in 0..<min(8, count) {
      high |= UInt64(bytes[index]) << (56 - 8 * index)
    }
    if count > 8 {
      for index in 8..<count {
        low |= UInt64(bytes[index]) << (56 - 8 * (index - 8))
      }
    }
  }

  static func < (lhs: KeyPrefix, rhs: KeyPrefix) -> Bool {
    (lhs.high, lhs.low) < (rhs.high, rhs.low)
  }
}
