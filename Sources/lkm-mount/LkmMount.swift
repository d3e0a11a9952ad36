import ArgumentParser
import CHostMount
import Glibc
import LKMDevice
import LKMHostMount
import LKMInterface

// The FUSE server of a host mount: a userland process of the lkm kernel. Its FUSE file system
// (CHostMount, libfuse 3) turns each host operation into the kernel's system calls; this file
// is the transport (process sessions with lkmd, one per FUSE thread at a time, all of one
// kernel process, so that their descriptors are shared) and the watch that ends the mount when
// what it shows goes away.

@main
struct LkmMount: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lkm-mount",
    abstract: "Serve a directory of the lkm kernel on a host directory through FUSE.",
    discussion: """
      Started by lkmctl's mount with a host directory and by lkmd's export of /dev; runs until \
      the kernel path is unmounted in the kernel, lkmd goes away, or SIGTERM, then unmounts the \
      host directory. Records itself in host-mounts/PID next to the device while it serves.
      """)

  @Option(help: "The device socket (default: $LKM_DEVICE, else /tmp/lkm-UID/lkm).")
  var device: String?

  @Option(help: "The file system type that must be mounted on KERNEL_PATH in the kernel.")
  var type: String?

  @Flag(help: "Export the kernel's /dev: devices as files read and written by their drivers.")
  var dev = false

  @Option(
    help:
      "A descriptor to write 'ready' to once the mount is in place (then standard error goes to /dev/null)."
  )
  var readyFd: Int32?

  @Flag(help: "libfuse's debug output on standard error.")
  var debug = false

  @Argument(help: "The kernel's directory (a mount point in the kernel, or /dev).")
  var kernelPath: String

  @Argument(help: "The host directory to mount on.")
  var hostDirectory: String

  func validate() throws {
    guard kernelPath.hasPrefix("/") else { throw ValidationError("KERNEL_PATH must be absolute") }
    guard dev || type != nil else { throw ValidationError("give --type or --dev") }
  }

  func run() throws {
    // Only 0-2 and the ready descriptor are ours: a daemon must not hold what its starter's
    // parent left inheritable (a test harness waits for such a socket to close).
    lkmhm_close_from(readyFd.map { max(3, $0 + 1) } ?? 3)
    // Out of the caller's session: a ^C at lkmctl's terminal does not end the mount.
    if readyFd != nil { _ = setsid() }
    let devicePath = DeviceClient.defaultPath(device)
    let host = try absolute(hostDirectory)
    let server = Server(device: devicePath)
    let fileSystem = dev ? "dev" : type!
    // Before mounting: the kernel path must be what the mount shows.
    if !dev {
      let mounted = try server.check(kernelPath: kernelPath, type: fileSystem)
      guard mounted else {
        throw ValidationError(
          "\(kernelPath): no \(fileSystem) file system is mounted there in the kernel")
      }
    }
    unsafe Server.current = server
    server.record = HostMountRecord(
      pid: getpid(), hostDirectory: host, kernelPath: kernelPath, fileSystem: fileSystem)
    server.readyFD = readyFd ?? -1
    server.watchKernelPath = dev ? nil : (kernelPath, fileSystem)
    let fsname = "lkm:\(fileSystem):\(kernelPath)"
    var error = [CChar](repeating: 0, count: 512)
    let rc = unsafe host.withCString { mountpoint in
      unsafe kernelPath.withCString { kp in
        unsafe fsname.withCString { name in
          var config = unsafe lkmhm_config(
            mountpoint: mountpoint, kernel_path: kp, fsname: name, devices: dev ? 1 : 0,
            debug: debug ? 1 : 0, max_threads: 16, syscall: transport, ready: ready, context: nil)
          return unsafe lkmhm_serve(&config, &error, error.count)
        }
      }
    }
    server.stopWatching()
    if var record = server.record, !record.file.isEmpty {
      record.file = server.recordFile
      HostMounts.remove(record)
    }
    if rc != 0 {
      let message = String(
        decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      throw ValidationError("\(host): \(message)")
    }
  }

  func absolute(_ path: String) throws -> String {
    guard let resolved = unsafe realpath(path, nil) else {
      throw ValidationError(unsafe "\(path): \(String(cString: strerror(errno)))")
    }
    defer { unsafe free(resolved) }
    var status = stat()
    let text = unsafe String(cString: resolved)
    guard unsafe stat(text, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
      throw ValidationError("\(path): not a directory")
    }
    return text
  }
}

