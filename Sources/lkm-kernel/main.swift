// lkm-kernel: the kernel process lkmd starts, and starts again when it dies ("reboot"). Not
// meant to be run by hand: lkmd passes its descriptors and options.
//
// Descriptors: 0 /dev/null, 1 the console (lkmd's standard output), 2 lkmd's standard error,
// 3 the channel to the supervisor (a socket pair: KernelCall frames in, Reply frames out),
// 4 the memory file the supervisor shares (message buffer and status, see CMsgbuf).
import CSandbox
import Glibc
import LKMInterface
import LKMKernel
import ModuleLinker

/// Options from lkmd.
struct KernelProcessOptions {
  var kernel = Kernel.Options()
  var objectLimit = 64 << 20
  /// Keep /tmp/perf-PID.map (lkmd --perf-map).
  var perfMap = false
  /// The cache of linked images (lkmd --cache DIR); nil: the standard one.
  var cacheDirectory: String?
  /// lkmd --no-cache: link every time.
  var noCache = false
}

func fail(_ message: String) -> Never {
  let line = "lkm-kernel: \(message)\n"
  _ = unsafe line.withCString { unsafe write(2, $0, strlen($0)) }
  exit(2)
}

func parseOptions(_ arguments: [String]) -> KernelProcessOptions {
  var options = KernelProcessOptions()
  var i = 1
  func value() -> String {
    i += 1
    guard i < arguments.count else { fail("option \(arguments[i - 1]) needs a value") }
    return arguments[i]
  }
  while i < arguments.count {
    switch arguments[i] {
    case "--securelevel": options.kernel.securelevel = Int32(value()) ?? 0
    case "--hostname": options.kernel.hostname = value()
    case "--watchdog": options.kernel.watchdogSeconds = UInt32(value()) ?? 10
    case "--object-limit": options.objectLimit = Int(value()) ?? options.objectLimit
    case "--host-symbols": options.kernel.hostSymbols = true
    case "--perf-map": options.perfMap = true
    case "--cache": options.cacheDirectory = value()
    case "--no-cache": options.noCache = true
    default: fail("unknown argument '\(arguments[i])'")
    }
    i += 1
  }
  return options
}

/// Reads frames from a blocking descriptor.
struct FrameReader {
  let fd: Int32
  var decoder: FrameDecoder
  var chunk = [UInt8](repeating: 0, count: 1 << 20)

  /// The next frame, or nil at end of file (the supervisor is gone).
  mutating func next() -> [UInt8]? {
    while true {
      do {
        if let frame = try decoder.next() { return frame }
      } catch {
        fail("a frame of \(error.length) bytes from the supervisor is over the limit")
      }
      let n = unsafe chunk.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return nil }
      unsafe chunk.withUnsafeBytes {
        unsafe decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n]))
      }
    }
  }
}

/// Writes frames to the channel, one at a time (kernel threads answer in any order).
@safe final class Channel: @unchecked Sendable {
  let fd: Int32
  private var lock = unsafe pthread_mutex_t()
  init(fd: Int32) {
    self.fd = fd
    unsafe pthread_mutex_init(&lock, nil)
  }

  func send(_ answer: KernelAnswer) {
    let frame = Frame.encode(answer.encoded())
    unsafe pthread_mutex_lock(&lock)
    defer { unsafe pthread_mutex_unlock(&lock) }
    var done = 0
    while done < frame.count {
      let n = unsafe frame.withUnsafeBytes {
        unsafe write(fd, $0.baseAddress! + done, frame.count - done)
      }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { exit(0) }  // the supervisor is gone: nothing left to serve
      done += n
    }
  }
}

/// The kernel threads: each request runs in one, with the big kernel lock (``Kernel/serve``);
/// threads are made as requests need them (a request may sleep for as long as it likes) and
/// kept for the next.
@safe final class KernelThreads: @unchecked Sendable {
  struct Job {
    var id: UInt64
    var credentials: Credentials
    var payload: [UInt8]
  }

