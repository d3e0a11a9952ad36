import ELFObject
import Foundation
import LKMBase
import ModuleLinker
import TestSupport
import Testing

// The differential check of ../shared/reference/loaders-and-relocations.md §8 (a reference kept
// outside this repository): link objects with ModuleLinker,
// then link the same objects with GNU ld at exactly the addresses the module got (one output
// section per input section, externals as --defsym), and compare every byte of every allocated
// section. Fields ld cannot reproduce byte for byte are compared by what they mean:
//
// - GOT-relative fields (ld has its own GOT): the value loaded through the slot the field names,
//   or the address GOT + field stands for, must agree.
// - Fields routed through a PLT stub (ld binds directly and, for a far target, truncates): the
//   call site must reach the stub, whose `jmp *slot(%rip)` must read the final target; ld's
//   field must be the truncated S + A - P.
// - `.eh_frame` is renamed in ld's copy of the object, so that ld relocates it as plain data
//   instead of rewriting it.

/// An ELF file GNU ld wrote: its sections and symbols, read by address.
struct LinkedELF {
  struct Section {
    var name: String
    var type: UInt32
    var address: UInt64
    var offset: Int
    var size: UInt64
  }
  let bytes: [UInt8]
  var sections: [Section] = []
  var symbols: [String: UInt64] = [:]

  init(path: String) throws {
    bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    guard bytes.count >= 64, bytes[0..<4] == [0x7f, 0x45, 0x4c, 0x46], bytes[4] == 2 else {
      throw TestSupport.Failure("\(path) is not an ELF64 file")
    }
    let shoff = Int(try integer(UInt64.self, at: 0x28))
    let shentsize = Int(try integer(UInt16.self, at: 0x3a))
    let shnum = Int(try integer(UInt16.self, at: 0x3c))
    let shstrndx = Int(try integer(UInt16.self, at: 0x3e))
    var raw: [(name: UInt32, type: UInt32, address: UInt64, offset: Int, size: UInt64, link: Int)] =
      []
    for i in 0..<shnum {
      let h = shoff + i * shentsize
      raw.append(
        (
          try integer(UInt32.self, at: h), try integer(UInt32.self, at: h + 4),
          try integer(UInt64.self, at: h + 16), Int(try integer(UInt64.self, at: h + 24)),
          try integer(UInt64.self, at: h + 32), Int(try integer(UInt32.self, at: h + 40))
        ))
    }
    guard shstrndx < raw.count else { throw TestSupport.Failure("\(path): bad e_shstrndx") }
    for s in raw {
      sections.append(
        Section(
          name: try string(at: raw[shstrndx].offset + Int(s.name)), type: s.type,
          address: s.address, offset: s.offset, size: s.size))
    }
    for s in raw where s.type == 2 {  // SHT_SYMTAB
      let strtab = raw[s.link].offset
      for e in stride(from: s.offset, to: s.offset + Int(s.size), by: 24) {
        let name = try string(at: strtab + Int(try integer(UInt32.self, at: e)))
        if !name.isEmpty { symbols[name] = try integer(UInt64.self, at: e + 8) }
      }
    }
  }

  func integer<T: FixedWidthInteger>(_: T.Type, at offset: Int) throws -> T {
    let size = MemoryLayout<T>.size
    guard offset >= 0, offset + size <= bytes.count else {
      throw TestSupport.Failure("read of \(size) bytes at \(offset) past the end of the file")
    }
    var value: T = 0
    for i in (0..<size).reversed() { value = value << 8 | T(bytes[offset + i]) }
    return value
  }

  func string(at offset: Int) throws -> String {
    guard offset >= 0, offset < bytes.count else { throw TestSupport.Failure("bad string offset") }
    let end = bytes[offset...].firstIndex(of: 0) ?? bytes.count
    return String(decoding: bytes[offset..<end], as: UTF8.self)
  }

  func section(named name: String) -> Section? { sections.first { $0.name == name } }

  /// The contents of an allocated section (zeros for SHT_NOBITS).
  func contents(of section: Section) -> [UInt8] {
    if section.type == 8 { return [UInt8](repeating: 0, count: Int(section.size)) }
    return Array(bytes[section.offset..<section.offset + Int(section.size)])
  }

  /// A little-endian value at a load address, if a section with contents holds it.
  func load<T: FixedWidthInteger>(_: T.Type, at address: UInt64) -> T? {
    let size = UInt64(MemoryLayout<T>.size)
    for s in sections
    where s.address != 0 && address >= s.address && address + size <= s.address + s.size {
      if s.type == 8 { return 0 }
      return try? integer(T.self, at: s.offset + Int(address - s.address))
    }
    return nil
  }
}

/// One set of objects to check: a relocation fixture, or a C file built one way.
struct OracleCase: Sendable, CustomTestStringConvertible {
  enum Source: Sendable {
    case assembler(RelocationFixture)
    /// One object per C file.
    case c(paths: [String], compiler: String, flags: String)
  }
  let source: Source
  let label: String
  var testDescription: String { label }

  /// `// oracle:` variants of the C files and their flags.
  static let variants: [String: String] = [
    "default": "-O2", "fPIC": "-O2 -fPIC", "fno-pic": "-O2 -fno-pic",
    "fno-plt": "-O2 -fPIC -fno-plt", "sections": "-O2 -ffunction-sections -fdata-sections",
    "large": "-O2 -mcmodel=large", "large-fno-pic": "-O2 -fno-pic -mcmodel=large",
    "gnu2": "-O2 -fPIC -mtls-dialect=gnu2", "initial-exec": "-O2 -fPIC -ftls-model=initial-exec",
    "local-dynamic": "-O2 -fPIC -ftls-model=local-dynamic",
  ]

  /// Every relocation fixture that links, the thread-local ones too (see
  /// ``compareWithGNULd(_:in:skew:threadPointerSkew:cache:)`` for how their fields compare).
  static let fixtures: [OracleCase] = RelocationFixture.runnable.map {
    OracleCase(source: .assembler($0), label: $0.name + ".s")
  }

  /// Whether the case has thread-local variables (a module with TLS is never cached): a
  /// thread-local relocation fixture, or C that declares `__thread` variables.
  var isThreadLocal: Bool {
    switch source {
    case .assembler(let fixture): fixture.isThreadLocal
    case .c(let paths, _, _):
      paths.contains {
        (try? String(contentsOfFile: $0, encoding: .utf8))?.contains("__thread") ?? false
      }
    }
  }

