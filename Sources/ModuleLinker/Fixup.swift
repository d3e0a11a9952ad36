import ELFObject

/// What a fixup computes and how the field stores it (JITLink's `x86_64.h` style).
///
/// Notation: `S` the target's address, `A` the addend, `P` the field's address, `GOT` the
/// module's GOT base (`_GLOBAL_OFFSET_TABLE_`), `G` the offset of the target's GOT slot from
/// `GOT`, `L` the target's stub when it has one (else `S`; in an address field, the stub of an
/// IFUNC, its canonical address), `Z` the target's size. Sums wrap
/// modulo 2⁶⁴ before the range check of the field. Every kind that can fail fails with
/// ``LinkError/Code/fieldOverflow``, naming the site, the type, the target and the distance.
///
/// ``Fixup/init(type:offset:addend:global:symbol:)`` is the only place that knows ELF relocation
/// numbers; layout, stubs, GOT slots and placement work on kinds.
enum FixupKind: UInt8, CaseIterable {
  /// Nothing (`R_X86_64_NONE`).
  case none
  /// `Fixup <- S + A : UInt64`; an IFUNC target is filled with the resolver's result after
  /// the resolvers ran. Never fails.
  case pointer64
  /// `Fixup <- S + A - P : Int64`. Never fails.
  case delta64
  /// `Fixup <- S + A - P : Int32`, or `L + A - P` when that does not fit, `S` is 0 (an undefined
  /// weak function), the target is an IFUNC or the call is bound through stubs
  /// (``CallBinding/throughStubs``), and the target has a stub (a call or jump to a function out
  /// of reach). Fails if the value does not fit `Int32`.
  case branchOrDelta32
  /// `Fixup <- S + A - P : Int16`. Fails if it does not fit.
  case delta16
  /// `Fixup <- S + A - P : Int8`. Fails if it does not fit.
  case delta8
  /// `Fixup <- L + A : UInt32` (a host function's low stub is its address in a low module).
  /// Fails if the value is not a `UInt32`.
  case pointer32
  /// `Fixup <- L + A : Int32`. Fails if the value is not an `Int32`.
  case pointer32Signed
  /// `Fixup <- L + A : Int16 or UInt16`. Fails if it fits neither.
  case pointer16
  /// `Fixup <- L + A : Int8 or UInt8`. Fails if it fits neither.
  case pointer8
  /// `Fixup <- GOT + G + A - P : Int32`. Fails if it does not fit (only a GOT more than 2 GiB
  /// from the field, which layout never makes, or an absurd addend).
  case gotDelta32
  /// `Fixup <- GOT + G + A - P : Int64`. Never fails.
  case gotDelta64
  /// `Fixup <- G + A : Int32`. Fails if it does not fit.
  case gotOffset32
  /// `Fixup <- G + A : Int64`. Never fails.
  case gotOffset64
  /// `Fixup <- S + A - GOT : Int64`. Never fails.
  case gotRelative64
  /// `Fixup <- GOT + A - P : Int32`. Fails if it does not fit.
  case gotBaseDelta32
  /// `Fixup <- GOT + A - P : Int64`. Never fails.
  case gotBaseDelta64
  /// `Fixup <- L + A - GOT : Int64`. Never fails.
  case branchGotRelative64
  /// `Fixup <- Z + A : UInt32`. Fails if it does not fit.
  case size32
  /// `Fixup <- Z + A : UInt64`. Never fails.
  case size64
  /// `Fixup <- T + A : Int32`, `T` the target's offset from the thread pointer (a module's
  /// variable: its block's place in the static TLS reservation plus its offset in the block; a
  /// host's: its static TLS offset). Local-exec. Fails if it does not fit.
  case threadPointerOffset32
  /// `Fixup <- T + A : Int64`. Never fails.
  case threadPointerOffset64
  /// `Fixup <- D + A : Int32`, `D` the target's offset in its module's TLS block. Local-dynamic.
  /// Fails if it does not fit.
  case blockOffset32
  /// `Fixup <- D + A : Int64`. Never fails.
  case blockOffset64
  /// `Fixup <- GOT + G + A - P : Int32`, `G` the offset from `GOT` of the target's TLS entry:
  /// an 8-byte slot holding `T` (initial-exec, `R_X86_64_GOTTPOFF`), a 16-byte index {module,
  /// offset} for the linker's `__tls_get_addr` (general-dynamic `R_X86_64_TLSGD`: {static, `T`};
  /// local-dynamic `R_X86_64_TLSLD`: one per module, {static, the block's `T`}), or a 16-byte
  /// descriptor {resolver, `T`} (`R_X86_64_GOTPC32_TLSDESC`). Fails if it does not fit.
  case threadLocalGOTDelta32

