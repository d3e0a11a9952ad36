import ELFObject
import LKMBase
import Foundation
import ModuleLinker
import TestSupport
import Testing

// The differential check of loaders-and-relocations.md §8: link objects with ModuleLinker,
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
  ]

  /// The relocation fixtures but the thread-local ones: this comparison links without a static
  /// TLS reservation, and ld's static link relaxes general- and local-dynamic sequences to
  /// local-exec (those fixtures are run under ld instead, RelocationKindTests.nativeResult).
  static let fixtures: [OracleCase] = RelocationFixture.runnable.filter { !$0.isThreadLocal }.map {
    OracleCase(source: .assembler($0), label: $0.name + ".s")
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
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
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

/// Links `objects` with ModuleLinker and with GNU ld at the same addresses, and compares.
///
/// - Parameter skew: added to every external's address in ld's link only, to prove that the
///   comparison notices a wrong field.
///   - cache: link through this cache (to compare a cached image: store it first).
func compareWithGNULd(
  _ objects: [String], in directory: String, skew: UInt64 = 0, cache: ImageCache? = nil
) throws -> OracleReport {
  var report = OracleReport()
  let inputs = try objects.map { try LinkInput.read($0) }
  let host = try HostSymbolProvider(libraries: [])
  var options = LinkOptions(providers: [host, FarSymbols()])
  options.cache = cache
  let module = try ModuleLinker(options: options).link(inputs)
  report.cache = module.statistics.cache
  let parsed = try objects.map { try ObjectFile(path: $0) }
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
    // ld drops empty output sections; there is nothing in them to compare.
    for (s, p) in placed[o].sorted(by: { $0.key < $1.key }) where p.size > 0 {
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
  // ld's own GOT, PLT and dynamic relocations, out of the module's way but within reach. .got
  // and .got.plt as in ld's default script: sharing one output section, ld 2.40 computes GOT32
  // and GOT64 from the wrong base.
  let ldArea = (module.baseAddress + UInt64(module.size) + 0x1fff) & ~0xfff
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
  where name != "_GLOBAL_OFFSET_TABLE_" && external.provider != "weak" {
    externals += "\t.globl \(name)\n\t.set \(name), \(hex(external.address &+ skew))\n"
    if let size = providers.lazy.compactMap({ $0.lookup(name) }).first?.size {
      externals += "\t.size \(name), \(size)\n"
    }
  }
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

  // Every global the module defines is where ld put it.
  for (name, address) in module.exports where oracle.symbols[name] != nil {
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
        switch type {
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
    _ = try Self.check(oracleCase.build(in: directory), in: directory, label: oracleCase.label)
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
    arguments: OracleCase.fixtures + OracleCase.cFiles
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