  /// Fixtures/oracle/*.c, each with the variants its first line names, with every compiler.
  static let cFiles: [OracleCase] = {
    let directory = TestSupport.fixture("oracle")
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
      .filter { $0.hasSuffix(".c") }.sorted()
    var cases: [OracleCase] = []
    for file in files {
      let path = directory + "/" + file
      let first =
        (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").first ?? ""
      let names =
        first.hasPrefix("// oracle:")
        ? first.dropFirst("// oracle:".count).split(separator: " ").map(String.init)
        : ["default", "fPIC", "fno-pic"]
      for compiler in TestSupport.compilers {
        for name in names {
          let flags = variants[name] ?? "-O2"
          cases.append(
            OracleCase(
              source: .c(paths: [path], compiler: compiler, flags: flags),
              label: "\(file) \(URL(fileURLWithPath: compiler).lastPathComponent) \(flags)"))
        }
      }
    }
    return cases
  }()

  /// The C programs of Fixtures/c (a file, or a directory of files linked together), built
  /// with their `cflags:` and -fPIC or not, with every compiler. -fno-pic is left out: most
  /// of them name host data, which a module mapped low cannot reach.
  static let programs: [OracleCase] = {
    let directory = TestSupport.fixture("c")
    let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    var cases: [OracleCase] = []
    for entry in entries {
      let path = directory + "/" + entry
      var isDirectory: ObjCBool = false
      guard unsafe FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        continue
      }
      let files: [String]
      if isDirectory.boolValue {
        files = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
          .filter { $0.hasSuffix(".c") }.sorted().map { path + "/" + $0 }
      } else {
        files = entry.hasSuffix(".c") ? [path] : []
      }
      guard !files.isEmpty else { continue }
      var extra = ""
      for file in files {
        let head = (try? String(contentsOfFile: file, encoding: .utf8))?.prefix(200) ?? ""
        if let range = head.range(of: "cflags:") {
          extra +=
            " "
            + head[range.upperBound...].prefix { $0 != "*" && $0 != "\n" }
            .trimmingCharacters(in: .whitespaces)
        }
      }
      for compiler in TestSupport.compilers {
        for pic in ["", " -fPIC"] {
          let flags = "-O2" + pic + extra
          cases.append(
            OracleCase(
              source: .c(paths: files, compiler: compiler, flags: flags),
              label: "c/\(entry) \(URL(fileURLWithPath: compiler).lastPathComponent) \(flags)"))
        }
      }
    }
    return cases
  }()

  /// Builds the objects into `directory`.
  func build(in directory: String) throws -> [String] {
    switch source {
    case .assembler(let fixture):
      return [try fixture.assemble(into: directory)]
    case .c(let paths, let compiler, let flags):
      return try paths.map { path in
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let object = directory + "/" + name + ".o"
        try TestSupport.shell("'\(compiler)' -c \(flags) -o '\(object)' '\(path)'")
        return object
      }
    }
  }
}

/// What one oracle comparison found.
struct OracleReport {
  var problems: [String] = []
  var comparedBytes = 0
  var semanticFields = 0
  var stubSites = 0
  /// GOT loads ld rewrote although told not to relax (see ``ldRewrite(_:_:_:p:a:)``).
  var ldRewrites = 0
  /// Thread-local fields compared: byte for byte (TPOFF32, TPOFF64, DTPOFF64, DTPOFF32 in
  /// data) or by the offset ld's relaxed instruction holds.
  var threadLocalFields = 0
  /// What the cache did, when the comparison linked through one.
  var cache: CacheOutcome?
}

/// What ld made of a GOT load it rewrote, if it did: even with --no-relax, ld 2.40 turns a load
/// of an undefined weak symbol's slot into an immediate (`mov $0, %reg`, psABI's relaxation to
/// `c7 /0`). Returns the value the rewritten instruction produces and the bytes it changed.
func ldRewrite(
  _ mine: [UInt8], _ theirs: [UInt8], _ offset: Int, p: UInt64, a: UInt64
) -> (value: UInt64, bytes: Range<Int>)? {
  guard offset >= 2, offset + 4 <= theirs.count else { return nil }
  let field =
    UInt32(theirs[offset]) | UInt32(theirs[offset + 1]) << 8
    | UInt32(theirs[offset + 2]) << 16 | UInt32(theirs[offset + 3]) << 24
  let signedField = UInt64(bitPattern: Int64(Int32(bitPattern: field)))
  let rex = offset >= 3 && mine[offset - 3] & 0xf0 == 0x40 ? offset - 3 : offset - 2
  switch (mine[offset - 2], theirs[offset - 2]) {
  case (0x8b, 0xc7):  // mov slot, %reg → mov $imm32, %reg (sign-extended under REX.W)
    let wide = rex < offset - 2 && theirs[rex] & 0x08 != 0
    return (wide ? signedField : UInt64(field), rex..<offset + 4)
  case (0x8b, 0x8d):  // mov slot, %reg → lea S(%rip), %reg
    return (p &+ signedField &- a, rex..<offset + 4)
  case (0xff, 0x67) where mine[offset - 1] == 0x15 && theirs[offset - 1] == 0xe8:  // addr32 call S
    return (p &+ signedField &- a, offset - 2..<offset + 4)
  default:
    return nil
  }
}

/// Takes a module's initial thread-local values and puts them nowhere: the oracle's modules run
/// nothing (their `.tdata` image is compared where the module keeps it).
struct DiscardedThreadLocalValues: StaticTLSInitializer {
  func install(threadPointerOffset: Int, image: [UInt8], zeros: Int) -> Bool { true }
  func release(threadPointerOffset: Int) {}
}

/// The oracle's static TLS reservation: its first byte's offset from the thread pointer, its
/// size and alignment (as lkmrun's and the kernel's: 64 KiB, below the thread pointer).
let oracleReservation = (threadPointerOffset: Int64(-0x2_0000), size: 0x1_0000, alignment: 64)

