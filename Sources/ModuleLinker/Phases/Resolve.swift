import ELFObject
import LKMBase

// Phase 1 of a link: inputs → symbol table. Every object of the module (the inputs' objects and
// the archive members they pull), COMDAT groups kept once, each global resolved to a
// definition of the module, a provider's symbol, the linker's own, or nothing.

/// A global symbol of the module being linked.
struct GlobalSymbol {
  enum Kind: UInt8 { case undefined, common, weak, strong }
  /// The name's bytes (in an object's string table) and hash.
  var symbolName: SymbolName
  /// The address: a provider's for an external; set by relocation for the module's own.
  var address: UInt64 = 0
  var size: UInt64 = 0
  /// Largest COMMON size and alignment seen.
  var commonSize: UInt64 = 0
  var commonAlignment: UInt64 = 1
  /// The defining object and symbol index, for `.weak` and `.strong` (and `.common`: the first).
  var object: Int32 = -1
  var symbol: UInt32 = 0
  /// For `.weak` and `.strong`: the defining symbol's section (its index in the flat section
  /// arrays) or -1 when it is absolute, and its value.
  var section: Int32 = -1
  var value: UInt64 = 0
  /// Its entry in ``SymbolTable/externals`` when it is undefined and referenced, else -1.
  var external: Int32 = -1
  var kind: Kind = .undefined
  /// Whether every reference is weak (an undefined weak symbol resolves to 0).
  var onlyWeakReferences = true
  var referenced = false
  var isIFunc = false
  var isFunction = false
  /// Whether the symbol is a thread-local variable (`STT_TLS`).
  var isThreadLocal = false
  /// Set for the names the linker defines itself.
  var linkerDefined: LinkerDefined?

  init(symbolName: SymbolName) {
    self.symbolName = symbolName
  }

  /// The name, for messages and tables (made on demand).
  var name: String { symbolName.string }
  /// Whether the module defines it (in a section, as COMMON, or absolute).
  var isDefined: Bool { kind != .undefined }
}

/// An address from outside the module's image: an undefined global a provider gave (or left at
/// 0), or the host function a thunk jumps to.
struct ExternalSymbol {
  var name: String
  /// The global it resolves, or -1 for a thunk's target.
  var global: Int32
  /// The provider's name (`linker` for `__cxa_atexit`); nil when nothing defines it (an
  /// undefined weak symbol, or any undefined symbol with ``LinkOptions/allowUndefined``).
  var provider: String?
  /// What the provider gave.
  var symbol: ProvidedSymbol?

  var address: UInt64 { symbol?.address ?? 0 }
}

/// A symbol the linker defines.
enum LinkerDefined: UInt8, Equatable {
  /// `_GLOBAL_OFFSET_TABLE_`: the GOT base.
  case gotBase
  /// `__dso_handle`: the module's own handle, in its data.
  case dsoHandle
  /// `__cxa_atexit`: the per-module registry (handlers run at unload).
  case cxaAtExit
  /// `atexit`, `at_quick_exit`, `pthread_atfork`: thunks adding the module's `__dso_handle`.
  case thunk
  /// `_TLS_MODULE_BASE_`: the start of the module's TLS block (clang's local-dynamic TLS
  /// descriptors name it).
  case tlsModuleBase
}

/// The functions of glibc's libc_nonshared.a, which every executable links statically: the
/// linker writes each as a thunk that passes the module's `__dso_handle` on.
enum Thunk: UInt8 {
  /// `atexit(f)` → `__cxa_atexit(f, NULL, __dso_handle)`
  case atexit
  /// `at_quick_exit(f)` → `__cxa_at_quick_exit(f, __dso_handle)`
  case atQuickExit
  /// `pthread_atfork(p, a, c)` → `__register_atfork(p, a, c, __dso_handle)`
  case pthreadAtfork

