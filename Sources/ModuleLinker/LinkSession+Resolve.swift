import ELFObject

/// A global symbol of the module being linked.
struct GlobalSymbol {
  enum Kind { case undefined, common, weak, strong }
  /// The name's bytes (in an object's string table) and hash.
  var symbolName: SymbolName
  /// The name, for messages and tables (made on demand).
  var name: String { symbolName.string }
  var kind: Kind = .undefined
  /// The defining object and symbol index, for `.weak` and `.strong` (and `.common`: the first).
  var object: Int32 = -1
  var symbol: UInt32 = 0
  /// Largest COMMON size and alignment seen.
  var commonSize: UInt64 = 0
  var commonAlignment: UInt64 = 1
  /// Whether every reference is weak (an undefined weak symbol resolves to 0).
  var onlyWeakReferences = true
  var referenced = false
  /// From a provider, when not defined by the module.
  var external: ProvidedSymbol?
  var providerName: String?
  /// The final address (an IFUNC's resolved target once resolvers ran).
  var address: UInt64 = 0
  var isIFunc = false
  var isFunction = false
  var size: UInt64 = 0
  /// Set for the names the linker defines itself.
  var linkerDefined: LinkerDefined?
}

/// A symbol the linker defines.
enum LinkerDefined: Equatable {
  /// `_GLOBAL_OFFSET_TABLE_`: the GOT base.
  case gotBase
  /// `__dso_handle`: the module's own handle, in its data.
  case dsoHandle
  /// `__cxa_atexit`: the per-module registry (handlers run at unload).
  case cxaAtExit
  /// `atexit`, `at_quick_exit`, `pthread_atfork`: thunks adding the module's `__dso_handle`.
  case thunk
}

/// The functions of glibc's libc_nonshared.a, which every executable links statically: the
/// linker writes each as a thunk that passes the module's `__dso_handle` on.
enum Thunk {
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

  /// The host function the thunk calls, when it is not the linker's own.
  var hostTarget: String? {
    switch self {
    case .atexit: nil
    case .atQuickExit: "__cxa_at_quick_exit"
    case .pthreadAtfork: "__register_atfork"
    }
  }
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

  /// An order for stable numbering: globals first, by id, then locals by object and index.
  var sortKey: (Int64, UInt32) {
    switch self {
    case .global(let id): (-1 - Int64(id), 0)
    case .local(let object, let index): (Int64(object), index)
    }
  }
}