/// Links `objects` with ModuleLinker and with GNU ld at the same addresses, and compares.
///
/// **Thread-local storage.** Objects with thread-local sections or symbols are linked with a
/// static TLS reservation at a known offset from the thread pointer (``oracleReservation``), and
/// ld's executable gets its TLS segment laid out so that every variable's offset from the thread
/// pointer (`T`) and from its block's start (`D`) is the module's: one output section per
/// `.tdata`/`.tbss` input section at the module's offset in its block (`.tdata` at the address of
/// the module's initialization image, so that its relocated bytes compare too), then a `.tbss`
/// pad, so that the segment ends where the thread pointer is (x86-64's variant II puts an
/// executable's block right below it: ld's `T` is the address minus the segment's aligned end).
/// Then:
///
/// - `R_X86_64_TPOFF32`, `R_X86_64_TPOFF64` (`T + A`) and `R_X86_64_DTPOFF64` (`D + A`, ld's
///   `D` being from the segment's start) compare byte for byte, as does `R_X86_64_DTPOFF32` in
///   a data section.
/// - ld relaxes every dynamic model in an executable, `--no-relax` or not (binutils 2.40
///   applies TLS transitions regardless), and refuses `-shared` for these objects (they use
///   local-exec too, which a shared object cannot). So the dynamic models compare by the
///   value ld's rewritten instruction holds: initial-exec `R_X86_64_GOTTPOFF` (`mov
///   slot(%rip), %reg` → `mov $T, %reg`: the module's GOT slot must hold ld's immediate),
///   general-dynamic `R_X86_64_TLSGD` (the 16-byte `__tls_get_addr` sequence → `mov %fs:0,
///   %rax; lea T(%rax), %rax`: the second word of the module's GOT pair must be ld's `T`), TLS
///   descriptors `R_X86_64_GOTPC32_TLSDESC` (`lea desc(%rip), %rax` → `mov $T, %rax`: the
///   descriptor's argument must be ld's `T`) and local-dynamic (`R_X86_64_TLSLD`'s sequence →
///   `mov %fs:0, %rax`, after which ld's `R_X86_64_DTPOFF32` fields in code hold `T`: the
///   module's block offset, the second word of its TLSLD pair, plus its `D` field must be
///   ld's `T`).
/// - Not comparable, and so not compared: the rewritten instruction bytes themselves (the
///   module never relaxes: its bytes are the object's), the calls to `__tls_get_addr` ld
///   removed (the module's must reach the linker's `__tls_get_addr`), `R_X86_64_TLSDESC_CALL`
///   (ld writes a `nop` over the call), the first word of the module's GOT pairs and
///   descriptors (the static module number, the descriptor resolver: ld's executable has
///   neither), and where the GOT entries lie (ld has none).
///
/// - Parameters:
///   - skew: added to every external's address in ld's link only, to prove that the
///     comparison notices a wrong field.
///   - threadPointerSkew: added to the pad above ld's TLS segment (a multiple of its
///     alignment), which moves ld's thread pointer away and changes every `T` of ld's by as
///     much, to prove that the comparison notices a wrong thread-local field.
///   - cache: link through this cache (to compare a cached image: store it first).
func compareWithGNULd(
  _ objects: [String], in directory: String, skew: UInt64 = 0, threadPointerSkew: Int64 = 0,
  cache: ImageCache? = nil
) throws -> OracleReport {
  var report = OracleReport()
  let inputs = try objects.map { try LinkInput.read($0) }
  let host = try HostSymbolProvider(libraries: [])
  var options = LinkOptions(providers: [host, FarSymbols()])
  options.cache = cache
  let parsed = try objects.map { try ObjectFile(path: $0) }
  let tlsFlag: UInt64 = 0x400  // SHF_TLS
  let tlsType: UInt8 = 6  // STT_TLS
  let threadLocalNames = Set(
    parsed.flatMap { object in
      object.symbols.indices.filter { object.symbols[$0].type == tlsType }.map {
        object.symbolName($0)
      }
    })
  if !threadLocalNames.isEmpty
    || parsed.contains(where: { $0.sections.contains { $0.flags & tlsFlag != 0 } })
  {
    options.threadLocalStorage = StaticTLS(
      threadPointerOffset: oracleReservation.threadPointerOffset, size: oracleReservation.size,
      alignment: oracleReservation.alignment, initializer: DiscardedThreadLocalValues())
  }
  let module = try ModuleLinker(options: options).link(inputs)
  report.cache = module.statistics.cache
  let objectIndex = Dictionary(
    uniqueKeysWithValues: module.objectNames.enumerated().map { ($1, $0) })

  // Where the module put each section, by object and section index.
  var placed: [[Int: SectionPlacement]] = Array(repeating: [:], count: objects.count)
  for p in module.placements {
    guard let o = objectIndex[p.object] else {
      throw TestSupport.Failure("unknown object \(p.object)")
    }
    placed[o][p.index] = p
  }

  // ld's copies: .eh_frame renamed so that ld relocates it as data instead of rewriting it,
  // and SHF_MERGE cleared, so that ld does not merge strings (it shares tails even within one
  // input section). The module merges nothing.
  var copies: [String] = []
  for (o, path) in objects.enumerated() {
    let copy = "ld\(o).o"
    var options: [String] = []
    for section in parsed[o].sections where section.isAllocated {
      if section.name == ".eh_frame" { options.append("--rename-section .eh_frame=.lkm_eh_frame") }
      if section.flags & 0x10 != 0 {  // SHF_MERGE
        let kind = section.isExecutable ? "code" : section.isWritable ? "data" : "readonly,data"
        options.append("--set-section-flags '\(section.name)=alloc,load,contents,\(kind)'")
      }
    }
    try TestSupport.shell(
      "objcopy \(options.joined(separator: " ")) '\(path)' '\(directory)/\(copy)'")
    copies.append(copy)
  }
  func ldName(_ name: String) -> String { name == ".eh_frame" ? ".lkm_eh_frame" : name }

  // The plan: one output section per input section, at the module's address.
  var script = "SECTIONS {\n"
  var commons: [String: UInt64] = [:]
  for (o, object) in parsed.enumerated() {
    var seen: Set<String> = []
    // ld drops empty output sections; there is nothing in them to compare. Thread-local ones
    // go together below.
    for (s, p) in placed[o].sorted(by: { $0.key < $1.key })
    where p.size > 0 && object.sections[s].flags & tlsFlag == 0 {
      guard seen.insert(p.name).inserted else {
        report.problems.append(
          "\(objects[o]): two sections named '\(p.name)'; ld cannot place them apart")
        continue
      }
      script += "  .lkm.\(o).\(s) \(hex(p.address)) : { \"\(copies[o])\"(\(ldName(p.name))) }\n"
    }
    // COMMON symbols: the module allocates them itself, so ld gets each at the module's address
    // with --defsym (which keeps the size, for R_X86_64_SIZE*).
    for (i, symbol) in object.symbols.enumerated() where symbol.place == .common && !symbol.isLocal
    {
      let name = object.symbolName(i)
      if let address = module.exports[name] { commons[name] = address }
    }
  }
  let ldArea = (module.baseAddress + UInt64(module.size) + 0x1fff) & ~0xfff
  // The TLS segment: each section at its offset in the module's block, from the address of the
  // module's .tdata image (or, with only .tbss, past ld's own area), then the pad that ends it
  // at ld's thread pointer, -T of the block's first byte above its start.
  var threadLocalPad = ""
  var localDynamicBase: Int64?
  if let tls = module.threadLocalPlacement {
    localDynamicBase = tls.threadPointerOffset
    var start = ldArea + 0x40000
    for section in tls.sections {
      if let o = objectIndex[section.object], let p = placed[o][section.index] {
        start = p.address - section.address
        break
      }
    }
    for section in tls.sections where section.size > 0 {
      guard let o = objectIndex[section.object] else {
        throw TestSupport.Failure("unknown object \(section.object)")
      }
      script +=
        "  .lkm.\(o).\(section.index) \(hex(start + section.address)) : "
        + "{ \"\(copies[o])\"(\(section.name)) }\n"
    }
    let pad = -tls.threadPointerOffset - Int64(tls.size) + threadPointerSkew
    if pad > 0 {
      script += "  .lkm.tlspad \(hex(start + UInt64(tls.size))) : { externals.o(.tbss.lkm_pad) }\n"
      threadLocalPad = "\t.section .tbss.lkm_pad,\"awT\",@nobits\n\t.zero \(pad)\n"
    }
  }
  // ld's own GOT, PLT and dynamic relocations, out of the module's way but within reach. .got
  // and .got.plt as in ld's default script: sharing one output section, ld 2.40 computes GOT32
  // and GOT64 from the wrong base.
  script += """
      .lkm.got \(hex(ldArea)) : { *(.got) *(.igot) }
      .lkm.got.plt : { *(.got.plt) *(.igot.plt) }
      .lkm.plt \(hex(ldArea + 0x10000)) : { *(.plt) *(.iplt) *(.plt.got) *(.plt.sec) }
      .lkm.rela \(hex(ldArea + 0x20000)) : { *(.rela.dyn) *(.rela.plt) *(.rela.iplt) *(.rela.got) }
      /DISCARD/ : { *(*) }
    }

    """
  try script.write(toFile: directory + "/plan.ld", atomically: true, encoding: .utf8)
  // Externals as absolute symbols of an object of their own rather than --defsym, so that they
  // keep the size the provider gave (for R_X86_64_SIZE*).
  var externals = ""
  let providers: [any SymbolProvider] = [host, FarSymbols()]
  for (name, external) in module.externals.sorted(by: { $0.key < $1.key })
  where name != "_GLOBAL_OFFSET_TABLE_" && name != "_TLS_MODULE_BASE_"
    && external.provider != "weak"
  {
    externals += "\t.globl \(name)\n\t.set \(name), \(hex(external.address &+ skew))\n"
    if let size = providers.lazy.compactMap({ $0.lookup(name) }).first?.size {
      externals += "\t.size \(name), \(size)\n"
    }
  }
  externals += threadLocalPad
  try externals.write(toFile: directory + "/externals.s", atomically: true, encoding: .utf8)
  try TestSupport.shell("as --64 -o externals.o externals.s", directory: directory)
  var definitions: [String] = []
  for (name, address) in commons.sorted(by: { $0.key < $1.key }) {
    definitions.append("--defsym='\(name)=\(hex(address))'")
  }
  // --noinhibit-exec: a call the module routed through a stub does not fit when ld binds it
  // directly; ld reports it, truncates, and writes the file, and the field is checked below.
  let ld = try TestSupport.run(
    "/bin/sh",
    [
      "-c",
      "ld -T plan.ld --no-relax --noinhibit-exec -z noexecstack --no-warn-rwx-segments -e 0 "
        + "\(definitions.joined(separator: " ")) -o oracle.elf "
        + "\(copies.joined(separator: " ")) externals.o",
    ], directory: directory)
  guard ld.status == 0, FileManager.default.fileExists(atPath: directory + "/oracle.elf") else {
    report.problems.append("ld failed: \(ld)")
    return report
  }
  let oracle = try LinkedELF(path: directory + "/oracle.elf")

  // Every global the module defines is where ld put it (a thread-local one's value in ld's
  // executable is its offset in the TLS segment: its fields compare below).
  for (name, address) in module.exports
  where oracle.symbols[name] != nil && !threadLocalNames.contains(name) {
    if oracle.symbols[name] != address {
      report.problems.append(
        "'\(name)': module \(hex(address)), ld \(hex(oracle.symbols[name]!))")
    }
  }

  let lkmGOT = module.gotBase
  let ldGOT = oracle.symbols["_GLOBAL_OFFSET_TABLE_"]
  let stubAddresses = Set(module.stubs.values)
  func lkmLoad(_ address: UInt64) -> UInt64? {
    module.contains(address) && module.contains(address + 7)
      ? module.load(UInt64.self, at: address) : nil
  }
  /// Where a jump to `address` in the module ends up: through a stub's `jmp *slot(%rip)`.
  func finalTarget(_ address: UInt64) -> UInt64? {
    guard stubAddresses.contains(address) else { return address }
    guard module.bytes(at: address, count: 2) == [0xff, 0x25] else { return nil }
    let displacement = Int32(bitPattern: module.load(UInt32.self, at: address + 2))
    return lkmLoad(address &+ 6 &+ UInt64(bitPattern: Int64(displacement)))
  }

  for (o, object) in parsed.enumerated() {
    /// S for a relocation's symbol, as the module bound it.
    func symbolAddress(_ index: UInt32) -> UInt64 {
      guard index != 0 else { return 0 }
      let symbol = object.symbols[Int(index)]
      if !symbol.isLocal {
        let name = object.symbolName(Int(index))
        if let a = module.exports[name] { return a }
        if let e = module.externals[name] { return e.address }
        return 0
      }
      switch symbol.place {
      case .section(let s): return (placed[o][s]?.address ?? 0) &+ symbol.value
      case .absolute: return symbol.value
      default: return 0
      }
    }

    // Local-dynamic: the block offset the module's code adds D to, the second word of its
    // TLSLD pair or of its descriptor of _TLS_MODULE_BASE_ (gnu2's local-dynamic; the
    // placement's if no sequence reads it).
    for rs in object.relocationSections {
      guard let placement = placed[o][rs.target] else { continue }
      for entry in rs.entries
      where entry.type == X86_64Relocation.tlsld.rawValue
        || (entry.type == X86_64Relocation.gotpc32Tlsdesc.rawValue
          && object.displayName(ofSymbol: Int(entry.symbolIndex)) == "_TLS_MODULE_BASE_")
      {
        let p = placement.address + entry.offset
        let field = module.load(UInt32.self, at: p)
        let pair =
          p &+ UInt64(bitPattern: Int64(Int32(bitPattern: field)))
          &- UInt64(bitPattern: entry.addend)
        if let base = lkmLoad(pair &+ 8) { localDynamicBase = Int64(bitPattern: base) }
      }
    }

    // Fields checked by meaning: section index → byte offsets they cover.
    var explained: [Int: Set<Int>] = [:]
    var sites: [Int: [Int: String]] = [:]  // section → offset → relocation, for reports
    for rs in object.relocationSections {
      guard let placement = placed[o][rs.target], !object.sections[rs.target].isNoBits,
        let out = oracle.section(named: ".lkm.\(o).\(rs.target)")
      else { continue }
      let mine = module.bytes(at: placement.address, count: Int(placement.size))
      let theirs = oracle.contents(of: out)
      guard mine.count == theirs.count else { continue }  // reported below
      /// A sign-extended 32-bit field of `bytes`.
      func int32(_ bytes: [UInt8], at offset: Int) -> UInt64? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        let v =
          UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
          | UInt32(bytes[offset + 3]) << 24
        return UInt64(bitPattern: Int64(Int32(bitPattern: v)))
      }
      // ld's local-exec rewrites of general- and local-dynamic sequences (the GD→LE and LD→LE
      // transitions of Drepper's "ELF Handling For Thread-Local Storage", as binutils 2.40
      // writes them): the byte ranges they cover, whose call to __tls_get_addr is gone.
      var relaxed: [Range<Int>] = []
      let generalDynamicLE: [UInt8] = [0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0, 0x48, 0x8d, 0x80]
      // `lea x@tlsld(%rip), %rdi; call __tls_get_addr@PLT` (12 bytes), or with `call
      // *__tls_get_addr@GOTPCREL(%rip)` (-fno-plt, 13 bytes): `mov %fs:0, %rax` padded.
      let localDynamicLE: [UInt8] = [0x66, 0x66, 0x66, 0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0]
      for entry in rs.entries {
        let offset = Int(entry.offset)
        if entry.type == X86_64Relocation.tlsgd.rawValue, offset >= 4, offset + 12 <= theirs.count,
          Array(theirs[offset - 4..<offset + 8]) == generalDynamicLE
        {
          relaxed.append(offset - 4..<offset + 12)
        } else if entry.type == X86_64Relocation.tlsld.rawValue, offset >= 3,
          offset + 9 <= theirs.count
        {
          if Array(theirs[offset - 3..<offset + 9]) == localDynamicLE {
            relaxed.append(offset - 3..<offset + 9)
          } else if offset + 10 <= theirs.count,
            Array(theirs[offset - 3..<offset + 10]) == [0x66] + localDynamicLE
          {
            relaxed.append(offset - 3..<offset + 10)
          }
        }
      }
      for entry in rs.entries {
        guard let type = X86_64Relocation(rawValue: entry.type), type != .none else { continue }
        let offset = Int(entry.offset)
        let width = type.width
        let p = placement.address + entry.offset
        let s = symbolAddress(entry.symbolIndex)
        let a = UInt64(bitPattern: entry.addend)
        let symbolName = object.displayName(ofSymbol: Int(entry.symbolIndex))
        let place =
          "\(object.sections[rs.target].name)+\(hex(entry.offset)) \(type.abiName) '\(symbolName)'"
        sites[rs.target, default: [:]][offset] = place
        func field(_ bytes: [UInt8]) -> UInt64 {
          var v: UInt64 = 0
          for i in (0..<width).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
          return v
        }
        func signed(_ v: UInt64) -> UInt64 {
          let shift = UInt64(64 - width * 8)
          return UInt64(bitPattern: Int64(bitPattern: v << shift) >> shift)
        }
        let lkmValue = field(mine)
        let ldValue = field(theirs)
        var meaningful = true
        func check(_ condition: Bool, _ what: @autoclosure () -> String) {
          if !condition {
            report.problems.append("\(place): \(what())")
            meaningful = false
          }
        }
        if type != .tlsgd && type != .tlsld,
          let sequence = relaxed.first(where: { $0.contains(offset) })
        {
          // The call to __tls_get_addr in a sequence ld rewrote: the module's reaches the
          // linker's (its bytes are the object's and ld's are the rewrite: explained there).
          let call = p &+ signed(lkmValue) &- a
          let getAddr = module.externals["__tls_get_addr"]?.address
          check(
            symbolName == "__tls_get_addr" && getAddr != nil
              && (finalTarget(call) == getAddr || lkmLoad(call) == getAddr),
            "in the TLS sequence at \(hex(UInt64(sequence.lowerBound))) ld rewrote: the module's "
              + "call does not reach __tls_get_addr")
          continue
        }
        /// The module's 8-byte TLS GOT entry word the field points at (`GOT + G` = `P + field -
        /// A`), `plus` bytes in.
        func moduleEntry(plus: UInt64) -> UInt64? {
          let entry = p &+ signed(lkmValue) &- a &+ plus
          let value = lkmLoad(entry)
          check(value != nil, "module TLS entry \(hex(entry)) is outside the module")
          return value
        }
        /// The first byte of the instruction whose 32-bit field is at `offset` (its REX prefix).
        let instruction =
          offset >= 3 && mine[offset - 3] & 0xf0 == 0x40 ? offset - 3 : max(offset - 2, 0)
        switch type {
        case .tpoff32, .tpoff64, .dtpoff64:
          report.threadLocalFields += 1
          continue  // compared byte for byte
        case .dtpoff32 where !object.sections[rs.target].isExecutable:
          report.threadLocalFields += 1
          continue  // compared byte for byte
        case .dtpoff32:
          // ld's executable has no module block: its TLSLD sequence became %fs:0, and this field
          // holds T, which is the module's block offset plus its D.
          let base = UInt64(bitPattern: localDynamicBase ?? 0)
          check(
            signed(ldValue) == base &+ signed(lkmValue),
            "ld's T \(hex(signed(ldValue))) is not the module's block offset \(hex(base)) + its D "
              + "\(hex(signed(lkmValue)))")
          report.threadLocalFields += 1
        case .gottpoff:
          guard let t = moduleEntry(plus: 0) else { break }
          if offset >= 2 && mine[offset - 2] != theirs[offset - 2] {
            // Initial-exec to local-exec: `mov slot(%rip), %reg` → `mov $T, %reg` (or `add`).
            check(
              signed(ldValue) == t,
              "the module's slot holds \(hex(t)), ld's rewritten instruction \(hex(signed(ldValue)))"
            )
            explained[rs.target, default: []].formUnion(instruction..<offset)
          } else {
            let ldSlot = p &+ signed(ldValue) &- a
            check(
              oracle.load(UInt64.self, at: ldSlot) == t,
              "ld slot \(hex(ldSlot)) does not hold \(hex(t))")
          }
          report.threadLocalFields += 1
        case .tlsgd:
          guard let t = moduleEntry(plus: 8) else { break }
          guard let sequence = relaxed.first(where: { $0.contains(offset) }),
            let ldT = int32(theirs, at: offset + 8)
          else {
            check(
              false, "ld did not rewrite the general-dynamic sequence as this comparison reads it")
            break
          }
          check(ldT == t, "the module's GOT pair holds T \(hex(t)), ld's rewrite \(hex(ldT))")
          explained[rs.target, default: []].formUnion(sequence)
          report.threadLocalFields += 1
        case .tlsld:
          guard moduleEntry(plus: 8) != nil else { break }
          guard let sequence = relaxed.first(where: { $0.contains(offset) }) else {
            check(
              false, "ld did not rewrite the local-dynamic sequence as this comparison reads it")
            break
          }
          // Its value, the block offset, is compared through every DTPOFF32 field above.
          explained[rs.target, default: []].formUnion(sequence)
        case .gotpc32Tlsdesc where symbolName == "_TLS_MODULE_BASE_":
          // gnu2's local-dynamic: the block's T. ld's executable has the block at the thread
          // pointer (0; its DTPOFF32 fields hold T, compared above) where the module's is at
          // its block offset.
          guard let t = moduleEntry(plus: 8) else { break }
          check(
            t == UInt64(bitPattern: module.threadLocalPlacement?.threadPointerOffset ?? 0),
            "the module's descriptor holds \(hex(t)), not its block's offset")
          check(
            offset >= 2 && theirs[offset - 2] == 0xc7 && signed(ldValue) == 0,
            "ld did not rewrite the descriptor's lea to `mov $0, %rax`")
          explained[rs.target, default: []].formUnion(instruction..<offset)
        case .gotpc32Tlsdesc:
          guard let t = moduleEntry(plus: 8) else { break }
          // `lea desc(%rip), %rax` → `mov $T, %rax`.
          check(
            offset >= 2 && mine[offset - 2] == 0x8d && theirs[offset - 2] == 0xc7,
            "ld did not rewrite the descriptor's lea as this comparison reads it")
          check(
            signed(ldValue) == t,
            "the module's descriptor holds T \(hex(t)), ld's rewrite \(hex(signed(ldValue)))")
          explained[rs.target, default: []].formUnion(instruction..<offset)
          report.threadLocalFields += 1
        case .tlsdescCall:
          // `call *desc(%rax)` → `xchg %ax, %ax` (a 2-byte nop): nothing to compare.
          if offset + 2 <= theirs.count, theirs[offset..<offset + 2] == [0x66, 0x90] {
            explained[rs.target, default: []].formUnion(offset..<offset + 2)
          }
          continue
        case .gotpcrel, .gotpcrelx, .rexGotpcrelx, .gotpcrel64:
          let lkmSlot = p &+ signed(lkmValue) &- a
          check(lkmLoad(lkmSlot) == s, "module slot \(hex(lkmSlot)) does not hold \(hex(s))")
          if type != .gotpcrel64, let rewrite = ldRewrite(mine, theirs, offset, p: p, a: a) {
            // The module never relaxes: its instruction bytes must be the object's.
            check(
              rewrite.value == s,
              "ld's rewritten instruction produces \(hex(rewrite.value)), not \(hex(s))")
            explained[rs.target, default: []].formUnion(rewrite.bytes)
            report.ldRewrites += 1
          } else {
            let ldSlot = p &+ signed(ldValue) &- a
            check(
              oracle.load(UInt64.self, at: ldSlot) == s,
              "ld slot \(hex(ldSlot)) does not hold \(hex(s))")
          }
        case .got32, .got64, .gotplt64:
          let lkmSlot = lkmGOT &+ signed(lkmValue) &- a
          check(lkmLoad(lkmSlot) == s, "module slot \(hex(lkmSlot)) does not hold \(hex(s))")
          if let ldGOT {
            let ldSlot = ldGOT &+ signed(ldValue) &- a
            check(
              oracle.load(UInt64.self, at: ldSlot) == s,
              "ld slot \(hex(ldSlot)) does not hold \(hex(s))")
          }
        case .gotoff64:
          check(
            lkmGOT &+ lkmValue == s &+ a,
            "module GOT + field is \(hex(lkmGOT &+ lkmValue)), not S + A \(hex(s &+ a))")
          if let ldGOT { check(ldGOT &+ ldValue == s &+ a, "ld GOT + field is not S + A") }
        case .gotpc32, .gotpc64:
          let base = p &+ signed(lkmValue) &- a
          check(base == lkmGOT, "module field + P - A is \(hex(base)), not the GOT \(hex(lkmGOT))")
          if let ldGOT {
            check(p &+ signed(ldValue) &- a == ldGOT, "ld field + P - A is not its GOT")
          }
        case .pltoff64:
          let l = lkmGOT &+ lkmValue &- a
          check(finalTarget(l) == s, "module L = \(hex(l)) does not reach \(hex(s))")
          if let ldGOT { check(ldGOT &+ ldValue &- a == s, "ld L is not S") }
        case .pc32, .plt32, .direct32, .direct32S:
          guard lkmValue != ldValue else { continue }  // compared byte for byte
          // Routed through a stub: the field reaches the stub, the stub the target, and ld
          // wrote the truncated direct value.
          let pcRelative = type == .pc32 || type == .plt32
          let destination =
            (pcRelative ? p : 0) &+ (type == .direct32 ? lkmValue : signed(lkmValue)) &- a
          check(
            stubAddresses.contains(destination),
            "differs from ld (\(hex(lkmValue)) vs \(hex(ldValue))) and reaches "
              + "\(hex(destination)), which is no stub")
          check(
            finalTarget(destination) == s,
            "the stub at \(hex(destination)) does not jump to \(hex(s))")
          let direct = (s &+ a &- (pcRelative ? p : 0)) & 0xffff_ffff
          check(ldValue == direct, "ld's field \(hex(ldValue)) is not the truncated \(hex(direct))")
          if meaningful { report.stubSites += 1 }
        default:
          continue  // compared byte for byte
        }
        // A field that failed its check was reported; its bytes are not reported again.
        if meaningful { report.semanticFields += 1 }
        explained[rs.target, default: []].formUnion(offset..<offset + width)
      }
    }

    // The GOT base is a real address in the module even when no slot is used.
    if object.relocationSections.contains(where: { rs in
      rs.entries.contains { [25, 26, 29, 31].contains($0.type) }  // GOTOFF64, GOTPC32/64, PLTOFF64
    }) && !module.contains(lkmGOT) {
      report.problems.append("_GLOBAL_OFFSET_TABLE_ \(hex(lkmGOT)) is outside the module")
    }

    // Every other byte of every section the module placed is ld's byte.
    for (s, placement) in placed[o].sorted(by: { $0.key < $1.key }) where placement.size > 0 {
      guard let out = oracle.section(named: ".lkm.\(o).\(s)") else {
        report.problems.append("\(object.sections[s].name): ld did not place it")
        continue
      }
      guard out.address == placement.address, out.size == placement.size else {
        report.problems.append(
          "\(placement.name): module \(hex(placement.address))+\(hex(placement.size)), "
            + "ld \(hex(out.address))+\(hex(out.size))")
        continue
      }
      // Nothing has run: SHT_NOBITS is the fresh mapping's zeros (and may be huge).
      if out.type == 8 && object.sections[s].isNoBits { continue }
      let mine = module.bytes(at: placement.address, count: Int(placement.size))
      let theirs = oracle.contents(of: out)
      let skip = explained[s] ?? []
      var differences = 0
      for i in 0..<mine.count where mine[i] != theirs[i] && !skip.contains(i) {
        differences += 1
        if differences <= 8 {
          let site = (sites[s] ?? [:]).filter { $0.key <= i && i < $0.key + 8 }.map(\.value).first
          report.problems.append(
            "\(placement.name)+\(hex(UInt64(i))): module \(hex(UInt64(mine[i]))), "
              + "ld \(hex(UInt64(theirs[i])))" + (site.map { " (field of \($0))" } ?? ""))
        }
      }
      if differences > 8 {
        report.problems.append("\(placement.name): \(differences - 8) more bytes differ")
      }
      report.comparedBytes += mine.count - skip.count
    }
  }
  return report
}