  /// The thunk's code: set the handle argument from `__dso_handle` (rel32 at `handleField`),
  /// then `jmp *slot(%rip)` (rel32 at `slotField`).
  var code: (bytes: [UInt8], handleField: Int, slotField: Int) {
    switch self {
    case .atexit:
      // xor %esi,%esi; lea h(%rip),%rdx; jmp *s(%rip)
      ([0x31, 0xf6, 0x48, 0x8d, 0x15, 0, 0, 0, 0, 0xff, 0x25, 0, 0, 0, 0], 5, 11)
    case .atQuickExit:
      // lea h(%rip),%rsi; jmp *s(%rip)
      ([0x48, 0x8d, 0x35, 0, 0, 0, 0, 0xff, 0x25, 0, 0, 0, 0], 3, 9)
    case .pthreadAtfork:
      // lea h(%rip),%rcx; jmp *s(%rip)
      ([0x48, 0x8d, 0x0d, 0, 0, 0, 0, 0xff, 0x25, 0, 0, 0, 0], 3, 9)
    }
  }

  /// The host function the thunk calls, when it is not the linker's own `__cxa_atexit`.
  var hostTarget: String {
    switch self {
    case .atexit: "__cxa_atexit"
    case .atQuickExit: "__cxa_at_quick_exit"
    case .pthreadAtfork: "__register_atfork"
    }
  }
}

/// One thunk to write: the global it defines, its kind, and the external it jumps to.
struct ThunkRequest {
  var global: Int
  var kind: Thunk
  var external: Int
}

/// A reference to a symbol: a global of the module, or one object's local symbol.
enum SymbolRef: Hashable {
  /// A global id.
  case global(Int32)
  /// An object's index and the symbol's index in it.
  case local(object: Int32, index: UInt32)

  /// The global id, for a global.
  var globalID: Int? {
    if case .global(let id) = self { return Int(id) }
    return nil
  }
}

/// The names the linker defines itself, when a module references them and defines none.
let linkerNames: Set<String> = [
  "_GLOBAL_OFFSET_TABLE_", "__dso_handle", "__cxa_atexit", "atexit", "at_quick_exit",
  "pthread_atfork", "_TLS_MODULE_BASE_",
]

/// Phase 1's value: the module's objects and how every global symbol was resolved.
///
/// Per-object facts live in flat arrays indexed through ``symbolBase`` and ``sectionBase``
/// (symbol `i` of object `o` is entry `symbolBase[o] + i`), so that a link of a hundred objects
/// makes a handful of arrays, not a few per object.
struct SymbolTable {
  var objects: [ObjectFile] = []
  /// Where each object came from: the input's index, and the member's name for an archive's.
  var origins: [(input: Int, member: String?)] = []
  /// Where each object's symbols and sections start in the flat arrays (one extra entry at the
  /// end: the totals).
  var symbolBase: [Int] = [0]
  var sectionBase: [Int] = [0]
  /// Per symbol: its global id, or -1 (a local symbol).
  var globalOf: [Int32] = []
  /// Per section: dropped (a member of a COMDAT group kept from an earlier object).
  var discarded: [Bool] = []
  /// Per object: whether it has an IFUNC symbol (translation reads a local target's type only
  /// in those).
  var hasIFunc: [Bool] = []
  var globals: [GlobalSymbol] = []
  /// Global names → global ids (a global's id is its name's index).
  var index = SymbolNameTable()
  /// Names the link made itself (the entry point), kept alive with it.
  var ownedNames: [OwnedName] = []
  var externals: [ExternalSymbol] = []
  var thunks: [ThunkRequest] = []
  /// Globals nobody defines (a check goes on without them).
  var missing: [Bool] = []
  /// What does not stop the module (undefined weak symbols).
  var warnings: [String] = []
  var comdatSignatures: Set<String> = []
  /// Globals defined with a default version (`name@@VERSION`, from `.symver`): they define
  /// `name` and `name@VERSION` too, as ld's static link binds them.
  var defaultVersions: [Int] = []
  /// The runtime archives the link opened (``LinkOptions/runtimeArchives``): each one's name, the
  /// file it was read from and that file's identity then (nil when it was not a mapped file). A
  /// cached image depends on them.
  var runtimeFiles: [(name: String, path: String, identity: FileIdentity?)] = []
  /// The static TLS reservation thread-local variables are given (``LinkOptions/threadLocalStorage``);
  /// nil refuses them.
  var threadLocalStorage: StaticTLS?

