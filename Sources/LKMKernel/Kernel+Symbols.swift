import LKMBase
public import LKMInterface
import ModuleLinker

/// The kernel's symbol table as a link sees it: the kernel's exports, then the globals of the
/// modules loaded without -s, in load order.
final class KernelSymbolProvider: SymbolProvider, @unchecked Sendable {
  let providerName = "kernel"
  unowned let kernel: Kernel
  /// The modules whose symbols the link used: its dependencies.
  var used: Set<Int32> = []
  init(kernel: Kernel) { self.kernel = kernel }

  func lookup(_ name: String) -> ProvidedSymbol? {
    if let e = kernel.kernelExports[name] {
      return ProvidedSymbol(address: e.address, isFunction: e.isFunction)
    }
    if let (module, address) = kernel.exporter(of: name) {
      used.insert(module.id)
      return ProvidedSymbol(address: address, isFunction: module.linked.isFunction(address))
    }
    return nil
  }
}

/// The host functions a module gets the kernel's version of when it may call the host C
/// library (`--host-symbols`): `pthread_create`, so that the kernel knows the module's threads.
final class InterposedSymbols: SymbolProvider, @unchecked Sendable {
  let providerName = "kernel"
  let table = Bridge.hostInterpositions
  func lookup(_ name: String) -> ProvidedSymbol? {
    table[name].map { ProvidedSymbol(address: $0, isFunction: true) }
  }
}

extension Kernel {
  /// The kernel symbol table: the kernel's exports, then each exporting module's globals.
  public func symbols() -> [KernelSymbol] {
    var list = kernelExports.map {
      KernelSymbol(
        address: $0.value.address, type: $0.value.isFunction ? "T" : "D", name: $0.key, module: nil)
    }
    for id in loadOrder {
      guard let module = modules[id], module.exported else { continue }
      for (name, address) in module.linked.exports where name != module.entryName {
        list.append(
          KernelSymbol(
            address: address, type: module.linked.isFunction(address) ? "T" : "D", name: name,
            module: module.name))
      }
    }
    return list.sorted { ($0.address, $0.name) < ($1.address, $1.name) }
  }

  /// The module exporting `name` (not one loaded with -s), and the address.
  func exporter(of name: String) -> (KernelModule, UInt64)? {
    for id in loadOrder {
      guard let module = modules[id], module.exported, name != module.entryName,
        let address = module.linked.exports[name]
      else { continue }
      return (module, address)
    }
    return nil
  }

  /// The name in the module's `MOD_*` declaration (`_module`'s `lkm_name`), read from its image.
  static func declaredName(_ linked: LoadedModule) -> String? {
    guard let declaration = linked.objectAddress(named: "_module"),
      linked.contains(declaration), linked.contains(declaration + 15)
    else { return nil }
    let pointer = linked.load(UInt64.self, at: declaration + 8)
    var bytes: [UInt8] = []
    var address = pointer
    while linked.contains(address), bytes.count < 32 {
      let b = linked.load(UInt8.self, at: address)
      if b == 0 { return String(decoding: bytes, as: UTF8.self) }
      bytes.append(b)
      address += 1
    }
    return nil
  }

  /// "did you mean 'X'?" for an undefined symbol, or who defines it without exporting it.
  public func suggestion(for name: String) -> String? {
    for id in loadOrder {
      guard let module = modules[id], !module.exported, module.linked.exports[name] != nil else {
        continue
      }
      return "module '\(module.name)' (id \(id)) defines it, but was loaded with -s"
    }
    var candidates = Array(kernelExports.keys)
    for id in loadOrder {
      if let module = modules[id], module.exported { candidates += module.linked.exports.keys }
    }
    return SymbolSuggestion.nearest(to: name, in: candidates).map { "did you mean '\($0)'?" }
  }

  /// `module 'NAME' (id N): function+0xoff` or `kernel: function+0xoff` for an address, for
  /// `lkmctl addr`.
  public func symbolize(_ address: UInt64) -> String? {
    for id in loadOrder {
      guard let module = modules[id], module.linked.contains(address) else { continue }
      let place =
        describeModuleAddress(address, id: id, linked: module.linked)
        ?? "\(hex(address - module.linked.baseAddress)) bytes into its image"
      return "module '\(module.name)' (id \(id)): \(place)"
    }
    var best: (String, UInt64)?
    for (name, e) in kernelExports where e.address <= address {
      if best == nil || e.address > best!.1 { best = (name, e.address) }
    }
    if let best, address - best.1 < 1 << 16 {
      let delta = address - best.1
      return "kernel: \(best.0)\(delta == 0 ? "" : "+" + hex(delta))"
    }
    return nil
  }
}