/// The system call transport CHostMount calls from FUSE's threads.
private let transport: lkmhm_syscall_fn = { _, number, args, count, kernelErrno in
  unsafe Server.current!.syscall(number, args, Int(count), kernelErrno)
}

/// The mount is in place: record it, say so, and start watching.
private let ready: lkmhm_ready_fn = { _ in
  unsafe Server.current!.ready()
}

/// The sessions and the watch of one host mount.
@safe final class Server: @unchecked Sendable {
  nonisolated(unsafe) static var current: Server?

  let device: String
  var record: HostMountRecord?
  var recordFile = ""
  var readyFD: Int32 = -1
  var watchKernelPath: (path: String, type: String)?
  private var idle: [DeviceClient] = []
  private var lock = unsafe pthread_mutex_t()
  private var watching = true

  init(device: String) {
    self.device = device
    unsafe pthread_mutex_init(&lock, nil)
  }

  /// A session with lkmd: an idle one, or a new one.
  func client() throws(DeviceError) -> DeviceClient {
    unsafe pthread_mutex_lock(&lock)
    let reused = idle.popLast()
    unsafe pthread_mutex_unlock(&lock)
    if let reused { return reused }
    return try DeviceClient(path: device, write: true, exclusive: false)
  }

  func done(_ client: DeviceClient) {
    unsafe pthread_mutex_lock(&lock)
    idle.append(client)
    unsafe pthread_mutex_unlock(&lock)
  }

  /// One system call. A session lkmd closed (an idle one it dropped after 10 s) is replaced,
  /// and the other idle ones, as old, go with it; a failure of a new session means lkmd is
  /// gone.
  func perform(_ number: Int32, _ arguments: [SyscallArgument]) -> Result<
    SyscallResult, SyscallError
  > {
    for attempt in 0..<2 {
      let session: DeviceClient
      do { session = try client() } catch { return .failure(.device(error)) }
      do {
        let result = try session.syscall(number, arguments)
        done(session)
        return .success(result)
      } catch {
        if case .device = error {
          session.close()
          if attempt == 0 {
            dropIdle()
            continue
          }
        } else {
          done(session)
        }
        return .failure(error)
      }
    }
    return .failure(.device(DeviceError(call: "connect", errno: ECONNRESET)))
  }

  /// Closes every idle session (the next calls connect anew).
  func dropIdle() {
    unsafe pthread_mutex_lock(&lock)
    let stale = idle
    idle.removeAll()
    unsafe pthread_mutex_unlock(&lock)
    for session in stale { session.close() }
  }

  func syscall(
    _ number: Int32, _ args: UnsafeMutablePointer<lkmhm_arg>, _ count: Int,
    _ kernelErrno: UnsafeMutablePointer<Int32>
  ) -> Int64 {
    var arguments: [SyscallArgument] = []
    arguments.reserveCapacity(count)
    for i in 0..<count {
      let a = unsafe args[i]
      switch unsafe a.kind {
      case LKMHM_INTEGER: unsafe arguments.append(.integer(a.integer))
      case LKMHM_STRING:
        unsafe arguments.append(.string(a.string.map { unsafe String(cString: $0) } ?? ""))
      case LKMHM_BYTES: unsafe arguments.append(.bytes(bytes(a)))
      case LKMHM_BUFFER: unsafe arguments.append(.buffer(a.length))
      default: unsafe arguments.append(.both(bytes(a)))
      }
    }
    switch perform(number, arguments) {
    case .success(let result):
      // The returned buffers, in the order of the arguments that return them.
      var next = 0
      for i in 0..<count where unsafe args[i].kind == LKMHM_BUFFER || args[i].kind == LKMHM_BOTH {
        guard next < result.buffers.count, let data = unsafe args[i].data else { break }
        let returned = result.buffers[next]
        let n = unsafe min(returned.count, args[i].length)
        unsafe returned.withUnsafeBytes {
          unsafe data.copyMemory(from: $0.baseAddress!, byteCount: n)
        }
        unsafe args[i].returned = n
        next += 1
      }
      return result.retval
    case .failure(.kernel(let e, _, _)):
      unsafe kernelErrno.pointee = e.rawValue
      return -1
    case .failure(.device):
      unsafe kernelErrno.pointee = -1
      return -1
    }
  }