@Suite("GNU ld oracle")
struct GNULdOracleTests {
  /// Compares, and removes `directory` unless something differed (it holds plan.ld and
  /// oracle.elf for a look).
  static func check(_ objects: [String], in directory: String, label: String) throws -> OracleReport
  {
    let report = try compareWithGNULd(objects, in: directory)
    #expect(
      report.problems.isEmpty,
      "\(label) in \(directory):\n\(report.problems.joined(separator: "\n"))")
    #expect(report.comparedBytes > 0, "\(label): nothing compared")
    if report.problems.isEmpty { try? FileManager.default.removeItem(atPath: directory) }
    return report
  }

  @Test("every relocation fixture gets ld's bytes", arguments: OracleCase.fixtures)
  func fixture(_ oracleCase: OracleCase) throws {
    let directory = try TestSupport.temporaryDirectory("oracle")
    let report = try Self.check(
      oracleCase.build(in: directory), in: directory, label: oracleCase.label)
    if oracleCase.isThreadLocal {
      // tpoff32.s, for one, has a %fs-relative load and store of tv and tz and three more
      // fields (every fixture compares local-exec's address with its model's).
      #expect(report.threadLocalFields >= 2, "\(oracleCase.label): \(report)")
    }
  }

  /// ld's thread pointer moved by 0x40 (its TLS segment padded more): every T of ld's changes,
  /// and each model's comparison must say so. D (DTPOFF64) does not change with it.
  @Test(
    "the comparison notices thread-local fields that differ from ld's, in every model",
    arguments: [
      ("tpoff32", "(field of .text+0xc R_X86_64_TPOFF32 'tv')"),
      ("tpoff64", ".data+0x0 R_X86_64_TPOFF64 'tv'"),
      ("gottpoff", "R_X86_64_GOTTPOFF 'tv': the module's slot holds"),
      ("tlsgd", "R_X86_64_TLSGD 'tv': the module's GOT pair holds T"),
      ("tlsld", "R_X86_64_DTPOFF32 'tv': ld's T"),
      ("dtpoff32", "R_X86_64_DTPOFF32 'tv': ld's T"),
      ("gotpc32_tlsdesc", "R_X86_64_GOTPC32_TLSDESC 'tv': the module's descriptor holds T"),
    ])
  func noticesThreadLocalDifferences(_ name: String, _ expected: String) throws {
    let fixture = try #require(RelocationFixture.all.first { $0.name == name })
    let directory = try TestSupport.temporaryDirectory("oracle")
    let report = try compareWithGNULd(
      [fixture.assemble(into: directory)], in: directory, threadPointerSkew: 0x40)
    #expect(report.problems.contains { $0.contains(expected) }, "\(name): \(report.problems)")
    try? FileManager.default.removeItem(atPath: directory)
  }

  @Test("compiled C gets ld's bytes", arguments: OracleCase.cFiles)
  func compiled(_ oracleCase: OracleCase) throws {
    let directory = try TestSupport.temporaryDirectory("oracle")
    _ = try Self.check(oracleCase.build(in: directory), in: directory, label: oracleCase.label)
  }

  @Test("the C programs of Fixtures/c get ld's bytes", arguments: OracleCase.programs)
  func programs(_ oracleCase: OracleCase) throws {
    let directory = try TestSupport.temporaryDirectory("oracle")
    let objects = try oracleCase.build(in: directory)
    // What the module refuses to link is for the linking tests; the oracle compares bytes.
    do {
      let host = try HostSymbolProvider(libraries: [])
      _ = try ModuleLinker(options: LinkOptions(providers: [host]))
        .link(objects.map { try LinkInput.read($0) })
    } catch {
      try? FileManager.default.removeItem(atPath: directory)
      return
    }
    _ = try Self.check(objects, in: directory, label: oracleCase.label)
  }

  @Test("the comparison notices fields that differ from ld's, direct and through the GOT")
  func noticesDifferences() throws {
    let cases = [
      ("pc32", ".text+0x4e R_X86_64_PC32 'environ': differs from ld"),
      ("gotpcrel", "R_X86_64_GOTPCREL 'labs': ld slot"),
    ]
    for (name, expected) in cases {
      let fixture = try #require(RelocationFixture.all.first { $0.name == name })
      let directory = try TestSupport.temporaryDirectory("oracle")
      let report = try compareWithGNULd(
        [fixture.assemble(into: directory)], in: directory, skew: 0x10)
      #expect(report.problems.contains { $0.contains(expected) }, "\(name): \(report.problems)")
      try? FileManager.default.removeItem(atPath: directory)
    }
  }

  @Test("-fno-pic code below 2 GiB calls libc through stubs, and ld agrees on the rest")
  func naturalStubs() throws {
    let directory = try TestSupport.temporaryDirectory("oracle")
    let object = directory + "/tables.o"
    try TestSupport.shell(
      "gcc -c -O2 -fno-pic -o '\(object)' '\(TestSupport.fixture("oracle/tables.c"))'")
    let report = try Self.check([object], in: directory, label: "tables.c -fno-pic")
    // qsort, snprintf and strlen by PLT32; the weak undefined optional_feature is no stub site
    // (its address is compared as 0).
    #expect(report.stubSites >= 3, "\(report)")
    // A host function's address as a 32-bit immediate is a stub's address below 2 GiB.
    for name in ["32", "32s"] {
      let fixture = try #require(RelocationFixture.all.first { $0.name == name })
      let directory = try TestSupport.temporaryDirectory("oracle")
      let report = try Self.check([fixture.assemble(into: directory)], in: directory, label: name)
      #expect(report.stubSites == 1, "\(name).s: \(report)")
    }
  }

  @Test(
    "ld rewrites a GOT load of an undefined weak symbol even with --no-relax; the module does not")
  func ldRewritesWeakLoads() throws {
    let fixture = try #require(RelocationFixture.all.first { $0.name == "rex_gotpcrelx" })
    let directory = try TestSupport.temporaryDirectory("oracle")
    let report = try Self.check(
      [fixture.assemble(into: directory)], in: directory, label: "rex_gotpcrelx.s")
    #expect(report.ldRewrites == 1)
  }

  /// Debian's static libraries, every member linked into one module (the §7 baseline for
  /// SQLite: 102 gcc PIE objects, 24,028 relocations).
  @Test(
    "every member of a system static library gets ld's bytes",
    arguments: ["libsqlite3.a", "libz.a", "libbz2.a"].map { "/usr/lib/x86_64-linux-gnu/" + $0 }
      .filter { FileManager.default.fileExists(atPath: $0) })
  func systemLibrary(_ archive: String) throws {
    let directory = try TestSupport.temporaryDirectory("oracle")
    try TestSupport.shell("ar x '\(archive)'", directory: directory)
    let objects = try FileManager.default.contentsOfDirectory(atPath: directory)
      .filter { $0.hasSuffix(".o") }.sorted().map { directory + "/" + $0 }
    let report = try Self.check(objects, in: directory, label: archive)
    #expect(report.comparedBytes > 10_000)
  }

  /// A cached image at another address than the one it was stored from: ld is given the
  /// addresses of the cached load.
  @Test(
    "cached images get ld's bytes",
    arguments: (OracleCase.fixtures + OracleCase.cFiles).filter { !$0.isThreadLocal }
      + [OracleCase(source: .c(paths: [], compiler: "", flags: ""), label: "libsqlite3.a")])
  func cached(_ oracleCase: OracleCase) throws {
    let directory = try TestSupport.temporaryDirectory("oracle")
    let objects: [String]
    if oracleCase.label == "libsqlite3.a" {
      try TestSupport.shell("ar x /usr/lib/x86_64-linux-gnu/libsqlite3.a", directory: directory)
      objects = try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasSuffix(".o") }.sorted().map { directory + "/" + $0 }
    } else {
      objects = try oracleCase.build(in: directory)
    }
    let cache = try ImageCache(directory: directory + "/cache")
    var options = LinkOptions(providers: [try HostSymbolProvider(libraries: []), FarSymbols()])
    options.cache = cache
    // Stored, and kept mapped while the cached image loads, so that it loads elsewhere.
    let stored = try ModuleLinker(options: options).link(objects.map { try LinkInput.read($0) })
    #expect(stored.statistics.cache == .stored(missed: "no entry"))
    let report = try compareWithGNULd(objects, in: directory, cache: cache)
    #expect(report.cache == .hit)
    #expect(
      report.problems.isEmpty,
      "\(oracleCase.label) in \(directory):\n\(report.problems.joined(separator: "\n"))")
    #expect(report.comparedBytes > 0)
    withExtendedLifetime(stored) {}
    if report.problems.isEmpty { try? FileManager.default.removeItem(atPath: directory) }
  }

  /// For any objects at hand: `LKM_ORACLE_OBJECTS="a.o b.o" swift test --filter GNULdOracle`
  /// (extract archives with `ar x` first).
  @Test(
    "objects named by LKM_ORACLE_OBJECTS get ld's bytes",
    .enabled(if: ProcessInfo.processInfo.environment["LKM_ORACLE_OBJECTS"] != nil))
  func namedObjects() throws {
    let objects = (ProcessInfo.processInfo.environment["LKM_ORACLE_OBJECTS"] ?? "")
      .split(separator: " ").map(String.init)
    let directory = try TestSupport.temporaryDirectory("oracle")
    let report = try Self.check(objects, in: directory, label: "LKM_ORACLE_OBJECTS")
    print(
      "oracle: \(report.comparedBytes) bytes equal, \(report.semanticFields) fields by meaning, "
        + "\(report.stubSites) through stubs, \(report.ldRewrites) rewritten by ld")
  }

  @Test("calls no placement can reach go through stubs that reach their targets")
  func forcedStubs() throws {
    let directory = try TestSupport.temporaryDirectory("oracle")
    let object = directory + "/far.o"
    try TestSupport.shell("gcc -c -O2 -o '\(object)' '\(TestSupport.fixture("oracle/far.c"))'")
    let module = try ModuleLinker(
      options: LinkOptions(providers: [try HostSymbolProvider(libraries: []), FarSymbols()])
    ).link([LinkInput.read(object)])
    #expect(Set(module.stubs.keys) == ["far_function", "far_other_function"])
    let report = try Self.check([object], in: directory, label: "far.c")
    // Five calls and tail calls (PLT32) to two far functions.
    #expect(report.stubSites == 5)
  }
}
