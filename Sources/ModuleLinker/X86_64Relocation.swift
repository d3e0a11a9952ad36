/// The x86-64 psABI relocation types, with what each computes.
///
/// Notation: `S` symbol value, `A` addend, `P` field address, `G` offset of the symbol's GOT
/// slot from the GOT base, `GOT` the GOT base (`_GLOBAL_OFFSET_TABLE_`), `L` the symbol's
/// PLT stub (or `S` when it has none), `Z` the symbol's size. Sums wrap modulo 2⁶⁴ before the
/// range check of the field.
public enum X86_64Relocation: UInt32, Sendable, CaseIterable {
  /// `R_X86_64_NONE`: nothing.
  case none = 0
  /// `R_X86_64_64`: `S + A`, 64 bits.
  case direct64 = 1
  /// `R_X86_64_PC32`: `S + A - P`, signed 32 bits. Calls to far functions go through a stub.
  case pc32 = 2
  /// `R_X86_64_GOT32`: `G + A`, signed 32 bits.
  case got32 = 3
  /// `R_X86_64_PLT32`: `L + A - P`, signed 32 bits; `L = S` when `S` is in range.
  case plt32 = 4
  /// `R_X86_64_COPY`: dynamic only; rejected.
  case copy = 5
  /// `R_X86_64_GLOB_DAT`: dynamic only; rejected.
  case globDat = 6
  /// `R_X86_64_JUMP_SLOT`: dynamic only; rejected.
  case jumpSlot = 7
  /// `R_X86_64_RELATIVE`: dynamic only; rejected.
  case relative = 8
  /// `R_X86_64_GOTPCREL`: `G + GOT + A - P`, signed 32 bits.
  case gotpcrel = 9
  /// `R_X86_64_32`: `S + A`, unsigned 32 bits (the module must be mapped low).
  case direct32 = 10
  /// `R_X86_64_32S`: `S + A`, signed 32 bits (the module must be mapped low).
  case direct32S = 11
  /// `R_X86_64_16`: `S + A`, 16 bits (signed or unsigned).
  case direct16 = 12
  /// `R_X86_64_PC16`: `S + A - P`, signed 16 bits.
  case pc16 = 13
  /// `R_X86_64_8`: `S + A`, 8 bits (signed or unsigned).
  case direct8 = 14
  /// `R_X86_64_PC8`: `S + A - P`, signed 8 bits.
  case pc8 = 15
  /// `R_X86_64_DTPMOD64`: a dynamic TLS relocation; rejected.
  case dtpmod64 = 16
  /// `R_X86_64_DTPOFF64`: local-dynamic offset in the TLS block (``FixupKind/blockOffset64``).
  case dtpoff64 = 17
  /// `R_X86_64_TPOFF64`: offset from the thread pointer (``FixupKind/threadPointerOffset64``).
  case tpoff64 = 18
  /// `R_X86_64_TLSGD`: general-dynamic index (``FixupKind/threadLocalGOTDelta32``).
  case tlsgd = 19
  /// `R_X86_64_TLSLD`: local-dynamic index (``FixupKind/threadLocalGOTDelta32``).
  case tlsld = 20
  /// `R_X86_64_DTPOFF32`: local-dynamic offset in the TLS block (``FixupKind/blockOffset32``).
  case dtpoff32 = 21
  /// `R_X86_64_GOTTPOFF`: initial-exec GOT slot (``FixupKind/threadLocalGOTDelta32``).
  case gottpoff = 22
  /// `R_X86_64_TPOFF32`: local-exec offset from the thread pointer (``FixupKind/threadPointerOffset32``).
  case tpoff32 = 23
  /// `R_X86_64_PC64`: `S + A - P`, 64 bits.
  case pc64 = 24
  /// `R_X86_64_GOTOFF64`: `S + A - GOT`, 64 bits.
  case gotoff64 = 25
  /// `R_X86_64_GOTPC32`: `GOT + A - P`, signed 32 bits.
  case gotpc32 = 26
  /// `R_X86_64_GOT64`: `G + A`, 64 bits.
  case got64 = 27
  /// `R_X86_64_GOTPCREL64`: `G + GOT + A - P`, 64 bits.
  case gotpcrel64 = 28
  /// `R_X86_64_GOTPC64`: `GOT + A - P`, 64 bits.
  case gotpc64 = 29
  /// `R_X86_64_GOTPLT64`: `G + A`, 64 bits (the symbol's GOT slot serves as its PLT slot).
  case gotplt64 = 30
  /// `R_X86_64_PLTOFF64`: `L + A - GOT`, 64 bits.
  case pltoff64 = 31
  /// `R_X86_64_SIZE32`: `Z + A`, unsigned 32 bits.
  case size32 = 32
  /// `R_X86_64_SIZE64`: `Z + A`, 64 bits.
  case size64 = 33
  /// `R_X86_64_GOTPC32_TLSDESC`: TLS descriptor (``FixupKind/threadLocalGOTDelta32``).
  case gotpc32Tlsdesc = 34
  /// `R_X86_64_TLSDESC_CALL`: marks a TLS descriptor's call; nothing to write.
  case tlsdescCall = 35
  /// `R_X86_64_TLSDESC`: a dynamic TLS relocation; rejected.
  case tlsdesc = 36
  /// `R_X86_64_IRELATIVE`: dynamic only; rejected.
  case irelative = 37
  /// `R_X86_64_RELATIVE64`: dynamic only; rejected.
  case relative64 = 38
  /// `R_X86_64_GOTPCRELX`: `G + GOT + A - P`, signed 32 bits (never relaxed here).
  case gotpcrelx = 41
  /// `R_X86_64_REX_GOTPCRELX`: `G + GOT + A - P`, signed 32 bits (never relaxed here).
  case rexGotpcrelx = 42