  /// What the value reads of the target.
  enum TargetUse {
    /// Nothing (`G`, `Z`, `GOT - P`): the same wherever the image and its targets are.
    case nothing
    /// Its address (`S + A`, `L + A`): moves with the target.
    case address
    /// Its address relative to the image (`S + A - P`, `S + A - GOT`, `L + A - GOT`): moves
    /// when the target and the image move apart.
    case offset
  }

  var targetUse: TargetUse {
    switch self {
    case .none, .gotDelta32, .gotDelta64, .gotOffset32, .gotOffset64, .gotBaseDelta32,
      .gotBaseDelta64, .size32, .size64, .threadPointerOffset32, .threadPointerOffset64,
      .blockOffset32, .blockOffset64, .threadLocalGOTDelta32:
      .nothing
    case .pointer64, .pointer32, .pointer32Signed, .pointer16, .pointer8: .address
    case .delta64, .branchOrDelta32, .delta16, .delta8, .gotRelative64, .branchGotRelative64:
      .offset
    }
  }

  /// Whether the field holds a 32-bit or narrower absolute address (the image must then lie
  /// low, or the target have a low stub).
  var isNarrowPointer: Bool {
    switch self {
    case .pointer32, .pointer32Signed, .pointer16, .pointer8: true
    default: false
    }
  }

  /// Whether the target needs a GOT slot (`G` appears in the expression).
  var usesGOTSlot: Bool {
    switch self {
    case .gotDelta32, .gotDelta64, .gotOffset32, .gotOffset64: true
    default: false
    }
  }

  /// Whether the fixup is of thread-local storage.
  var isThreadLocal: Bool {
    switch self {
    case .threadPointerOffset32, .threadPointerOffset64, .blockOffset32, .blockOffset64,
      .threadLocalGOTDelta32:
      true
    default: false
    }
  }

  /// The field's width in bytes.
  var width: Int {
    switch self {
    case .none: 0
    case .delta8, .pointer8: 1
    case .delta16, .pointer16: 2
    case .branchOrDelta32, .pointer32, .pointer32Signed, .gotDelta32, .gotOffset32,
      .gotBaseDelta32, .size32, .threadPointerOffset32, .blockOffset32, .threadLocalGOTDelta32:
      4
    default: 8
    }
  }
}

/// One field to patch: what to compute, where, against what.
///
/// Laid out for size (24 bytes: SQLite's 23,409 fixups take 560 KB): the object and section
/// the field is in are its ``FixupRun``'s, and the target is a global id or a local symbol
/// index of that object (``target(in:)`` gives the ``SymbolRef``).
struct Fixup {
  var addend: Int64
  /// The field's offset in its section (checked to fit by the translation).
  var offset32: UInt32
  /// A global id (``isGlobal``) or a symbol index of the run's object.
  var symbol: UInt32
  var kind: FixupKind
  /// The psABI type it came from, for messages.
  var type: X86_64Relocation
  var isGlobal: Bool

  /// The field's offset in its section.
  var offset: UInt64 { UInt64(offset32) }

  init(
    addend: Int64, offset32: UInt32, symbol: UInt32, kind: FixupKind, type: X86_64Relocation,
    isGlobal: Bool
  ) {
    self.addend = addend
    self.offset32 = offset32
    self.symbol = symbol
    self.kind = kind
    self.type = type
    self.isGlobal = isGlobal
  }

  /// The target, for a fixup of an object `object`.
  func target(in object: Int) -> SymbolRef {
    isGlobal ? .global(Int32(bitPattern: symbol)) : .local(object: Int32(object), index: symbol)
  }