  /// The id of the global named `name`, if the module has one.
  func globalID(_ name: String) -> Int? {
    let owned = OwnedName(name)
    return withExtendedLifetime(owned) { index.index(of: owned.name) }
  }

  /// The reference symbol `i` of object `o` stands for.
  @inline(__always)
  func reference(_ o: Int, _ i: Int) -> SymbolRef {
    let g = globalOf[symbolBase[o] + i]
    return g >= 0 ? .global(g) : .local(object: Int32(o), index: UInt32(i))
  }

  /// Whether a global lives outside the image (a provider's, an undefined weak, the linker's
  /// `__cxa_atexit`).
  func isExternal(global id: Int) -> Bool {
    let g = globals[id]
    guard g.kind == .undefined else { return false }
    switch g.linkerDefined {
    case nil, .cxaAtExit: return true
    default: return false
    }
  }

  /// What a provider gave for global `id`, if anything.
  func provided(_ id: Int) -> ProvidedSymbol? {
    let e = globals[id].external
    return e >= 0 ? externals[Int(e)].symbol : nil
  }

  func isIFunc(_ ref: SymbolRef) -> Bool {
    switch ref {
    case .global(let id): return globals[Int(id)].isIFunc && globals[Int(id)].isDefined
    case .local(let o, let i): return objects[Int(o)].symbolType(Int(i)) == SymbolType.gnuIFunc
    }
  }

  /// Whether the reference is to an absolute symbol (or the null symbol): its value does not
  /// move with the module.
  func isAbsolute(_ ref: SymbolRef) -> Bool {
    switch ref {
    case .global(let id):
      let g = globals[Int(id)]
      guard g.kind == .strong || g.kind == .weak else { return false }
      return objects[Int(g.object)].symbolPlace(Int(g.symbol)) == .absolute
    case .local(let o, let i):
      return i == 0 || objects[Int(o)].symbolPlace(Int(i)) == .absolute
    }
  }

  func name(of ref: SymbolRef) -> String {
    switch ref {
    case .global(let id): globals[Int(id)].name
    case .local(let o, let i): objects[Int(o)].displayName(ofSymbol: Int(i))
    }
  }

  /// A relocation site for messages: `object:function+0xoff (section+0xoff)`.
  func site(_ o: Int, _ section: Int, _ offset: UInt64) -> String {
    let object = objects[o]
    let place = "\(object.sectionName(section))+\(hex(offset))"
    if let function = object.location(section: section, offset: offset) {
      return "\(object.name):\(function) (\(place))"
    }
    return "\(object.name) (\(place))"
  }
}