  /// The psABI name, for messages.
  public var abiName: String {
    let suffix: String =
      switch self {
      case .none: "NONE"
      case .direct64: "64"
      case .pc32: "PC32"
      case .got32: "GOT32"
      case .plt32: "PLT32"
      case .copy: "COPY"
      case .globDat: "GLOB_DAT"
      case .jumpSlot: "JUMP_SLOT"
      case .relative: "RELATIVE"
      case .gotpcrel: "GOTPCREL"
      case .direct32: "32"
      case .direct32S: "32S"
      case .direct16: "16"
      case .pc16: "PC16"
      case .direct8: "8"
      case .pc8: "PC8"
      case .dtpmod64: "DTPMOD64"
      case .dtpoff64: "DTPOFF64"
      case .tpoff64: "TPOFF64"
      case .tlsgd: "TLSGD"
      case .tlsld: "TLSLD"
      case .dtpoff32: "DTPOFF32"
      case .gottpoff: "GOTTPOFF"
      case .tpoff32: "TPOFF32"
      case .pc64: "PC64"
      case .gotoff64: "GOTOFF64"
      case .gotpc32: "GOTPC32"
      case .got64: "GOT64"
      case .gotpcrel64: "GOTPCREL64"
      case .gotpc64: "GOTPC64"
      case .gotplt64: "GOTPLT64"
      case .pltoff64: "PLTOFF64"
      case .size32: "SIZE32"
      case .size64: "SIZE64"
      case .gotpc32Tlsdesc: "GOTPC32_TLSDESC"
      case .tlsdescCall: "TLSDESC_CALL"
      case .tlsdesc: "TLSDESC"
      case .irelative: "IRELATIVE"
      case .relative64: "RELATIVE64"
      case .gotpcrelx: "GOTPCRELX"
      case .rexGotpcrelx: "REX_GOTPCRELX"
      }
    return "R_X86_64_" + suffix
  }

  /// The psABI name of any type number, known or not.
  public static func name(of type: UInt32) -> String {
    if let known = X86_64Relocation(rawValue: type) { return known.abiName }
    switch type {
    case 39: return "R_X86_64_GOTPC32_TLSDESC (deprecated 39)"
    case 40: return "R_X86_64_40 (deprecated)"
    case 43: return "R_X86_64_CODE_4_GOTPCRELX"
    default: return "unknown relocation type \(type)"
    }
  }

  /// The width of the field in bytes (0 for NONE).
  public var width: Int {
    switch self {
    case .none, .tlsdescCall: 0
    case .direct8, .pc8: 1
    case .direct16, .pc16: 2
    case .pc32, .got32, .plt32, .gotpcrel, .direct32, .direct32S, .tlsgd, .tlsld, .dtpoff32,
      .gottpoff, .tpoff32, .gotpc32, .size32, .gotpc32Tlsdesc, .gotpcrelx, .rexGotpcrelx:
      4
    default: 8
    }
  }

  /// Whether the linker applies this type in every link. The thread-local storage types
  /// (``isThreadLocal``, but DTPMOD64 and TLSDESC) are applied only by a link with a static TLS
  /// reservation (``LinkOptions/threadLocalStorage``: lkmrun's), and refused otherwise.
  public var isSupported: Bool {
    switch self {
    case .copy, .globDat, .jumpSlot, .relative, .irelative, .relative64:
      false
    default: !isThreadLocal
    }
  }

  /// Whether a link with a static TLS reservation (lkmrun's, the kernel's) applies this type:
  /// every ``isSupported`` type and the thread-local storage types but the dynamic DTPMOD64 and
  /// TLSDESC.
  public var isSupportedWithThreadLocalStorage: Bool {
    isSupported || (isThreadLocal && self != .dtpmod64 && self != .tlsdesc)
  }

  /// Whether the type is one of thread-local storage's.
  var isThreadLocal: Bool {
    switch self {
    case .dtpmod64, .dtpoff64, .tpoff64, .tlsgd, .tlsld, .dtpoff32, .gottpoff, .tpoff32,
      .gotpc32Tlsdesc, .tlsdescCall, .tlsdesc:
      true
    default: false
    }
  }

  /// Why a TLS type is refused by a link without a static TLS reservation (a kernel's).
  static let threadLocalRefusal =
    "is a thread-local storage relocation; thread-local variables (__thread) are not supported"

  /// Why an unsupported type is refused, for messages.
  var refusal: String {
    switch self {
    case .copy, .globDat, .jumpSlot, .relative, .irelative, .relative64:
      "is a dynamic relocation, not valid in a relocatable object"
    default:
      "is a dynamic thread-local storage relocation, not valid in a relocatable object"
    }
  }
}