  /// Translates one `Elf64_Rela` of a supported type. Pure: reads no memory, writes none.
  ///
  /// - Parameters:
  ///   - type: `ELF64_R_TYPE(r_info)`.
  ///   - offset: `r_offset`.
  ///   - global: the global id the symbol stands for, or -1 for a local symbol.
  ///   - symbol: `ELF64_R_SYM(r_info)`.
  /// - Returns: nil for a type this linker refuses (dynamic and TLS types, unknown numbers;
  ///   ``X86_64Relocation/refusal`` says why), or for a field 4 GiB or more into its section
  ///   (which no module can hold; the caller reports it).
  @inline(__always)
  init?(type rawType: UInt32, offset: UInt64, addend: Int64, global: Int32, symbol: UInt32) {
    guard let type = X86_64Relocation(rawValue: rawType), let offset = UInt32(exactly: offset)
    else { return nil }
    let kind: FixupKind
    switch type {
    case .none: kind = .none
    case .direct64: kind = .pointer64
    case .pc64: kind = .delta64
    case .pc32, .plt32: kind = .branchOrDelta32
    case .pc16: kind = .delta16
    case .pc8: kind = .delta8
    case .direct32: kind = .pointer32
    case .direct32S: kind = .pointer32Signed
    case .direct16: kind = .pointer16
    case .direct8: kind = .pointer8
    case .gotpcrel, .gotpcrelx, .rexGotpcrelx: kind = .gotDelta32
    case .gotpcrel64: kind = .gotDelta64
    case .got32: kind = .gotOffset32
    case .got64, .gotplt64: kind = .gotOffset64
    case .gotoff64: kind = .gotRelative64
    case .gotpc32: kind = .gotBaseDelta32
    case .gotpc64: kind = .gotBaseDelta64
    case .pltoff64: kind = .branchGotRelative64
    case .size32: kind = .size32
    case .size64: kind = .size64
    case .tpoff32: kind = .threadPointerOffset32
    case .tpoff64: kind = .threadPointerOffset64
    case .dtpoff32: kind = .blockOffset32
    case .dtpoff64: kind = .blockOffset64
    case .gottpoff, .tlsgd, .tlsld, .gotpc32Tlsdesc: kind = .threadLocalGOTDelta32
    // Marks `call *(%rax)` of a TLS descriptor sequence: nothing to write.
    case .tlsdescCall: kind = .none
    case .copy, .globDat, .jumpSlot, .relative, .irelative, .relative64, .dtpmod64, .tlsdesc:
      return nil
    }
    self.kind = kind
    self.type = type
    self.offset32 = offset
    self.addend = addend
    if global >= 0 {
      self.symbol = UInt32(bitPattern: global)
      self.isGlobal = true
    } else {
      self.symbol = symbol
      self.isGlobal = false
    }
  }
}

extension Fixup {
  /// ``init(type:offset:addend:global:symbol:)``'s translation of each `ELF64_R_TYPE` number
  /// below 64 (nil for a type it refuses), made from it once, so that a link's loop over its
  /// relocations looks each one up instead of switching twice.
  static let translations: [(type: X86_64Relocation, kind: FixupKind)?] = (0..<64).map { raw in
    Fixup(type: UInt32(raw), offset: 0, addend: 0, global: -1, symbol: 0).map { ($0.type, $0.kind) }
  }
}

/// The fixups of one relocation section: its object, the section it patches, and where its
/// fixups are in the plan's list.
struct FixupRun {
  var object: Int32
  var section: Int32
  var fixups: Range<Int>
}

/// The values a fixup's expression reads, found by the link for one field.
struct FixupOperands {
  /// `S`.
  var s: UInt64
  /// `P`.
  var p: UInt64
  /// `GOT`.
  var got: UInt64
  /// `G`, when the target has a slot.
  var g: UInt64
  /// The target's stub, 0 when it has none.
  var stub: UInt64
  /// `Z`.
  var z: UInt64
  /// Whether the target is an IFUNC (its calls always go through its stub).
  var ifunc: Bool
  /// Whether a call goes through the target's stub even where the target is within reach
  /// (``CallBinding/throughStubs``).
  var throughStub = false
}

extension Fixup {
  /// ``FixupKind/branchOrDelta32``'s value before its range check: `S + A - P`, or `L + A - P`
  /// when that does not fit or `preferStub` (`S` is 0, an IFUNC, a call bound through stubs)
  /// and there is a stub (`stub` is not 0).
  @inline(__always)
  static func branchDelta(s: UInt64, a: UInt64, p: UInt64, stub: UInt64, preferStub: Bool)
    -> Int64
  {
    let value = Int64(bitPattern: s &+ a &- p)
    if (Int32(exactly: value) == nil || preferStub) && stub != 0 {
      return Int64(bitPattern: stub &+ a &- p)
    }
    return value
  }

  /// What was written, or why nothing could be.
  enum Outcome {
    case written
    /// The value (for the message) and the target value the message names.
    case overflow(value: Int64, target: UInt64)
  }