extension SymbolTable {
  /// Phase 1: adds every object, pulls the archive members that define what is still undefined
  /// (as ld does, until nothing changes), and resolves what is left with the providers.
  ///
  /// - Throws: malformed members at once; the problems of each step through `problems`.
  static func resolve(_ inputs: [LinkInput], options: LinkOptions, problems: inout Problems)
    throws(LinkError) -> SymbolTable
  {
    var table = SymbolTable()
    table.threadLocalStorage = options.threadLocalStorage
    var archives: [(input: Int, archive: Archive)] = []
    var symbolCount = 0
    for input in inputs {
      switch input {
      case .object(let object): symbolCount += object.symbolCount
      case .archive(let archive): symbolCount += archive.indexedNameCount * 2
      }
    }
    table.index = SymbolNameTable(capacity: symbolCount)
    table.globals.reserveCapacity(symbolCount)
    table.globalOf.reserveCapacity(symbolCount)
    for (k, input) in inputs.enumerated() {
      switch input {
      case .object(let object):
        table.origins.append((k, nil))
        try problems.report(table.add(object))
      case .archive(let archive): archives.append((k, archive))
      }
    }
    if let entry = options.entry, table.globalID(entry) == nil {
      let owned = OwnedName(entry)
      table.ownedNames.append(owned)
      let (id, _) = table.index.insert(owned.name)
      var g = GlobalSymbol(symbolName: table.index.names[id])
      g.referenced = true
      g.onlyWeakReferences = false
      table.globals.append(g)
    }
    table.bindDefaultVersions()
    try table.pullArchiveMembers(archives, problems: &problems)
    table.bindDefaultVersions()
    // An entry nothing defines is the caller's to report, not an undefined symbol.
    if let entry = options.entry, let id = table.globalID(entry), !table.globals[id].isDefined {
      table.globals[id].onlyWeakReferences = true
    }
    var pending = table.lookUpExternals(options)
    if !options.runtimeArchives.isEmpty,
      pending.contains(where: { !table.globals[$0].onlyWeakReferences })
    {
      // gcc's driver links libgcc.a after the objects: its members for what is still
      // undefined, then what they need from the providers.
      var runtime: [(input: Int, archive: Archive)] = []
      for (k, source) in options.runtimeArchives.enumerated() {
        if let archive = source.open() {
          runtime.append((inputs.count + k, archive))
          table.runtimeFiles.append((source.name, archive.bytes.name, archive.bytes.identity))
        }
      }
      try table.pullArchiveMembers(runtime, problems: &problems, only: Set(pending))
      pending = pending.filter { table.globals[$0].kind == .undefined }
      pending += table.lookUpExternals(options)
    }
    try problems.report(table.reportUnresolved(pending, options))
    return table
  }

