extension MerkleDamgardHash {
  /// PBKDF2-HMAC with this hash, on precomputed key states and fixed-size word buffers.
  ///
  /// Each iteration after the first runs exactly two compressions (the inner and outer HMAC
  /// hashes of a one-block message whose padding is known in advance) on stack scratch space,
  /// with no byte/word conversions and no allocation. With ``HashImplementation/automatic``
  /// the iterations after the first run in `acceleratedPBKDF2Iterations` when this CPU has
  /// such an implementation. Parameters must already be validated.
  static func pbkdf2(
    password: [UInt8], salt: [UInt8], iterations: Int, keyByteCount: Int,
    implementation: HashImplementation
  ) -> [UInt8] {
    let blockByteCount = mdBlockByteCount
    let digestWords = digestWordCount
    let digestBytes = digestWords &* MemoryLayout<Word>.size

    // The HMAC key block, then the inner and outer states after absorbing it. The block and
    // its padded forms hold the password: they are erased before they are released.
    var keyBlock = HMACKeyBlock.make(key: password, blockByteCount: blockByteCount) { key in
      var hasher = MerkleDamgardEngine<Self>(implementation: implementation)
      key.withUnsafeBytes { hasher.update($0) }
      return hasher.finalize()
    }
    defer { keyBlock.secureZero() }
    var innerKeyed = MerkleDamgardEngine<Self>(implementation: implementation)
    var outerKeyed = MerkleDamgardEngine<Self>(implementation: implementation)
    HMACKeyBlock.withPadded(keyBlock, 0x36) { pad in pad.withUnsafeBytes { innerKeyed.update($0) } }
    HMACKeyBlock.withPadded(keyBlock, 0x5c) { pad in pad.withUnsafeBytes { outerKeyed.update($0) } }
    var innerWithSalt = innerKeyed
    salt.withUnsafeBytes { innerWithSalt.update($0) }

    let scratchCount = 8 &* 4 &+ scheduleWordCount
    return [UInt8](unsafeUninitializedCapacity: keyByteCount) { output, initializedCount in
      initializedCount = 0
      withUnsafeTemporaryAllocation(of: Word.self, capacity: scratchCount) { scratch in
        guard let outputBase = output.baseAddress, let base = scratch.baseAddress else { return }
        base.initialize(repeating: 0, count: scratchCount)
        let innerState = base
        let outerState = base + 8
        let accumulator = base + 16
        let chaining = base + 24
        let schedule = base + 32
        copyState(innerKeyed.state, to: innerState)
        copyState(outerKeyed.state, to: outerState)

        var blockIndex: UInt32 = 1
        while initializedCount < keyByteCount {
          // U_1 = HMAC(P, S || INT(i)), through the byte-oriented engine.
          var inner = innerWithSalt
          blockIndex.bigEndianBytes.withUnsafeBytes { inner.update($0) }
          var outer = outerKeyed
          inner.finalize().withUnsafeBytes { outer.update($0) }
          copyState(outer.finalizedState(), to: chaining)
          accumulator.update(from: chaining, count: digestWords)
          var remaining = iterations &- 1
          if remaining > 0, implementation == .automatic,
            acceleratedPBKDF2Iterations(
              innerState: innerState, outerState: outerState, u: chaining, t: accumulator,
              iterations: remaining)
          {
            remaining = 0
          }

          // U_j for j ≥ 2: the message is U_{j-1} (one digest) after one keyed block, so the
          // padding words are fixed. `compress` leaves the first 16 schedule words intact.
          schedule[digestWords] = 0x80 &<< Word(Word.bitWidth &- 8)
          for index in (digestWords &+ 1)..<15 {
            schedule[index] = 0
          }
          schedule[15] = Word(truncatingIfNeeded: (blockByteCount &+ digestBytes) &* 8)
          while remaining > 0 {
            schedule.update(from: chaining, count: digestWords)
            chaining.update(from: innerState, count: 8)
            compress(chaining, schedule)
            schedule.update(from: chaining, count: digestWords)
            chaining.update(from: outerState, count: 8)
            compress(chaining, schedule)
            for index in 0..<digestWords {
              accumulator[index] ^= chaining[index]
            }
            remaining &-= 1
          }

          // T_i, big-endian, truncated for the last block.
          let take = min(digestBytes, keyByteCount &- initializedCount)
          let bytes = UnsafeMutableRawPointer(schedule)
          storeWords(accumulator, count: digestWords, to: bytes)
          (outputBase + initializedCount).initialize(
            from: bytes.assumingMemoryBound(to: UInt8.self), count: take)
          initializedCount &+= take
          blockIndex &+= 1
        }
      }
    }
  }

  /// Copies an eight-word state tuple into word memory.
  @inline(__always)
  static func copyState(_ state: StateWords<Word>, to destination: UnsafeMutablePointer<Word>) {
    withUnsafePointer(to: state) { tuple in
      tuple.withMemoryRebound(to: Word.self, capacity: 8) { words in
        destination.update(from: words, count: 8)
      }
    }
  }
}
