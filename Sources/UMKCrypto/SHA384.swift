/// The SHA-384 hash function (FIPS 180-4, §6.5): SHA-512 with its own initial hash value,
/// truncated to the first 384 bits.
///
/// A value type: copying a hasher forks its state. Runs on the SHA-512 compression function.
public struct SHA384: HashFunction {
  /// The digest type: 48 bytes.
  public typealias Digest = SHA384Digest

  /// SHA-384 processes 128-byte blocks.
  public static var blockByteCount: Int { 128 }

  /// SHA-384 produces 48-byte digests.
  public static var digestByteCount: Int { 48 }

  private var engine = MerkleDamgardEngine<SHA384>()

  /// Creates a hasher in its initial state.
  public init() {}

  /// Absorbs the given bytes into the hash state.
  ///
  /// - Parameter bytes: The bytes to absorb.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    engine.update(bytes)
  }

  /// Computes the digest of all bytes absorbed so far.
  ///
  /// - Returns: The 48-byte digest. The hasher is left unchanged.
  public func finalize() -> SHA384Digest {
    SHA384Digest(uncheckedBytes: engine.finalize())
  }
}

extension SHA384: MerkleDamgardHash {
  typealias Word = UInt64

  /// The SHA-384 initial hash value H(0) (FIPS 180-4, §5.3.4).
  static var initialState: StateWords<UInt64> {
    (
      0xcbbb_9d5d_c105_9ed8, 0x629a_292a_367c_d507, 0x9159_015a_3070_dd17, 0x152f_ecd8_f70e_5939,
      0x6733_2667_ffc0_0b31, 0x8eb4_4a87_6858_1511, 0xdb0c_2e0d_64f9_8fa7, 0x47b5_481d_befa_4fa4
    )
  }

  /// The digest is the first six of the eight state words.
  static var digestWordCount: Int { 6 }

  static var scheduleWordCount: Int { SHA512.scheduleWordCount }

  static func compress(_ state: UnsafeMutablePointer<UInt64>, _ w: UnsafeMutablePointer<UInt64>) {
    SHA512.compress(state, w)
  }
}