  /// Adds one object: COMDAT groups first, then its global symbols. Returns its problems.
  mutating func add(_ object: ObjectFile) -> [LinkError] {
    let o = objects.count
    let sectionStart = discarded.count
    let symbolStart = globalOf.count
    objects.append(object)
    discarded.append(contentsOf: repeatElement(false, count: object.sectionCount))
    sectionBase.append(discarded.count)
    for group in object.groups where group.isComdat {
      if comdatSignatures.contains(group.signature) {
        for member in group.members { discarded[sectionStart + member] = true }
        discarded[sectionStart + group.index] = true
      } else {
        comdatSignatures.insert(group.signature)
      }
    }
    globalOf.append(contentsOf: repeatElement(-1, count: object.symbolCount))
    symbolBase.append(globalOf.count)

    var errors: [LinkError] = []
    hasIFunc.append(false)
    // An IFUNC's value is a resolver the linker calls: it must be code.
    for i in 0..<object.symbolCount where object.symbolType(i) == SymbolType.gnuIFunc {
      hasIFunc[o] = true
      guard case .section(let s) = object.symbolPlace(i), !discarded[sectionStart + s] else {
        continue
      }
      let flags = object.sectionFlags(s)
      if flags & SectionFlags.execInstr == 0 || flags & SectionFlags.alloc == 0 {
        errors.append(
          LinkError(
            .malformedInput,
            "\(object.name): IFUNC symbol '\(object.symbolName(i))' is defined in section \(s) '\(object.sectionName(s))', which is not executable"
          ))
      }
    }
    for i in 1..<max(object.symbolCount, 1) {
      let binding = object.symbolBinding(i)
      if binding == SymbolBinding.local { continue }
      let type = object.symbolType(i)
      if type == SymbolType.tls && threadLocalStorage == nil {
        // Without a static TLS reservation (a kernel's link): refused, as LinkHints reads it.
        errors.append(
          LinkError(
            .unsupportedFeature,
            "\(object.name): thread-local symbol '\(object.symbolName(i))' is not supported"))
        continue
      }
      let (id, inserted) = index.insert(object.symbolNameBytes(i))
      if inserted { globals.append(GlobalSymbol(symbolName: index.names[id])) }
      if type == SymbolType.tls { globals[id].isThreadLocal = true }
      globalOf[symbolStart + i] = Int32(id)
      var place = object.symbolPlace(i)
      if case .section(let s) = place, discarded[sectionStart + s] { place = .undefined }
      switch place {
      case .undefined:
        globals[id].referenced = true
        if binding != SymbolBinding.weak { globals[id].onlyWeakReferences = false }
      case .common where index.names[id].equals("__gnu_lto_slim"):
        // GCC's slim LTO objects (gcc -flto without -ffat-lto-objects) hold GIMPLE sections
        // and this COMMON marker, no machine code: every symbol they seem to define would be
        // undefined.
        errors.append(
          LinkError(
            .unsupportedFeature,
            "\(object.name): holds GCC's intermediate code only (gcc -flto), not machine code: "
              + "compile without -flto, or with -ffat-lto-objects"))
      case .common:
        let size = object.symbolSize(i)
        let alignment = object.symbolValue(i)
        switch globals[id].kind {
        case .strong: break
        case .common:
          globals[id].commonSize = max(globals[id].commonSize, size)
          globals[id].commonAlignment = max(globals[id].commonAlignment, alignment)
        case .undefined, .weak:
          globals[id].kind = .common
          globals[id].object = Int32(o)
          globals[id].symbol = UInt32(i)
          globals[id].commonSize = max(globals[id].commonSize, size)
          globals[id].commonAlignment = max(globals[id].commonAlignment, alignment)
        }
      case .section(let s) where !object.isAllocated(section: s):
        errors.append(
          LinkError(
            .malformedInput,
            "\(object.name): global symbol '\(globals[id].name)' is defined in section \(s) '\(object.sectionName(s))', which is not loaded (SHF_ALLOC is clear)"
          ))
      case .absolute, .section:
        let weak = binding == SymbolBinding.weak
        switch globals[id].kind {
        case .strong:
          if !weak {
            let other = objects[Int(globals[id].object)].name
            errors.append(
              LinkError(
                .duplicateDefinition,
                "duplicate definition of '\(globals[id].name)' in \(object.name) and \(other)"))
          }
        case .weak, .common:
          if !weak { define(id, o, i, .strong) }
        case .undefined:
          define(id, o, i, weak ? .weak : .strong)
        }
        if let at = index.names[id].versionStart, at + 1 < index.names[id].count,
          unsafe index.names[id].start!.load(fromByteOffset: at + 1, as: UInt8.self) == 0x40
        {
          defaultVersions.append(id)
        }
      }
    }
    return errors
  }

  /// Makes each default-version definition `name@@VERSION` define `name` and `name@VERSION`
  /// too, where the module defines neither: a plain reference binds to the default version
  /// (as in ld's static link; `name@OTHER` binds only to a definition of that version).
  mutating func bindDefaultVersions() {
    guard !defaultVersions.isEmpty else { return }
    for id in defaultVersions where globals[id].kind == .strong || globals[id].kind == .weak {
      let full = Array(globals[id].name.utf8)
      guard let at = full.firstIndex(of: 0x40), at > 0 else { continue }
      let base = String(decoding: full[..<at], as: UTF8.self)
      let version = String(decoding: full[(at + 2)...], as: UTF8.self)
      for alias in [base, base + "@" + version] {
        let owned = OwnedName(alias)
        let (a, inserted) = index.insert(owned.name)
        if inserted {
          ownedNames.append(owned)
          globals.append(GlobalSymbol(symbolName: index.names[a]))
        }
        guard globals[a].kind == .undefined || globals[a].kind == .common else { continue }
        let definition = globals[id]
        globals[a].kind = definition.kind
        globals[a].object = definition.object
        globals[a].symbol = definition.symbol
        globals[a].isIFunc = definition.isIFunc
        globals[a].isFunction = definition.isFunction
        globals[a].size = definition.size
        globals[a].value = definition.value
        globals[a].section = definition.section
      }
    }
  }