extension LinkSession {
  /// Adds one object: COMDAT groups first, then its global symbols.
  mutating func add(_ object: ObjectFile) throws(LinkError) {
    let o = objects.count
    objects.append(object)
    var discarded = [Bool](repeating: false, count: object.sections.count)
    for group in object.groups where group.isComdat {
      if comdatSignatures.contains(group.signature) {
        for member in group.members { discarded[member] = true }
        discarded[group.index] = true
      } else {
        comdatSignatures.insert(group.signature)
      }
    }
    discardedSections.append(discarded)

    var ids = [Int32](repeating: -1, count: object.symbols.count)
    var errors: [LinkError] = []
    // An IFUNC's value is a resolver the linker calls: it must be code.
    for (i, symbol) in object.symbols.enumerated() where symbol.type == SymbolType.gnuIFunc {
      guard case .section(let s) = symbol.place, !discarded[s] else { continue }
      if !object.sections[s].isExecutable || !object.sections[s].isAllocated {
        errors.append(
          LinkError(
            .malformedInput,
            "\(object.name): IFUNC symbol '\(object.symbolName(i))' is defined in section \(s) '\(object.sections[s].name)', which is not executable"))
      }
    }
    for i in 1..<max(object.symbols.count, 1) {
      let symbol = object.symbols[i]
      if symbol.binding == SymbolBinding.local {
        if symbol.type == SymbolType.section || symbol.type == SymbolType.file { continue }
        continue
      }
      if symbol.type == SymbolType.tls {
        errors.append(
          LinkError(
            .unsupportedFeature,
            "\(object.name): thread-local symbol '\(object.symbolName(i))' is not supported"))
        continue
      }
      let (id, inserted) = globalIndex.insert(object.symbolNameBytes(i))
      if inserted { globals.append(GlobalSymbol(symbolName: globalIndex.names[id])) }
      ids[i] = Int32(id)
      var place = symbol.place
      if case .section(let s) = place, discarded[s] { place = .undefined }
      switch place {
      case .undefined:
        globals[id].referenced = true
        if !symbol.isWeak { globals[id].onlyWeakReferences = false }
      case .common:
        switch globals[id].kind {
        case .strong: break
        case .common:
          globals[id].commonSize = max(globals[id].commonSize, symbol.size)
          globals[id].commonAlignment = max(globals[id].commonAlignment, symbol.value)
        case .undefined, .weak:
          globals[id].kind = .common
          globals[id].object = Int32(o)
          globals[id].symbol = UInt32(i)
          globals[id].commonSize = max(globals[id].commonSize, symbol.size)
          globals[id].commonAlignment = max(globals[id].commonAlignment, symbol.value)
        }
      case .section(let s) where !object.sections[s].isAllocated:
        errors.append(
          LinkError(
            .malformedInput,
            "\(object.name): global symbol '\(globals[id].name)' is defined in section \(s) '\(object.sections[s].name)', which is not loaded (SHF_ALLOC is clear)"))
      case .absolute, .section:
        let weak = symbol.isWeak
        switch globals[id].kind {
        case .strong:
          if !weak {
            let other = objects[Int(globals[id].object)].name
            errors.append(
              LinkError(
                .duplicateDefinition,
                "duplicate definition of '\(globals[id].name)' in \(object.name) and \(other)"))
          }
        case .weak:
          if !weak { define(id, o, i, .strong) }
        case .common:
          if !weak { define(id, o, i, .strong) }
        case .undefined:
          define(id, o, i, weak ? .weak : .strong)
        }
      }
    }
    objectGlobalIDs.append(ids)
    try report(errors)
  }

  private mutating func define(_ id: Int, _ o: Int, _ i: Int, _ kind: GlobalSymbol.Kind) {
    let symbol = objects[o].symbols[i]
    globals[id].kind = kind
    globals[id].object = Int32(o)
    globals[id].symbol = UInt32(i)
    globals[id].isIFunc = symbol.type == SymbolType.gnuIFunc
    globals[id].isFunction = symbol.type == SymbolType.function || globals[id].isIFunc
    globals[id].size = symbol.size
  }

  /// Pulls archive members that define still-undefined strong symbols, until nothing changes.
  mutating func pullArchiveMembers(_ archives: [Archive]) throws(LinkError) {
    guard !archives.isEmpty else { return }
    var pulled = archives.map { [Bool](repeating: false, count: $0.members.count) }
    var changed = true
    var scanned = 0
    while changed {
      changed = false
      // Every global added since the last scan, then again from the start if anything changed
      // (a new member can make an earlier archive useful again).
      var id = 0
      while id < globals.count {
        defer { id += 1 }
        let g = globals[id]
        guard g.kind == .undefined, g.referenced, !g.onlyWeakReferences else { continue }
        for (a, archive) in archives.enumerated() {
          guard let m = archive.firstMember(defining: g.symbolName, where: { !pulled[a][$0] })
          else { continue }
          pulled[a][m] = true
          let object: ObjectFile
          do { object = try archive.object(at: m) } catch { throw LinkError(error) }
          try add(object)
          changed = true
          break
        }
      }
      scanned += 1
      if scanned > 1_000_000 { break }
    }
  }