  let kernel: Kernel
  let channel: Channel
  let objectLimit: Int
  private var lock = unsafe pthread_mutex_t()
  private var ready = pthread_cond_t()
  private var jobs: [Job] = []
  private var idle = 0
  /// Requests running, by id: the kernel's token for cancelling them (0 until it starts).
  private var running: [UInt64: UInt64] = [:]
  private var cancelled: Set<UInt64> = []

  init(kernel: Kernel, channel: Channel, objectLimit: Int) {
    self.kernel = kernel
    self.channel = channel
    self.objectLimit = objectLimit
    unsafe pthread_mutex_init(&lock, nil)
    unsafe pthread_cond_init(&ready, nil)
  }

  func submit(_ job: Job) {
    unsafe pthread_mutex_lock(&lock)
    jobs.append(job)
    running[job.id] = 0
    // A thread signalled but not yet awake still counts as idle: a job waits for one only
    // while fewer jobs wait than threads do (two requests close together, the first of which
    // sleeps, had the second wait for it).
    let start = jobs.count > idle
    if !start { unsafe pthread_cond_signal(&ready) }
    unsafe pthread_mutex_unlock(&lock)
    if start { spawn() }
  }

  func cancel(_ id: UInt64) {
    unsafe pthread_mutex_lock(&lock)
    defer { unsafe pthread_mutex_unlock(&lock) }
    guard let token = running[id] else { return }
    if token == 0 { cancelled.insert(id) } else { Kernel.cancel(token) }
  }

  private func spawn() {
    let context = unsafe Unmanaged.passRetained(self).toOpaque()
    var thread = pthread_t()
    let rc = unsafe pthread_create(
      &thread, nil,
      { context in
        let threads = unsafe Unmanaged<KernelThreads>.fromOpaque(context!).takeRetainedValue()
        threads.work()
        return nil
      }, unsafe context)
    if rc != 0 { fail(unsafe "cannot start a kernel thread: \(String(cString: strerror(rc)))") }
    pthread_detach(thread)
  }

  private func next() -> Job {
    unsafe pthread_mutex_lock(&lock)
    defer { unsafe pthread_mutex_unlock(&lock) }
    while jobs.isEmpty {
      idle += 1
      unsafe pthread_cond_wait(&ready, &lock)
      idle -= 1
    }
    return jobs.removeFirst()
  }

  private func started(_ id: UInt64, _ token: UInt64) {
    unsafe pthread_mutex_lock(&lock)
    running[id] = token
    let wasCancelled = cancelled.remove(id) != nil
    unsafe pthread_mutex_unlock(&lock)
    if wasCancelled { Kernel.cancel(token) }
  }

  private func finished(_ id: UInt64) {
    unsafe pthread_mutex_lock(&lock)
    running[id] = nil
    cancelled.remove(id)
    unsafe pthread_mutex_unlock(&lock)
  }

  private func work() {
    kernelThreadInit()
    while true {
      let job = next()
      let reply: Reply
      do {
        let request = try Request.decode(job.payload, objectLimit: objectLimit)
        reply = kernel.serve(request, credentials: job.credentials) { token in
          self.started(job.id, token)
        }
      } catch {
        reply = .failure(KernelErrno(error.errno), [error.description])
      }
      finished(job.id)
      channel.send(KernelAnswer(id: job.id, reply: reply.encoded()))
    }
  }
}

