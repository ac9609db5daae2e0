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

  /// An entry with the first 16 bytes of its key.
  struct Element {
    var prefix: KeyPrefix
    var entry: Entry

    init(prefix: KeyPrefix, entry: Entry) {
      self.prefix = prefix
      self.entry = entry
    }

    init(_ entry: Entry) {
      self.init(prefix: entry.keyPrefix, entry: entry)
    }
  }

  /// The most elements a chunk holds; a snapshot's frames hold as many users.
  static let maximumChunk = 256
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
    let element = Element(entry)
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

  /// Builds the index in one pass from a snapshot's frames — elements in ascending key order,
  /// at most ``maximumChunk`` a frame, as ``Element/init(_:)`` makes them while decoding — and
  /// entries in any order (a log's new users).
  ///
  /// A frame that no addition falls within becomes a chunk as it is: the array is shared, not
  /// copied, so its entries are neither read nor retained again (at a million users, touching
  /// each entry once more costs a cache miss apiece, a fifth of opening a store). Checking the
  /// order reads only the elements' prefixes, and a key's characters only where two prefixes
  /// are equal. The additions are sorted, then merged in, into full chunks where they fall.
  ///
  /// - Parameters:
  ///   - frames: Elements in strictly ascending key order, frame by frame.
  ///   - additions: Entries in any order, none with the key of another.
  /// - Returns: The index, or the number of the first frame whose entries are not in strictly
  ///   ascending order.
  static func build(ordered frames: [[Element]], adding additions: [Entry])
    -> Result<OrderedEntries, FrameOutOfOrder>
  {
    build(ordered: frames[...], adding: additions)
  }

  /// Builds the index of some of a snapshot's frames (their numbers are the slice's indices)
  /// and the additions that fall among them (see ``build(ordered:adding:)``), then applies
  /// `updates` in order: each replaces the entry with its key, or goes in if there is none.
  static func build(
    ordered frames: ArraySlice<[Element]>, adding additions: [Entry], updating updates: [Entry] = []
  ) -> Result<OrderedEntries, FrameOutOfOrder> {
    var sorted = additions.map { Element($0) }
    sorted.sort { orders($0, before: $1) }
    let total = frames.reduce(0) { $0 + $1.count } + sorted.count
    var index = OrderedEntries()
    index.chunks.reserveCapacity(frames.count + sorted.count / maximumChunk + 1)
    index.firstKeys.reserveCapacity(index.chunks.capacity)
    var current: [Element] = []
    func flush() {
      guard let first = current.first else { return }
      index.chunks.append(current)
      index.firstKeys.append((first.prefix, first.entry.key))
      current = []
    }
    func emit(_ element: Element) {
      if current.count == maximumChunk { flush() }
      if current.isEmpty { current.reserveCapacity(min(maximumChunk, total)) }
      current.append(element)
    }
    var next = sorted.startIndex
    var previous: Element?
    for (number, frame) in zip(frames.indices, frames) {
      guard let first = frame.first, let last = frame.last else { continue }
      if let previous, !orders(previous, before: first) {
        return .failure(FrameOutOfOrder(frame: number))
      }
      guard isStrictlyAscending(frame) else { return .failure(FrameOutOfOrder(frame: number)) }
      previous = last
      while next < sorted.endIndex, orders(sorted[next], before: first) {
        emit(sorted[next])
        next += 1
      }
      if frame.count <= maximumChunk
        && (next == sorted.endIndex || orders(last, before: sorted[next]))
      {
        // Nothing to merge into this frame: it is a chunk already (shared, not copied).
        flush()
        current = frame
        flush()
        continue
      }
      for element in frame {
        while next < sorted.endIndex, orders(sorted[next], before: element) {
          emit(sorted[next])
          next += 1
        }
        emit(element)
      }
    }
    while next < sorted.endIndex {
      emit(sorted[next])
      next += 1
    }
    flush()
    // In order, so the last one of each user stays. A user a change set created and updated
    // at once is logged at its last version only: it is not there to replace, and goes in.
    for entry in updates where !index.replace(entry) { index.insert(entry) }
    return .success(index)
  }

  /// Builds the index of a snapshot's frames and its log's users in two halves, each half of
  /// the frames with the log's users whose keys fall among them (its additions, then its
  /// updates in order), then joins them (see ``build(ordered:adding:)``).
  ///
  /// - Parameters:
  ///   - frames: Elements in strictly ascending key order, frame by frame.
  ///   - log: The log's users, each user's versions in commit order: additions (new users,
  ///     none with the key of another), and the others, which update a user the frames or the
  ///     log hold or, where a change set created a user and updated it at once, create it.
  ///   - isAddition: Whether a log user is new (at version 1).
  /// - Returns: Two jobs, for the caller to run concurrently (or one after the other), and
  ///   a function that gives the index once both have run.
  static func buildInHalves(
    ordered frames: [[Element]], log: [Entry], isAddition: @escaping @Sendable (Entry) -> Bool
  ) -> (jobs: [@Sendable () -> Void], finish: () -> Result<OrderedEntries, FrameOutOfOrder>) {
    // The second half starts at the first frame past the middle that holds an entry; with
    // none, the first half takes everything.
    let split = frames.indices.dropFirst(frames.count / 2).first { !frames[$0].isEmpty }
    let boundary = split.flatMap { frames[$0].first }
    let halves = Locked<[Result<OrderedEntries, FrameOutOfOrder>?]>([nil, nil])
    func job(_ half: Int) -> @Sendable () -> Void {
      {
        // Each half picks its own users from the log, so neither waits for the other: a
        // user's versions all have its key, so they all fall in the same half.
        var updates: [Entry] = []
        let additions = log.filter { entry in
          let inHalf =
            boundary.map { orders(Element(entry), before: $0) == (half == 0) } ?? (half == 0)
          guard isAddition(entry) else {
            if inHalf { updates.append(entry) }
            return false
          }
          return inHalf
        }
        let part = split.map { half == 0 ? frames[..<$0] : frames[$0...] } ?? frames[...]
        // Each half allocates its chunks on its own thread, in an arena prepared for them
        // (see `Platform.withPreparedAllocations`).
        let chunkBytes = maximumChunk * MemoryLayout<Element>.stride + 64
        let chunks = (part.reduce(0) { $0 + $1.count } + additions.count) / maximumChunk + 1
        let built =
          half == 1 && split == nil
          ? .success(OrderedEntries())
          : Platform.withPreparedAllocations(bytes: chunks * chunkBytes) {
            build(ordered: part, adding: additions, updating: updates)
          }
        halves.withLock { $0[half] = built }
      }
    }
    let finish = { () -> Result<OrderedEntries, FrameOutOfOrder> in
      let (first, second) = halves.withLock { ($0[0], $0[1]) }
      // The first failure in frame order: the first half's, then the join, then the second's.
      guard case .success(var index)? = first else {
        return first ?? .failure(FrameOutOfOrder(frame: 0))
      }
      if let split, let boundary {
        if let last = frames[..<split].last(where: { !$0.isEmpty })?.last,
          !orders(last, before: boundary)
        {
          return .failure(FrameOutOfOrder(frame: split))
        }
        guard case .success(let upper)? = second else {
          return second ?? .failure(FrameOutOfOrder(frame: split))
        }
        index.chunks.append(contentsOf: upper.chunks)
        index.firstKeys.append(contentsOf: upper.firstKeys)
      }
      return .success(index)
    }
    return ([job(0), job(1)], finish)
  }

  /// Whether `elements` are in strictly ascending key order, read in place: a copy of an
  /// element would retain its entry, a write to memory that is not in the cache.
  private static func isStrictlyAscending(_ elements: [Element]) -> Bool {
    elements.withUnsafeBufferPointer { elements in
      for position in elements.indices.dropFirst() {
        let before = elements[position - 1].prefix
        let after = elements[position].prefix
        if before != after {
          guard before < after else { return false }
        } else {
          guard elements[position - 1].entry.key < elements[position].entry.key else {
            return false
          }
        }
      }
      return true
    }
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
  ///
  /// - Returns: Whether an entry with its key was there to replace.
  @discardableResult
  mutating func replace(_ entry: Entry) -> Bool {
    guard !chunks.isEmpty else { return false }
    let prefix = entry.keyPrefix
    let chunk = chunkIndex(for: entry.key, prefix: prefix)
    let index = bound(entry.key, prefix: prefix, in: chunk, strictly: false)
    guard index < chunks[chunk].count, chunks[chunk][index].entry.key == entry.key else {
      return false
    }
    chunks[chunk][index].entry = entry
    return true
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