  /// Looks up every undefined global in the providers; reports the ones nobody defines.
  mutating func resolveExternals() throws(LinkError) {
    var missing: [Int] = []
    for id in globals.indices where globals[id].kind == .undefined && globals[id].referenced {
      let name = globals[id].name
      if internalSymbols.contains(name) && defineInternally(id) { continue }
      var found = false
      for provider in options.providers {
        if let symbol = provider.lookup(name) {
          globals[id].external = symbol
          globals[id].providerName = provider.providerName
          globals[id].address = symbol.address
          globals[id].isFunction = symbol.isFunction
          globals[id].size = symbol.size ?? 0
          found = true
          break
        }
      }
      if !found && !globals[id].onlyWeakReferences && !options.allowUndefined {
        missing.append(id)
      } else if !found && checking && globals[id].name != options.entry {
        warnings.append("weak symbol '\(globals[id].name)' is not defined: it is 0")
      }
    }
    guard !missing.isEmpty else { return }
    self.missing = Set(missing)
    let sites = referenceSites(of: Set(missing))
    let errors = missing.map { id -> LinkError in
      let name = globals[id].name
      let where_ = sites[id] ?? []
      var text = "undefined symbol '\(name)'"
      if !where_.isEmpty {
        let shown = where_.prefix(3).joined(separator: ", ")
        text += " referenced from \(shown)"
        if where_.count > 3 { text += " and \(where_.count - 3) more" }
      }
      if let hint = options.suggest?(name) { text += "; \(hint)" }
      var error = LinkError(.undefinedSymbol, text)
      error.symbol = name
      return error
    }
    try report(errors)
  }

  /// Defines one of the linker's own names; false if it cannot (a thunk whose host function no
  /// provider has), so that the providers are asked.
  mutating func defineInternally(_ id: Int) -> Bool {
    switch globals[id].name {
    case "_GLOBAL_OFFSET_TABLE_":
      globals[id].linkerDefined = .gotBase
    case "__dso_handle":
      globals[id].linkerDefined = .dsoHandle
    case "__cxa_atexit":
      globals[id].linkerDefined = .cxaAtExit
      globals[id].address = AtExitRegistry.cxaAtExitAddress
      globals[id].external = ProvidedSymbol(address: globals[id].address, isFunction: true)
      globals[id].providerName = "linker"
      globals[id].isFunction = true
    default:
      let kind: Thunk =
        switch globals[id].name {
        case "atexit": .atexit
        case "at_quick_exit": .atQuickExit
        default: .pthreadAtfork
        }
      var target = AtExitRegistry.cxaAtExitAddress
      if let host = kind.hostTarget {
        guard let found = options.providers.lazy.compactMap({ $0.lookup(host) }).first else { return false }
        target = found.address
      }
      globals[id].linkerDefined = .thunk
      globals[id].isFunction = true
      thunks.append((id, kind, target))
    }
    return true
  }

  /// `object:function+0xoff (section+0xoff)` for each relocation naming one of `ids`.
  func referenceSites(of ids: Set<Int>) -> [Int: [String]] {
    var sites: [Int: [String]] = [:]
    for (o, object) in objects.enumerated() {
      let map = objectGlobalIDs[o]
      for rs in object.relocationSections where !discardedSections[o][rs.target] {
        for entry in rs.entries {
          let g = map.indices.contains(Int(entry.symbolIndex)) ? Int(map[Int(entry.symbolIndex)]) : -1
          guard g >= 0, ids.contains(g) else { continue }
          sites[g, default: []].append(site(o, rs.target, entry.offset))
        }
      }
    }
    return sites
  }

  /// A relocation site for messages: `object:function+0xoff (section+0xoff)`.
  func site(_ o: Int, _ section: Int, _ offset: UInt64) -> String {
    let object = objects[o]
    let place = "\(object.sections[section].name)+\(hex(offset))"
    if let function = object.location(section: section, offset: offset) {
      return "\(object.name):\(function) (\(place))"
    }
    return "\(object.name) (\(place))"
  }
}
