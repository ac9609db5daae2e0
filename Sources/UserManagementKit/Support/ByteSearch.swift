/// Substring search over bytes, without allocation.
enum ByteSearch {
  /// Whether `needle` occurs in `haystack`, byte for byte.
  static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard let first = needle.first else { return true }
    let count = needle.count
    guard haystack.count >= count else { return false }
    var index = 0
    while index <= haystack.count - count {
      if haystack[index] == first {
        var offset = 1
        while offset < count, haystack[index + offset] == needle[offset] { offset += 1 }
        if offset == count { return true }
      }
      index += 1
    }
    return false
  }

  /// Whether the lowercase ASCII `needle` occurs in `haystack` compared ASCII
  /// case-insensitively; `nil` when `haystack` has non-ASCII bytes (where Unicode lowercasing
  /// could differ from folding bytes).
  static func containsASCIIFolded(_ haystack: String, _ needle: [UInt8]) -> Bool? {
    let result = haystack.utf8.withContiguousStorageIfAvailable { hay -> Bool? in
      containsASCIIFolded(hay, needle)
    }
    if let result { return result }
    return containsASCIIFolded(Array(haystack.utf8), needle)
  }

  private static func containsASCIIFolded(
    _ hay: some RandomAccessCollection<UInt8>, _ needle: [UInt8]
  ) -> Bool? {
    if hay.contains(where: { $0 >= 0x80 }) { return nil }
    guard let first = needle.first else { return true }
    let count = needle.count
    guard hay.count >= count else { return false }
    @inline(__always) func fold(_ byte: UInt8) -> UInt8 {
      byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
    var start = hay.startIndex
    let last = hay.index(hay.endIndex, offsetBy: -count)
    while start <= last {
      if fold(hay[start]) == first {
        var offset = 1
        while offset < count, fold(hay[hay.index(start, offsetBy: offset)]) == needle[offset] {
          offset += 1
        }
        if offset == count { return true }
      }
      start = hay.index(after: start)
    }
    return false
  }
}
