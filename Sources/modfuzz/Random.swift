/// SplitMix64: small, fast, and the same on every machine, so that input N of a campaign is the
/// same whatever the job count.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }

  /// The generator of input `index` of a campaign seeded with `seed`.
  init(campaign seed: UInt64, index: UInt64) {
    var mixer = SplitMix64(seed: seed ^ (index &* 0xd134_2543_de82_ef95))
    state = mixer.next() ^ index
  }

  mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
  mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// FNV-1a, for stable finding names.
func fnv1a(_ text: String) -> UInt32 {
  var hash: UInt32 = 0x811c_9dc5
  for byte in text.utf8 {
    hash ^= UInt32(byte)
    hash = hash &* 0x0100_0193
  }
  return hash
}