  private mutating func define(_ id: Int, _ o: Int, _ i: Int, _ kind: GlobalSymbol.Kind) {
    let object = objects[o]
    let type = object.symbolType(i)
    globals[id].kind = kind
    globals[id].object = Int32(o)
    globals[id].symbol = UInt32(i)
    globals[id].isIFunc = type == SymbolType.gnuIFunc
    globals[id].isFunction = type == SymbolType.function || globals[id].isIFunc
    globals[id].size = object.symbolSize(i)
    globals[id].value = object.symbolValue(i)
    if case .section(let s) = object.symbolPlace(i) {
      globals[id].section = Int32(sectionBase[o] + s)
    } else {
      globals[id].section = -1
    }
  }

  /// Pulls archive members that define still-undefined strong symbols, until nothing changes.
  mutating func pullArchiveMembers(
    _ archives: [(input: Int, archive: Archive)], problems: inout Problems, only: Set<Int>? = nil
  ) throws(LinkError) {
    guard !archives.isEmpty else { return }
    var pulled = archives.map { [Bool](repeating: false, count: $0.archive.members.count) }
    var changed = true
    var passes = 0
    while changed && passes < 1_000_000 {
      changed = false
      passes += 1
      // Every global, including those the members pulled meanwhile add; then again from the
      // start if anything changed (a new member can make an earlier archive useful again).
      var id = 0
      while id < globals.count {
        defer { id += 1 }
        let g = globals[id]
        guard g.kind == .undefined, g.referenced, !g.onlyWeakReferences, g.external < 0,
          only.map({ $0.contains(id) || id >= missing.count }) ?? true
        else { continue }
        for (a, (input, archive)) in archives.enumerated() {
          guard let m = archive.firstMember(defining: g.symbolName, where: { !pulled[a][$0] })
          else { continue }
          pulled[a][m] = true
          let object: ObjectFile
          do { object = try archive.object(at: m) } catch { throw LinkError(error) }
          origins.append((input, archive.memberName(m)))
          try problems.report(add(object))
          changed = true
          break
        }
      }
    }
  }

  /// Looks up in the providers every undefined global not looked up yet. Returns the ones
  /// nobody defines.
  mutating func lookUpExternals(_ options: LinkOptions) -> [Int] {
    var pending: [Int] = []
    let first = missing.count
    missing += [Bool](repeating: false, count: globals.count - first)
    for id in first..<globals.count
    where globals[id].kind == .undefined && globals[id].referenced {
      let name = globals[id].name
      if linkerNames.contains(name) && defineInternally(id, name, options) { continue }
      var found: (String, ProvidedSymbol)?
      if threadLocalStorage != nil && name == "__tls_get_addr" {
        // The general- and local-dynamic models' call: the linker's, over the indexes it writes.
        found = ("linker", ProvidedSymbol(address: StaticTLS.functions.getAddr, isFunction: true))
      }
      for provider in options.providers where found == nil {
        if let symbol = provider.lookup(name) {
          found = (provider.providerName, symbol)
          break
        }
      }
      if let (provider, symbol) = found {
        globals[id].address = symbol.address
        globals[id].isFunction = symbol.isFunction
        globals[id].size = symbol.size ?? 0
        globals[id].external = Int32(externals.count)
        externals.append(
          ExternalSymbol(name: name, global: Int32(id), provider: provider, symbol: symbol))
        continue
      }
      pending.append(id)
    }
    return pending
  }