  private func bytes(_ a: lkmhm_arg) -> [UInt8] {
    guard let data = unsafe a.data, unsafe a.length > 0 else { return [] }
    return unsafe Array(UnsafeRawBufferPointer(start: data, count: a.length))
  }

  /// Whether a file system of `type` is mounted on `kernelPath` in the kernel.
  func check(kernelPath: String, type: String) throws -> Bool {
    let session: DeviceClient
    do { session = try client() } catch {
      throw ValidationError("\(device): \(error.openBSDText); is lkmd running?")
    }
    defer { done(session) }
    do {
      return try session.mountedFileSystems().contains { $0.on == kernelPath && $0.type == type }
    } catch {
      if case .device(let e) = error {
        throw ValidationError("\(device): \(e.openBSDText); is lkmd running?")
      }
      throw ValidationError("\(kernelPath): \(error)")
    }
  }

  func ready() {
    if var record {
      do {
        try HostMounts.save(&record, device: device)
        recordFile = record.file
        self.record = record
      } catch {
        warn("\(error)")
      }
    }
    if readyFD >= 0 {
      let text = "ready\n"
      _ = unsafe text.withCString { unsafe write(readyFD, $0, strlen($0)) }
      close(readyFD)
      // Standard error was the caller's pipe too: let it see the end.
      let null = unsafe open("/dev/null", O_WRONLY)
      if null >= 0 {
        dup2(null, 2)
        close(null)
      }
    }
    startWatching()
  }

  func warn(_ text: String) {
    let line = "lkm-mount: \(text)\n"
    _ = unsafe line.withCString { unsafe write(2, $0, strlen($0)) }
  }

  // MARK: The watch

  /// Every 250 ms: a mount ends when its kernel path is no longer mounted there (unmounted in
  /// the kernel, or the kernel rebooted); every mount ends when lkmd is gone. The watch's
  /// requests keep the kernel process (and its descriptors) alive while the mount is idle.
  func startWatching() {
    let box = unsafe Unmanaged.passRetained(self).toOpaque()
    var thread = pthread_t()
    unsafe pthread_create(
      &thread, nil,
      { argument in
        let server = unsafe Unmanaged<Server>.fromOpaque(argument!).takeRetainedValue()
        // Signals go to the serving thread: libfuse's handler ends its loop there.
        var all = sigset_t()
        unsafe sigfillset(&all)
        unsafe pthread_sigmask(SIG_BLOCK, &all, nil)
        server.watch()
        return nil
      }, unsafe box)
    pthread_detach(thread)
  }

  func stopWatching() {
    unsafe pthread_mutex_lock(&lock)
    watching = false
    unsafe pthread_mutex_unlock(&lock)
  }

  private var isWatching: Bool {
    unsafe pthread_mutex_lock(&lock)
    defer { unsafe pthread_mutex_unlock(&lock) }
    return watching
  }

  private func watch() {
    var session: DeviceClient?
    while isWatching {
      usleep(250_000)
      if session == nil { session = try? DeviceClient(path: device, write: true, exclusive: false) }
      guard let current = session else {
        lkmhm_stop()  // lkmd is gone
        return
      }
      do {
        if let (path, type) = watchKernelPath {
          let mounts = try current.mountedFileSystems()
          if !mounts.contains(where: { $0.on == path && $0.type == type }) {
            lkmhm_stop()  // unmounted in the kernel, or the kernel rebooted
            return
          }
        } else {
          _ = try current.getpid()
        }
      } catch {
        if case .device = error {
          current.close()
          session = nil  // dropped or gone: the next round tells
        }
      }
    }
  }
}
