import Dispatch

/// One Argon2 computation (RFC 9106 §3.2–3.4): the block matrix and the filling schedule.
///
/// The matrix is `laneCount` rows ("lanes") of `laneLength` blocks, stored lane after lane in a
/// single allocation; each lane is cut into four segments ("slices"). Within a slice, a lane only
/// reads blocks of earlier slices from other lanes, so the lanes of one slice are independent and
/// are filled concurrently, with a barrier (the end of `concurrentPerform`) between slices.
///
/// `@unchecked Sendable` because of the raw `memory` pointer (every other stored property is an
/// immutable `Sendable` value). Sharing it with the `concurrentPerform` workers is race-free:
/// - the memory is allocated before and freed after `fillMemory()`, which returns only when every
///   worker has finished (`concurrentPerform` is synchronous), so it outlives all accesses;
/// - in a slice, the worker for lane `l` writes only the blocks of segment (`l`, slice);
/// - it reads its own lane, and from other lanes only blocks outside the current slice (the
///   reference area of RFC 9106 §3.4.2 excludes other lanes' current segment), which were
///   written in earlier slices, before the previous `concurrentPerform` call returned; that
///   return orders those writes before every read in the next call.
struct Argon2Instance: @unchecked Sendable {
  /// The start of the block matrix (`blockCount` × 1 KiB, 16-byte aligned).
  let memory: UnsafeMutableRawPointer
  /// The number of lanes `p`.
  let laneCount: Int
  /// The number of blocks per lane `q` = `m'` / `p`.
  let laneLength: Int
  /// The number of blocks per segment, `q` / 4.
  let segmentLength: Int
  /// The number of passes `t`.
  let passCount: Int
  /// The total number of blocks `m'`.
  let blockCount: Int
  let variant: Argon2.Variant
  let version: Argon2.Version