  /// Computes the field and stores it at `field` of `image`, one case per kind (the kinds'
  /// documentation gives each expression, field and failure). With `changedOnly` a field that
  /// already holds the value is not written (a cached image mapped copy-on-write: an unchanged
  /// field leaves its page shared).
  @inline(__always)
  func apply(
    _ o: FixupOperands, to image: borrowing MappedImage, at field: Int, changedOnly: Bool = false
  ) -> Outcome {
    let a = UInt64(bitPattern: addend)
    let bits: UInt64
    switch kind {
    case .none:
      return .written
    case .pointer64:
      bits = o.s &+ a
    case .delta64:
      bits = o.s &+ a &- o.p
    case .branchOrDelta32:
      let value = Fixup.branchDelta(
        s: o.s, a: a, p: o.p, stub: o.stub, preferStub: o.s == 0 || o.ifunc || o.throughStub)
      guard Int32(exactly: value) != nil else { return .overflow(value: value, target: o.s) }
      bits = UInt64(bitPattern: value)
    case .delta16:
      let value = Int64(bitPattern: o.s &+ a &- o.p)
      guard Int16(exactly: value) != nil else { return .overflow(value: value, target: o.s) }
      bits = UInt64(bitPattern: value)
    case .delta8:
      let value = Int64(bitPattern: o.s &+ a &- o.p)
      guard Int8(exactly: value) != nil else { return .overflow(value: value, target: o.s) }
      bits = UInt64(bitPattern: value)
    case .pointer32:
      let value = (o.stub != 0 ? o.stub : o.s) &+ a
      guard UInt32(exactly: value) != nil else {
        return .overflow(value: Int64(bitPattern: value), target: value)
      }
      bits = value
    case .pointer32Signed:
      let value = (o.stub != 0 ? o.stub : o.s) &+ a
      guard Int32(exactly: Int64(bitPattern: value)) != nil else {
        return .overflow(value: Int64(bitPattern: value), target: value)
      }
      bits = value
    case .pointer16:
      let value = (o.stub != 0 ? o.stub : o.s) &+ a
      let signed = Int64(bitPattern: value)
      guard signed >= -0x8000 && signed <= 0xffff else {
        return .overflow(value: signed, target: value)
      }
      bits = value
    case .pointer8:
      let value = (o.stub != 0 ? o.stub : o.s) &+ a
      let signed = Int64(bitPattern: value)
      guard signed >= -0x80 && signed <= 0xff else {
        return .overflow(value: signed, target: value)
      }
      bits = value
    case .gotDelta32:
      let value = Int64(bitPattern: o.got &+ o.g &+ a &- o.p)
      guard Int32(exactly: value) != nil else {
        return .overflow(value: value, target: o.got &+ o.g)
      }
      bits = UInt64(bitPattern: value)
    case .gotDelta64:
      bits = o.got &+ o.g &+ a &- o.p
    case .gotOffset32:
      let value = Int64(bitPattern: o.g &+ a)
      guard Int32(exactly: value) != nil else { return .overflow(value: value, target: o.g) }
      bits = UInt64(bitPattern: value)
    case .gotOffset64:
      bits = o.g &+ a
    case .gotRelative64:
      bits = o.s &+ a &- o.got
    case .gotBaseDelta32:
      let value = Int64(bitPattern: o.got &+ a &- o.p)
      guard Int32(exactly: value) != nil else { return .overflow(value: value, target: o.got) }
      bits = UInt64(bitPattern: value)
    case .gotBaseDelta64:
      bits = o.got &+ a &- o.p
    case .branchGotRelative64:
      bits = (o.stub != 0 ? o.stub : o.s) &+ a &- o.got
    case .size32:
      let value = o.z &+ a
      guard UInt32(exactly: value) != nil else {
        return .overflow(value: Int64(bitPattern: value), target: value)
      }
      bits = value
    case .size64:
      bits = o.z &+ a
    case .threadPointerOffset32, .blockOffset32:
      let value = Int64(bitPattern: o.s &+ a)
      guard Int32(exactly: value) != nil else { return .overflow(value: value, target: o.s) }
      bits = UInt64(bitPattern: value)
    case .threadPointerOffset64, .blockOffset64:
      bits = o.s &+ a
    case .threadLocalGOTDelta32:
      let value = Int64(bitPattern: o.got &+ o.g &+ a &- o.p)
      guard Int32(exactly: value) != nil else {
        return .overflow(value: value, target: o.got &+ o.g)
      }
      bits = UInt64(bitPattern: value)
    }
    // The field's low `width` bytes, little-endian.
    switch (kind.width, changedOnly) {
    case (8, false): image.storeLittleEndian(bits, at: field)
    case (4, false): image.storeLittleEndian(UInt32(truncatingIfNeeded: bits), at: field)
    case (2, false): image.storeLittleEndian(UInt16(truncatingIfNeeded: bits), at: field)
    case (1, false): image.storeLittleEndian(UInt8(truncatingIfNeeded: bits), at: field)
    case (8, true): image.storeLittleEndianIfChanged(bits, at: field)
    case (4, true): image.storeLittleEndianIfChanged(UInt32(truncatingIfNeeded: bits), at: field)
    case (2, true): image.storeLittleEndianIfChanged(UInt16(truncatingIfNeeded: bits), at: field)
    default: image.storeLittleEndianIfChanged(UInt8(truncatingIfNeeded: bits), at: field)
    }
    return .written
  }
}
