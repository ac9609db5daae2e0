/// The Argon2 compression function G (RFC 9106 §3.5) over 1 KiB blocks in raw memory.
///
/// A block is 128 little-endian 64-bit words, or 64 16-byte "registers" R_0…R_63 of two words
/// each, forming an 8×8 register matrix. The permutation P works on eight registers (sixteen
/// words v_0…v_15); G applies it to the eight rows (registers 8i…8i+7) and then to the eight
/// columns (registers i, i+8, …, i+56) of the matrix.
///
/// The implementation runs P on two rows (or two columns) at once in `SIMD2<UInt64>` values
/// that hold the same word v_j of both: pair j = (v_j of the first, v_j of the second). Then the
/// diagonal step of P needs no lane shuffles at all (it only renames variables), every pair
/// operation is one SSE2 or NEON instruction, and the two halves give the CPU two independent
/// dependency chains. The only shuffles are the transpositions when loading and storing
/// registers. The rotations are written as lane shuffles (LLVM lowers them to shifts or
/// PSHUFD/PSHUFLW/PSHUFHW), because LLVM scalarizes a 64-bit vector rotate written with shifts
/// on SSE2, and the 32×32→64-bit multiplication is written as a widening of the low halves so
/// that it becomes a single PMULUDQ/UMULL.
///
/// All pointers must be 16-byte aligned. Nothing is allocated: the caller supplies 2 KiB of
/// scratch space. For ``compress(into:previous:reference:scratch:)``, `destination` may alias
/// `previous` or `reference`: they are read completely before it is written.
enum Argon2Compression {
  typealias Pair = SIMD2<UInt64>

  /// The byte size of one block.
  static var blockByteCount: Int { 1024 }

  /// The byte size of the scratch space ``compress(into:previous:reference:scratch:)`` needs.
  static var scratchByteCount: Int { 2048 }

  /// `destination = G(previous, reference)` (first pass, and every pass of version 0x10).
  static func compress(
    into destination: UnsafeMutableRawPointer, previous: UnsafeRawPointer,
    reference: UnsafeRawPointer, scratch: UnsafeMutableRawPointer
  ) {
    compressBody(
      into: destination, previous: previous, reference: reference, scratch: scratch,
      accumulate: false)
  }

  /// `destination ^= G(previous, reference)` (later passes of version 0x13).
  static func compressAccumulating(
    into destination: UnsafeMutableRawPointer, previous: UnsafeRawPointer,
    reference: UnsafeRawPointer, scratch: UnsafeMutableRawPointer
  ) {
    compressBody(
      into: destination, previous: previous, reference: reference, scratch: scratch,
      accumulate: true)
  }

  /// G with the final XOR of the old destination when `accumulate` is set (a constant at every
  /// call site, so each wrapper gets a branch-free copy).
  @inline(__always)
  private static func compressBody(
    into destination: UnsafeMutableRawPointer, previous: UnsafeRawPointer,
    reference: UnsafeRawPointer, scratch: UnsafeMutableRawPointer, accumulate: Bool
  ) {
    // `saved` = R = X ⊕ Y, kept for the final XOR; `work` holds R after the row permutations
    // and then after the column permutations.
    let saved = scratch
    let work = scratch + 1024
    for offset in stride(from: 0, to: 1024, by: 16) {
      store(saved, offset, load(previous, offset) ^ load(reference, offset))
    }
    for rowPair in 0..<4 {
      permuteTwo(from: saved, to: work, base: rowPair &* 256, registerStride: 16, secondOffset: 128)
    }
    for columnPair in 0..<4 {
      permuteTwo(
        from: work, to: work, base: columnPair &* 32, registerStride: 128, secondOffset: 16)
    }
    for offset in stride(from: 0, to: 1024, by: 16) {
      var value = load(work, offset) ^ load(saved, offset)
      if accumulate {
        value ^= load(destination, offset)
      }
      store(destination, offset, value)
    }
  }

  /// Applies P to two groups of eight registers: the first at `base + i · registerStride`, the
  /// second `secondOffset` bytes after it (two rows: stride 16, offset 128; two columns: stride
  /// 128, offset 16), reading `source` and writing `target` (which may be the same).
  @inline(__always)
  private static func permuteTwo(
    from source: UnsafeMutableRawPointer, to target: UnsafeMutableRawPointer, base: Int,
    registerStride: Int, secondOffset: Int
  ) {
    // Register i of a group holds (v_2i, v_2i+1); transpose into x_j = (first v_j, second v_j).
    @inline(__always)
    func transposed(_ register: Int) -> (even: Pair, odd: Pair) {
      let offset = base &+ register &* registerStride
      let first = load(source, offset)
      let second = load(source, offset &+ secondOffset)
      return (Pair(first[0], second[0]), Pair(first[1], second[1]))
    }
    var (x0, x1) = transposed(0)
    var (x2, x3) = transposed(1)
    var (x4, x5) = transposed(2)
    var (x6, x7) = transposed(3)
    var (x8, x9) = transposed(4)
    var (x10, x11) = transposed(5)
    var (x12, x13) = transposed(6)
    var (x14, x15) = transposed(7)
    // Columns of the 4×4 word matrix, then its diagonals (RFC 9106 §3.6).
    mix(&x0, &x4, &x8, &x12)
    mix(&x1, &x5, &x9, &x13)
    mix(&x2, &x6, &x10, &x14)
    mix(&x3, &x7, &x11, &x15)
    mix(&x0, &x5, &x10, &x15)
    mix(&x1, &x6, &x11, &x12)
    mix(&x2, &x7, &x8, &x13)
    mix(&x3, &x4, &x9, &x14)
    @inline(__always)
    func storeTransposed(_ register: Int, _ even: Pair, _ odd: Pair) {
      let offset = base &+ register &* registerStride
      store(target, offset, Pair(even[0], odd[0]))
      store(target, offset &+ secondOffset, Pair(even[1], odd[1]))
    }
    storeTransposed(0, x0, x1)
    storeTransposed(1, x2, x3)
    storeTransposed(2, x4, x5)
    storeTransposed(3, x6, x7)
    storeTransposed(4, x8, x9)
    storeTransposed(5, x10, x11)
    storeTransposed(6, x12, x13)
    storeTransposed(7, x14, x15)
  }