/// The kernel process's filters, installed once the kernel is up (its libraries loaded, the
/// module regions reserved) and before any module runs: the kernel filter (no exec, fork,
/// signals to others, sockets, mounts, …) and the instruction-pointer filter (no system call
/// from module memory at all).
func confine(regions: [Range<UInt64>]) {
  guard let filter = unsafe lkmsb_kernel_filter_new() else {
    fail(unsafe "cannot build the kernel's seccomp filter: \(String(cString: strerror(errno)))")
  }
  var rc = unsafe lkmsb_filter_all_threads(filter)
  guard rc == 0 else {
    fail(unsafe "cannot install the kernel's seccomp filter: \(String(cString: strerror(-rc)))")
  }
  // Calls naming a process by pid (prlimit64, sched_setaffinity, …) name only this one: the
  // kernel filter covers the signals; this covers the rest (EPERM through the trap handler).
  // Before the instruction-pointer filter, which must be the last installed: on equal actions
  // the most recent filter's data wins, and module code's calls must carry its data.
  rc = lkmsb_confine_to_self(1, 1)
  guard rc == 0 else {
    fail(unsafe "cannot install the pid filter: \(String(cString: strerror(-rc)))")
  }
  let starts = regions.map(\.lowerBound)
  let ends = regions.map(\.upperBound)
  rc = unsafe starts.withUnsafeBufferPointer { s in
    unsafe ends.withUnsafeBufferPointer { e in
      unsafe lkmsb_ip_filter_install(s.baseAddress!, e.baseAddress!, Int32(regions.count))
    }
  }
  guard rc == 0 else {
    fail(unsafe "cannot install the module-memory filter: \(String(cString: strerror(-rc)))")
  }
}

let channel: Int32 = 3
let sharedFD: Int32 = 4
let options = parseOptions(CommandLine.arguments)
// Die with the supervisor.
_ = lkmsb_die_with_parent()
if getppid() == 1 { exit(0) }

let sharedSize = Kernel.sharedAreaSize
guard let area = unsafe mmap(nil, sharedSize, PROT_READ | PROT_WRITE, MAP_SHARED, sharedFD, 0),
  unsafe area != MAP_FAILED
else { fail(unsafe "cannot map the shared message buffer: \(String(cString: strerror(errno)))") }
unsafe Kernel.attachShared(area)

var kernelOptions = options.kernel
kernelOptions.callouts = true
// The cache of linked images, as lkmrun's: --cache DIR, else $XDG_CACHE_HOME/lkm (or
// ~/.cache/lkm) unless --no-cache or LKM_NO_CACHE. Made before the filters; a directory that
// cannot be used means linking every time, said on lkmd's standard error. With --perf-map,
// cached images are read into anonymous memory, where perf looks them up in the map.
if !options.noCache && !ImageCache.disabledByEnvironment {
  if let directory = options.cacheDirectory {
    do {
      kernelOptions.cache = try ImageCache(directory: directory, anonymousImages: options.perfMap)
    } catch {
      let line = "lkm-kernel: the cache of linked images is off: \(error.message)\n"
      _ = unsafe line.withCString { unsafe write(2, $0, strlen($0)) }
    }
  } else {
    kernelOptions.cache = ImageCache.standard(anonymousImages: options.perfMap)
  }
}
do {
  kernelOptions.regions = try Kernel.reserveRegions(hostSymbols: kernelOptions.hostSymbols)
} catch {
  fail("cannot reserve the module regions: \(error.message)")
}
let kernel: Kernel
do { kernel = try Kernel(options: kernelOptions) } catch {
  fail("cannot start the kernel: \(error.text)")
}
if options.perfMap { kernel.enablePerfMap() }
confine(regions: kernelOptions.regions.map(\.range))

/// Prepares a kernel thread for guarded calls (its signal stack, its watchdog timer).
func kernelThreadInit() { Kernel.threadInit() }

let output = Channel(fd: channel)
let threads = KernelThreads(kernel: kernel, channel: output, objectLimit: options.objectLimit)
output.send(KernelAnswer(id: 0, reply: Reply(.text("ready")).encoded()))
var reader = FrameReader(fd: channel, decoder: FrameDecoder(limit: options.objectLimit + (2 << 20)))
while let frame = reader.next() {
  let call: KernelCall
  do { call = try KernelCall.decode(frame) } catch {
    fail("malformed call from the supervisor: \(error)")
  }
  switch call {
  case .shutdown:
    Kernel.lockForShutdown()
    kernel.shutdown()
    output.send(KernelAnswer(id: 0, reply: Reply().encoded()))
    exit(0)
  case .request(let id, let credentials, let payload):
    threads.submit(.init(id: id, credentials: credentials, payload: payload))
  case .cancel(let id):
    threads.cancel(id)
  case .ping(let id):
    output.send(KernelAnswer(id: id, reply: Reply(.text("pong")).encoded()))
  }
}
exit(0)
