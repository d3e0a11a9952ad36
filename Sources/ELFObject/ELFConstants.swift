// The ELF constants this package uses, as Swift values, defined once (glibc <elf.h> numbers).

/// Section header types (`SHT_*`).
public enum SectionType {
  public static let null: UInt32 = 0
  public static let progbits: UInt32 = 1
  public static let symtab: UInt32 = 2
  public static let strtab: UInt32 = 3
  public static let rela: UInt32 = 4
  public static let hash: UInt32 = 5
  public static let dynamic: UInt32 = 6
  public static let note: UInt32 = 7
  public static let nobits: UInt32 = 8
  public static let rel: UInt32 = 9
  public static let dynsym: UInt32 = 11
  public static let initArray: UInt32 = 14
  public static let finiArray: UInt32 = 15
  public static let preinitArray: UInt32 = 16
  public static let group: UInt32 = 17
  public static let symtabShndx: UInt32 = 18
  /// `SHT_X86_64_UNWIND`: clang's `.eh_frame`.
  public static let x86_64Unwind: UInt32 = 0x7000_0001
}

/// Section header flags (`SHF_*`).
public enum SectionFlags {
  public static let write: UInt64 = 0x1
  public static let alloc: UInt64 = 0x2
  public static let execInstr: UInt64 = 0x4
  public static let merge: UInt64 = 0x10
  public static let strings: UInt64 = 0x20
  public static let infoLink: UInt64 = 0x40
  public static let group: UInt64 = 0x200
  public static let tls: UInt64 = 0x400
  public static let compressed: UInt64 = 0x800
  public static let exclude: UInt64 = 0x8000_0000
}

/// Symbol bindings (`STB_*`).
public enum SymbolBinding {
  public static let local: UInt8 = 0
  public static let global: UInt8 = 1
  public static let weak: UInt8 = 2
  public static let gnuUnique: UInt8 = 10
}

/// Symbol types (`STT_*`).
public enum SymbolType {
  public static let notype: UInt8 = 0
  public static let object: UInt8 = 1
  public static let function: UInt8 = 2
  public static let section: UInt8 = 3
  public static let file: UInt8 = 4
  public static let common: UInt8 = 5
  public static let tls: UInt8 = 6
  public static let gnuIFunc: UInt8 = 10
}

/// Reserved section indices (`SHN_*`).
public enum SectionIndex {
  public static let undefined: UInt32 = 0
  public static let loReserve: UInt32 = 0xff00
  public static let absolute: UInt32 = 0xfff1
  public static let common: UInt32 = 0xfff2
  public static let xindex: UInt32 = 0xffff
}

/// `GRP_COMDAT`, the flag word of a COMDAT group section.
public let groupComdat: UInt32 = 1