  /// Computes the tag for validated inputs and parameters.
  static func computeTag(inputs: Argon2Inputs, parameters: Argon2.Parameters) -> [UInt8] {
    let laneCount = parameters.parallelism
    let segmentLength = parameters.memoryKiB / (4 &* laneCount)
    let laneLength = 4 &* segmentLength
    let blockCount = laneLength &* laneCount
    let byteCount = blockCount &* Argon2Compression.blockByteCount
    // 16-byte alignment (what SIMD2<UInt64> loads need) is malloc's own on 64-bit platforms,
    // so this is a plain malloc. A stricter alignment goes through memalign, which on glibc
    // fragments the heap so that the freed matrix is not reused by the next hash: the resident
    // size then holds two matrices instead of one.
    let memory = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 16)
    defer {
      secureZero(memory, byteCount: byteCount)
      memory.deallocate()
    }
    let instance = Argon2Instance(
      memory: memory, laneCount: laneCount, laneLength: laneLength,
      segmentLength: segmentLength, passCount: parameters.iterations, blockCount: blockCount,
      variant: parameters.variant, version: parameters.version)
    instance.initializeFirstBlocks(inputs: inputs, parameters: parameters)
    instance.fillMemory()
    return instance.finalTag(byteCount: parameters.tagByteCount)
  }

  /// The address of block `index` (lane-major).
  @inline(__always)
  func block(_ index: Int) -> UnsafeMutableRawPointer {
    memory + index &* Argon2Compression.blockByteCount
  }

  /// Computes H0 (RFC 9106 §3.2 step 1) and from it the first two blocks of every lane.
  private func initializeFirstBlocks(inputs: Argon2Inputs, parameters: Argon2.Parameters) {
    withUnsafeTemporaryAllocation(byteCount: 72, alignment: 8) { seedBuffer in
      guard let seed = seedBuffer.baseAddress else { return }
      var hasher = BLAKE2b(uncheckedDigestByteCount: 64)
      func absorb(_ value: Int) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) { hasher.update($0) }
      }
      func absorbWithLength(_ bytes: UnsafeRawBufferPointer) {
        absorb(bytes.count)
        hasher.update(bytes)
      }
      absorb(parameters.parallelism)
      absorb(parameters.tagByteCount)
      absorb(parameters.memoryKiB)
      absorb(parameters.iterations)
      absorb(Int(parameters.version.rawValue))
      absorb(Int(variant.typeCode))
      absorbWithLength(inputs.password)
      absorbWithLength(inputs.salt)
      absorbWithLength(inputs.secret)
      absorbWithLength(inputs.associatedData)
      hasher.finalize(into: seed)

      // B[i][0] = H'(H0 || LE32(0) || LE32(i)), B[i][1] = H'(H0 || LE32(1) || LE32(i)).
      for lane in 0..<laneCount {
        for column in 0..<2 {
          seed.storeBytes(of: UInt32(column).littleEndian, toByteOffset: 64, as: UInt32.self)
          seed.storeBytes(
            of: UInt32(truncatingIfNeeded: lane).littleEndian, toByteOffset: 68,
            as: UInt32.self)
          let destination = block(lane &* laneLength &+ column)
          Self.variableLengthHash(
            into: destination, byteCount: Argon2Compression.blockByteCount,
            input: UnsafeRawBufferPointer(seedBuffer))
          Self.wordsFromLittleEndian(destination)
        }
      }
      secureZero(seed, byteCount: 72)
    }
  }

  /// Runs every pass over memory.
  private func fillMemory() {
    for pass in 0..<passCount {
      for slice in 0..<4 {
        if laneCount == 1 {
          fillSegment(pass: pass, slice: slice, lane: 0)
        } else {
          // Returns only when every lane has finished this slice: the barrier between slices.
          DispatchQueue.concurrentPerform(iterations: laneCount) { lane in
            fillSegment(pass: pass, slice: slice, lane: lane)
          }
        }
      }
    }
  }

  /// Fills one segment (RFC 9106 §3.2 steps 3–6 and §3.4).
  ///
  /// Writes only blocks of `lane` in `slice`; reads blocks of this lane and blocks of other
  /// lanes outside `slice`.
  private func fillSegment(pass: Int, slice: Int, lane: Int) {
    // Scratch for G (2 KiB), then the zero block, the address-generator input block and the
    // current address block (1 KiB each), all on the stack.
    let blockSize = Argon2Compression.blockByteCount
    let byteCount = Argon2Compression.scratchByteCount &+ 3 &* blockSize
    withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 64) { buffer in
      guard let base = buffer.baseAddress else { return }
      let scratch = base
      let zeroBlock = base + Argon2Compression.scratchByteCount
      let addressInput = zeroBlock + blockSize
      let addresses = addressInput + blockSize

      let dataIndependent =
        variant == .i || (variant == .id && pass == 0 && slice < 2)
      if dataIndependent {
        zeroBlock.initializeMemory(as: UInt8.self, repeating: 0, count: 2 &* blockSize)
        addressInput.storeBytes(of: UInt64(pass), toByteOffset: 0, as: UInt64.self)
        addressInput.storeBytes(of: UInt64(lane), toByteOffset: 8, as: UInt64.self)
        addressInput.storeBytes(of: UInt64(slice), toByteOffset: 16, as: UInt64.self)
        addressInput.storeBytes(of: UInt64(blockCount), toByteOffset: 24, as: UInt64.self)
        addressInput.storeBytes(of: UInt64(passCount), toByteOffset: 32, as: UInt64.self)
        addressInput.storeBytes(of: UInt64(variant.typeCode), toByteOffset: 40, as: UInt64.self)
      }
      var addressCounter: UInt64 = 0

      let accumulate = pass > 0 && version == .v13
      // Blocks 0 and 1 of each lane were set from H0.
      let firstIndex = pass == 0 && slice == 0 ? 2 : 0
      let laneStart = lane &* laneLength
      // The reference area (RFC 9106 §3.4.2): blocks of earlier slices, wrapping around after
      // the first pass, starting just after the current segment.
      let finishedBlockCount = pass == 0 ? slice &* segmentLength : laneLength &- segmentLength
      let areaStart = pass == 0 || slice == 3 ? 0 : (slice &+ 1) &* segmentLength

      for index in firstIndex..<segmentLength {
        let column = slice &* segmentLength &+ index
        let current = laneStart &+ column
        let previous = column == 0 ? laneStart &+ laneLength &- 1 : current &- 1

        let pseudoRandom: UInt64
        if dataIndependent {
          if index == firstIndex || index & 127 == 0 {
            // The next 128 addresses: G(0, G(0, Z)) with Z = (r, l, s, m', t, y, counter, 0…).
            addressCounter &+= 1
            addressInput.storeBytes(of: addressCounter, toByteOffset: 48, as: UInt64.self)
            Argon2Compression.compress(
              into: addresses, previous: zeroBlock, reference: addressInput, scratch: scratch)
            Argon2Compression.compress(
              into: addresses, previous: zeroBlock, reference: addresses, scratch: scratch)
          }
          pseudoRandom = addresses.load(fromByteOffset: (index & 127) &* 8, as: UInt64.self)
        } else {
          pseudoRandom = block(previous).load(as: UInt64.self)
        }

        // J1 picks the block within the reference area, J2 the lane.
        let j1 = pseudoRandom & 0xFFFF_FFFF
        let j2 = pseudoRandom &>> 32
        let referenceLane =
          pass == 0 && slice == 0 ? lane : Int(truncatingIfNeeded: j2 % UInt64(laneCount))
        var areaSize = finishedBlockCount
        if referenceLane == lane {
          // Every finished block of this lane except the previous one.
          areaSize &+= index &- 1
        } else if index == 0 {
          // Another lane's last finished block is excluded at the start of a segment.
          areaSize &-= 1
        }
        let x = (j1 &* j1) &>> 32
        let y = (UInt64(truncatingIfNeeded: areaSize) &* x) &>> 32
        let relativePosition = areaSize &- 1 &- Int(truncatingIfNeeded: y)
        let referenceColumn = (areaStart &+ relativePosition) % laneLength
        let reference = block(referenceLane &* laneLength &+ referenceColumn)

        if accumulate {
          Argon2Compression.compressAccumulating(
            into: block(current), previous: block(previous), reference: reference,
            scratch: scratch)
        } else {
          Argon2Compression.compress(
            into: block(current), previous: block(previous), reference: reference,
            scratch: scratch)
        }
      }
      secureZero(base, byteCount: byteCount)
    }
  }

  /// XORs the last block of every lane and hashes it to the tag (RFC 9106 §3.2 steps 7–8).
  private func finalTag(byteCount: Int) -> [UInt8] {
    withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 64) { buffer in
      guard let final = buffer.baseAddress else { return [] }
      final.copyMemory(from: block(laneLength &- 1), byteCount: 1024)
      for lane in 1..<laneCount {
        let last = block(lane &* laneLength &+ laneLength &- 1)
        for offset in stride(from: 0, to: 1024, by: 8) {
          let word = final.load(fromByteOffset: offset, as: UInt64.self)
          let other = last.load(fromByteOffset: offset, as: UInt64.self)
          final.storeBytes(of: word ^ other, toByteOffset: offset, as: UInt64.self)
        }
      }
      Self.wordsToLittleEndian(final)
      let tag = [UInt8](unsafeUninitializedCapacity: byteCount) { output, initialized in
        guard let destination = output.baseAddress else { return }
        Self.variableLengthHash(
          into: UnsafeMutableRawPointer(destination), byteCount: byteCount,
          input: UnsafeRawBufferPointer(buffer))
        initialized = byteCount
      }
      secureZero(final, byteCount: 1024)
      return tag
    }
  }

  /// The variable-length hash function H' (RFC 9106 §3.3) built on BLAKE2b.
  ///
  /// - Parameters:
  ///   - destination: Where to write `byteCount` bytes.
  ///   - byteCount: The output length T, 1 through 2³² − 1.
  ///   - input: The message A.
  static func variableLengthHash(
    into destination: UnsafeMutableRawPointer, byteCount: Int, input: UnsafeRawBufferPointer
  ) {
    let lengthPrefix = UInt32(truncatingIfNeeded: byteCount).littleEndian
    if byteCount <= 64 {
      var hasher = BLAKE2b(uncheckedDigestByteCount: byteCount)
      withUnsafeBytes(of: lengthPrefix) { hasher.update($0) }
      hasher.update(input)
      hasher.finalize(into: destination)
      return
    }
    withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { chainBuffer in
      guard let chain = chainBuffer.baseAddress else { return }
      // V1 = H^64(LE32(T) || A); each V(i+1) = H^64(V(i)); the first half of each is output.
      var hasher = BLAKE2b(uncheckedDigestByteCount: 64)
      withUnsafeBytes(of: lengthPrefix) { hasher.update($0) }
      hasher.update(input)
      hasher.finalize(into: chain)
      destination.copyMemory(from: chain, byteCount: 32)
      var offset = 32
      var remaining = byteCount &- 32
      while remaining > 64 {
        var next = BLAKE2b(uncheckedDigestByteCount: 64)
        next.update(UnsafeRawBufferPointer(chainBuffer))
        next.finalize(into: chain)
        (destination + offset).copyMemory(from: chain, byteCount: 32)
        offset &+= 32
        remaining &-= 32
      }
      // The last value, V(r+1), is output whole with the remaining length (33…64 bytes).
      var last = BLAKE2b(uncheckedDigestByteCount: remaining)
      last.update(UnsafeRawBufferPointer(chainBuffer))
      last.finalize(into: destination + offset)
      secureZero(chain, byteCount: 64)
    }
  }

  /// Converts a block's 128 words from little-endian byte order to native order in place.
  @inline(__always)
  static func wordsFromLittleEndian(_ block: UnsafeMutableRawPointer) {
    #if _endian(big)
      for offset in stride(from: 0, to: 1024, by: 8) {
        let word = block.load(fromByteOffset: offset, as: UInt64.self)
        block.storeBytes(of: UInt64(littleEndian: word), toByteOffset: offset, as: UInt64.self)
      }
    #endif
  }

  /// Converts a block's 128 words from native to little-endian byte order in place.
  @inline(__always)
  static func wordsToLittleEndian(_ block: UnsafeMutableRawPointer) {
    #if _endian(big)
      for offset in stride(from: 0, to: 1024, by: 8) {
        let word = block.load(fromByteOffset: offset, as: UInt64.self)
        block.storeBytes(of: word.littleEndian, toByteOffset: offset, as: UInt64.self)
      }
    #endif
  }
}

/// Overwrites memory with zeros before it is released (password-derived data).
///
/// Not inlined, and the memory is only released afterwards through an opaque runtime call, so
/// the optimizer cannot treat the stores as dead.
@inline(never)
func secureZero(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
  pointer.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
}

extension Array where Element == UInt8 {
  /// Overwrites the array's bytes with zeros (for key material before it is released).
  mutating func secureZero() {
    withUnsafeMutableBytes { bytes in
      if let base = bytes.baseAddress { UMKCrypto.secureZero(base, byteCount: bytes.count) }
    }
  }
}