  /// Records the globals nobody defines: each an error with where it is referenced, or (weak,
  /// or with ``LinkOptions/allowUndefined``) 0 and a warning.
  mutating func reportUnresolved(_ pending: [Int], _ options: LinkOptions) -> [LinkError] {
    var unresolved: [Int] = []
    for id in pending {
      let name = globals[id].name
      if !globals[id].onlyWeakReferences && !options.allowUndefined {
        unresolved.append(id)
        missing[id] = true
      } else if name != options.entry {
        warnings.append("weak symbol '\(name)' is not defined: it is 0")
      }
      globals[id].external = Int32(externals.count)
      externals.append(ExternalSymbol(name: name, global: Int32(id), provider: nil, symbol: nil))
    }
    guard !unresolved.isEmpty else { return [] }
    let sites = referenceSites(of: Set(unresolved))
    return unresolved.map { id -> LinkError in
      let name = globals[id].name
      let places = sites[id] ?? []
      var text = "undefined symbol '\(name)'"
      if !places.isEmpty {
        let shown = places.prefix(3).joined(separator: ", ")
        text += " referenced from \(shown)"
        if places.count > 3 { text += " and \(places.count - 3) more" }
      }
      if let hint = options.suggest?(name) { text += "; \(hint)" }
      var error = LinkError(.undefinedSymbol, text)
      error.symbol = name
      return error
    }
  }

  /// Defines one of the linker's own names; false if it cannot (a thunk whose host function no
  /// provider has), so that the providers are asked.
  mutating func defineInternally(_ id: Int, _ name: String, _ options: LinkOptions) -> Bool {
    switch name {
    case "_GLOBAL_OFFSET_TABLE_":
      globals[id].linkerDefined = .gotBase
    case "__dso_handle":
      globals[id].linkerDefined = .dsoHandle
    case "_TLS_MODULE_BASE_":
      guard threadLocalStorage != nil else { return false }
      globals[id].linkerDefined = .tlsModuleBase
      globals[id].isThreadLocal = true
    case "__cxa_atexit":
      let symbol = ProvidedSymbol(address: AtExitRegistry.cxaAtExitAddress, isFunction: true)
      globals[id].linkerDefined = .cxaAtExit
      globals[id].address = symbol.address
      globals[id].isFunction = true
      globals[id].external = Int32(externals.count)
      externals.append(
        ExternalSymbol(name: name, global: Int32(id), provider: "linker", symbol: symbol))
    default:
      let kind: Thunk =
        switch name {
        case "atexit": .atexit
        case "at_quick_exit": .atQuickExit
        default: .pthreadAtfork
        }
      let target: ExternalSymbol
      if kind == .atexit {
        let symbol = ProvidedSymbol(address: AtExitRegistry.cxaAtExitAddress, isFunction: true)
        target = ExternalSymbol(
          name: kind.hostTarget, global: -1, provider: "linker", symbol: symbol)
      } else {
        var found: ExternalSymbol?
        for provider in options.providers {
          if let symbol = provider.lookup(kind.hostTarget) {
            found = ExternalSymbol(
              name: kind.hostTarget, global: -1, provider: provider.providerName, symbol: symbol)
            break
          }
        }
        guard let found else { return false }
        target = found
      }
      globals[id].linkerDefined = .thunk
      globals[id].isFunction = true
      thunks.append(ThunkRequest(global: id, kind: kind, external: externals.count))
      externals.append(target)
    }
    return true
  }

  /// `object:function+0xoff (section+0xoff)` for each relocation naming one of `ids`.
  func referenceSites(of ids: Set<Int>) -> [Int: [String]] {
    var sites: [Int: [String]] = [:]
    for (o, object) in objects.enumerated() {
      let symbols = symbolBase[o]
      for rs in object.relocationSections where !discarded[sectionBase[o] + rs.target] {
        for entry in rs.entries {
          let g = Int(globalOf[symbols + Int(entry.symbolIndex)])
          guard g >= 0, ids.contains(g) else { continue }
          sites[g, default: []].append(site(o, rs.target, entry.offset))
        }
      }
    }
    return sites
  }
}
