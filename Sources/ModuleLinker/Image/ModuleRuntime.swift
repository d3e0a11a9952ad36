// The C functions the linker itself provides to modules: a per-module __cxa_atexit, so that
// destructors a module registers run when that module is unloaded, not at process exit after
// its text is gone.
internal import Glibc

/// Registered `__cxa_atexit` handlers, by the `__dso_handle` they were registered with.
enum AtExitRegistry {
  struct Handler {
    var function: UInt64
    var argument: UInt64
  }
  nonisolated(unsafe) private static var lock = unsafe pthread_mutex_t()
  nonisolated(unsafe) private static var handlers: [UInt64: [Handler]] = [:]
  nonisolated(unsafe) private static var modules: Set<UInt64> = []
  private static let initialised: Bool = {
    unsafe pthread_mutex_init(&lock, nil)
    return true
  }()

  typealias HostCxaAtExit = @convention(c) (UInt, UInt, UInt) -> Int32
  private static let hostCxaAtExit: HostCxaAtExit? =
    unsafe HostSymbolProvider.processSymbol("__cxa_atexit").map {
      unsafe unsafeBitCast($0, to: HostCxaAtExit.self)
    }

  /// The module-facing `__cxa_atexit(fn, arg, dso)`.
  static let cxaAtExit: @convention(c) (UInt, UInt, UInt) -> Int32 = { function, argument, dso in
    AtExitRegistry.add(function: UInt64(function), argument: UInt64(argument), dso: UInt64(dso))
  }

  static var cxaAtExitAddress: UInt64 {
    unsafe UInt64(UInt(bitPattern: unsafeBitCast(cxaAtExit, to: Int.self)))
  }

  static func add(function: UInt64, argument: UInt64, dso: UInt64) -> Int32 {
    _ = initialised
    unsafe pthread_mutex_lock(&lock)
    guard unsafe modules.contains(dso) else {
      unsafe pthread_mutex_unlock(&lock)
      // Not a module of ours: the host's own registry.
      return hostCxaAtExit?(UInt(function), UInt(argument), UInt(dso)) ?? -1
    }
    unsafe handlers[dso, default: []].append(Handler(function: function, argument: argument))
    unsafe pthread_mutex_unlock(&lock)
    return 0
  }

  static func open(dso: UInt64) {
    _ = initialised
    unsafe pthread_mutex_lock(&lock)
    unsafe modules.insert(dso)
    unsafe pthread_mutex_unlock(&lock)
  }

  /// Runs the handlers registered for `dso`, last first, and forgets the module.
  static func finalize(dso: UInt64) {
    _ = initialised
    while true {
      unsafe pthread_mutex_lock(&lock)
      guard let handler = unsafe handlers[dso]?.popLast() else {
        unsafe handlers[dso] = nil
        unsafe modules.remove(dso)
        unsafe pthread_mutex_unlock(&lock)
        return
      }
      unsafe pthread_mutex_unlock(&lock)
      ModuleCall.withArgument(handler.function, handler.argument)
    }
  }
}
