import Testing
import UMKCrypto

/// An error raised by the test helpers for malformed test data.
struct TestDataError: Error, CustomStringConvertible {
  var description: String
}

/// Decodes lowercase or uppercase hex, ignoring nothing; `"-"` stands for the empty string.
func hexBytes(_ text: some StringProtocol) throws -> [UInt8] {
  if text == "-" { return [] }
  let digits = Array(text.utf8)
  guard digits.count.isMultiple(of: 2) else {
    throw TestDataError(description: "odd-length hex string")
  }
  func value(_ digit: UInt8) throws -> UInt8 {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
    default: throw TestDataError(description: "invalid hex digit \(digit)")
    }
  }
  var bytes: [UInt8] = []
  bytes.reserveCapacity(digits.count / 2)
  var index = 0
  while index < digits.count {
    bytes.append(try value(digits[index]) << 4 | value(digits[index + 1]))
    index += 2
  }
  return bytes
}

extension Sequence<UInt8> {
  /// The bytes as lowercase hex.
  var hex: String {
    let digits = Array("0123456789abcdef".utf8)
    var output: [UInt8] = []
    for byte in self {
      output.append(digits[Int(byte >> 4)])
      output.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: output, as: UTF8.self)
  }
}

/// Split points exercising the block boundaries of SHA-1/SHA-256 (64) and SHA-512 (128).
let splitPoints = [1, 2, 31, 55, 56, 57, 63, 64, 65, 111, 112, 113, 127, 128, 129, 200]

/// Ways of feeding a message in pieces, each as a list of chunks. Always includes the contiguous
/// message, one-byte chunks, a split at every applicable split point, and uneven chunk sizes.
func chunkings(of message: [UInt8]) -> [(name: String, chunks: [ArraySlice<UInt8>])] {
  var result: [(name: String, chunks: [ArraySlice<UInt8>])] = [("contiguous", [message[...]])]
  result.append(("1-byte chunks", message.indices.map { message[$0..<($0 + 1)] }))
  for point in splitPoints where point < message.count {
    result.append(("split at \(point)", [message[..<point], message[point...]]))
  }
  for size in [3, 7, 64, 100] where size < message.count {
    let chunks = stride(from: 0, to: message.count, by: size).map {
      message[$0..<min($0 + size, message.count)]
    }
    result.append(("\(size)-byte chunks", chunks))
  }
  // An empty update in the middle must be harmless.
  let middle = message.count / 2
  result.append(("with empty update", [message[..<middle], [], message[middle...]]))
  return result
}

/// Hashes `message` every way `chunkings(of:)` describes and returns each result with its label.
func digestsInPieces<H: HashFunction>(
  _ type: H.Type, _ message: [UInt8]
) -> [(name: String, hex: String)] {
  var results: [(name: String, hex: String)] = []
  for (name, chunks) in chunkings(of: message) {
    var hasher = H()
    for chunk in chunks {
      hasher.update(chunk)
    }
    results.append((name, hasher.finalize().hex))
  }
  // Raw-pointer update and the non-contiguous (copying) convenience path.
  var raw = H()
  message.withUnsafeBytes { raw.update($0) }
  results.append(("raw buffer", raw.finalize().hex))
  results.append(("non-contiguous sequence", H.hash(message.lazy.map { $0 }).hex))
  results.append(("one-shot", H.hash(message).hex))
  return results
}

/// Computes HMAC of `message` every way `chunkings(of:)` describes.
func macsInPieces<H: HashFunction>(
  _ type: H.Type, key: [UInt8], _ message: [UInt8]
) -> [(name: String, hex: String)] {
  var results: [(name: String, hex: String)] = []
  for (name, chunks) in chunkings(of: message) {
    var mac = HMAC<H>(key: key)
    for chunk in chunks {
      mac.update(chunk)
    }
    results.append((name, mac.finalize().hex))
  }
  var raw = HMAC<H>(key: key)
  message.withUnsafeBytes { raw.update($0) }
  results.append(("raw buffer", raw.finalize().hex))
  results.append(("one-shot", HMAC<H>.authenticationCode(for: message, using: key).hex))
  return results
}

/// Whether the tests were compiled without optimization (slow KATs are skipped there).
var isDebugBuild: Bool {
  #if DEBUG
    return true
  #else
    return false
  #endif
}
