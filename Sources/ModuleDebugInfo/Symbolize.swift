public import ModuleLinker

extension ModuleDebugInfo {
  /// `function+0xoff (file.c:line)` for an address in `module`, the line when the object has
  /// DWARF for it. `returnAddress` says the address is where a call returns to: its line is the
  /// call's (address - 1), its offset stays the return address's.
  public func describe(_ address: UInt64, in module: LoadedModule, returnAddress: Bool = false)
    -> String?
  {
    guard let place = module.symbolize(address) else { return nil }
    let lineAddress = returnAddress && address > 0 ? address - 1 : address
    guard let line = sourceLine(of: lineAddress) else { return place }
    return "\(place) (\(line.file):\(line.line))"
  }
}