  @inline(__always)
  private static func load(_ pointer: UnsafeRawPointer, _ offset: Int) -> Pair {
    pointer.load(fromByteOffset: offset, as: Pair.self)
  }

  @inline(__always)
  private static func load(_ pointer: UnsafeMutableRawPointer, _ offset: Int) -> Pair {
    pointer.load(fromByteOffset: offset, as: Pair.self)
  }

  @inline(__always)
  private static func store(_ pointer: UnsafeMutableRawPointer, _ offset: Int, _ value: Pair) {
    pointer.storeBytes(of: value, toByteOffset: offset, as: Pair.self)
  }

  /// The function GB (RFC 9106 §3.6) on two independent quadruples, one per lane.
  @inline(__always)
  private static func mix(_ a: inout Pair, _ b: inout Pair, _ c: inout Pair, _ d: inout Pair) {
    a = blaMka(a, b)
    d = rotateRight32(d ^ a)
    c = blaMka(c, d)
    b = rotateRight24(b ^ c)
    a = blaMka(a, b)
    d = rotateRight16(d ^ a)
    c = blaMka(c, d)
    b = rotateRight63(b ^ c)
  }

  /// x + y + 2 · trunc(x) · trunc(y) per lane, where trunc keeps the low 32 bits.
  ///
  /// The low halves are taken by widening 32-bit lanes rather than by masking: LLVM folds an
  /// AND mask into neighbouring shuffles (the rotations) and then lowers the combination to
  /// several blends on SSE2. Either way the multiplication is one PMULUDQ (UMULL on arm64).
  @inline(__always)
  private static func blaMka(_ x: Pair, _ y: Pair) -> Pair {
    let product = low32(x) &* low32(y)
    return x &+ y &+ product &+ product
  }

  /// The low 32 bits of each lane, zero-extended.
  @inline(__always)
  private static func low32(_ x: Pair) -> Pair {
    let halves = unsafeBitCast(x, to: SIMD4<UInt32>.self)
    #if _endian(little)
      return Pair(truncatingIfNeeded: SIMD2(halves[0], halves[2]))
    #else
      return Pair(truncatingIfNeeded: SIMD2(halves[1], halves[3]))
    #endif
  }

  @inline(__always)
  private static func rotateRight32(_ x: Pair) -> Pair {
    // Swapping the 32-bit halves of each lane is a rotation by 32 on either byte order.
    let halves = unsafeBitCast(x, to: SIMD4<UInt32>.self)
    return unsafeBitCast(SIMD4(halves[1], halves[0], halves[3], halves[2]), to: Pair.self)
  }

  @inline(__always)
  private static func rotateRight24(_ x: Pair) -> Pair {
    #if _endian(little)
      // A byte rotation within each lane; LLVM lowers it to shifts (SSE2) or a byte shuffle.
      let b = unsafeBitCast(x, to: SIMD16<UInt8>.self)
      let rotated = SIMD16(
        b[3], b[4], b[5], b[6], b[7], b[0], b[1], b[2],
        b[11], b[12], b[13], b[14], b[15], b[8], b[9], b[10])
      return unsafeBitCast(rotated, to: Pair.self)
    #else
      return (x &>> Pair(repeating: 24)) | (x &<< Pair(repeating: 40))
    #endif
  }

  @inline(__always)
  private static func rotateRight16(_ x: Pair) -> Pair {
    #if _endian(little)
      // A 16-bit word rotation within each lane (PSHUFLW + PSHUFHW on SSE2).
      let w = unsafeBitCast(x, to: SIMD8<UInt16>.self)
      let rotated = SIMD8(w[1], w[2], w[3], w[0], w[5], w[6], w[7], w[4])
      return unsafeBitCast(rotated, to: Pair.self)
    #else
      return (x &>> Pair(repeating: 16)) | (x &<< Pair(repeating: 48))
    #endif
  }

  @inline(__always)
  private static func rotateRight63(_ x: Pair) -> Pair {
    (x &>> Pair(repeating: 63)) | (x &+ x)
  }
}
