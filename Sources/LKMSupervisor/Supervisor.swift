import LKMBase
// lkmd's supervisor: the process started as lkmd, for its whole life. It owns the device
// socket, the sessions and their credentials, the policy (securelevel, read-only sessions),
// the message buffer, the boot file and the crash reports; it never maps module code. The
// kernel process (lkm-kernel) is its child: it forwards requests there one at a time over a
// private socket pair and, when the kernel dies or stops answering, records a crash report,
// fails the request in flight with a clear error and starts a fresh kernel ("reboot").
//
// One thread, poll(2), non-blocking sockets everywhere: no client can make the loop wait.
import LKMDevice
import LKMHostMount
public import LKMInterface
import LKMSandbox

public final class Supervisor {
  /// Limits on what clients may make the supervisor hold or wait for.
  public struct Limits: Sendable {
    /// The largest module (all inputs of one load) accepted, in bytes.
    public var objectBytes = 64 << 20
    /// Connections at once; past it the oldest connection that has not said hello is closed.
    public var connections = 128
    /// Bytes a session that does not hold the device may have buffered (a hello is tiny).
    public var waitingBufferBytes = 64 << 10
    /// Bytes of replies a client may leave unread before its requests stop being handled.
    public var unreadReplyBytes = 4 << 20
    /// Seconds to finish a request once its first byte arrived; to say hello after connecting.
    public var requestSeconds = 10.0
    /// Seconds a session holding the device may stay without a request.
    public var idleSeconds = 10.0
    /// While other sessions wait for the device, the longest the session holding it may go
    /// without a request, without a byte of the request it began, or without reading what it
    /// is owed.
    public var contendedSeconds = 1.0
    /// Seconds a client may take to read a reply.
    public var replySeconds = 5.0
    /// After one of its sessions was ended for holding the device without using it, how long
    /// a process's sessions wait behind everyone else's.
    public var suspectSeconds = 10.0
    /// Seconds the kernel process may hold its big lock without letting go, or leave a ping
    /// unanswered, before it is killed and rebooted (module code has the kernel's watchdog:
    /// this is for the kernel itself; a request asleep in the kernel holds no lock).
    public var hangSeconds = 30.0
    public init() {}
  }

  public struct Configuration: Sendable {
    public var device: String
    public var kernel = KernelConfiguration()
    public var limits = Limits()
    /// Run every load in the sandbox first (lkmd --trial-load).
    public var trialLoad = false
    /// The boot file (lkmd --boot): modload lines run at every boot of the kernel.
    public var bootFile: String?
    /// Where crash reports are written; default: `crashes` next to the device.
    public var crashDirectory: String?
    /// A host directory the kernel's /dev is exported on through FUSE (lkmd --host-dev).
    public var hostDevices: String?
    public init(device: String) { self.device = device }
  }

  /// What the kernel process is doing for whom.
  enum Job {
    case client(Session, securelevel: Int32?)
    case boot(BootLoad)
    /// The kernel is told a process has no session left (its descriptors close).
    case exit
    case shutdown
  }

  struct InFlight {
    var job: Job
    var summary: String
    var started: UInt64
  }

  public let configuration: Configuration
  let limits: Limits
  let listener: Int32
  let shared: SharedArea
  let crashes: CrashLog
  let trials: TrialLoads?
  let bootLoads: [BootLoad]
  var kernel: KernelProcess?
  /// What the kernel process is doing, by request id: requests run in kernel threads, as many
  /// at once as sessions send them (one per session at a time).
  var inFlight: [UInt64: InFlight] = [:]
  /// How many sessions each client process has (the kernel keeps a process while it has one).
  var sessionsOf: [Int32: Int] = [:]
  var nextRequestID: UInt64 = 1
  /// A boot load is with the kernel (they run one after the other, before any client's).
  var booting = false
  /// When the kernel last answered anything; when a ping went out unanswered.
  var lastAnswer: UInt64 = 0
  var pingSent: UInt64?
  /// When the kernel was last seen held by a debugger (while requests waited).
  var lastTraced: UInt64?
  /// Boot loads still to send to the current kernel.
  var bootQueue: [BootLoad] = []
  /// Boot lines skipped because they took the kernel down at the boot before.
  var skippedBoot: Set<Int> = []
  /// The trial in progress: its session and request payload.
  var trial: (token: Int, session: Session, payload: [UInt8])?
  var trialToken = 0
  var sessions: [Session] = []
  /// The session holding the device, and those waiting for it, in order.
  var active: Session?
  var queue: [Session] = []
  /// Processes a session of which was dropped for holding the device without using it, and
  /// until when their sessions wait behind everyone else's.
  var suspects: [Int32: UInt64] = [:]
  /// securelevel as the policy knows it (a module cannot lower it by writing the kernel's).
  var securelevel: Int32
  let ownUID = system_getuid()
  /// Reboots so far, and when the kernel last came up.
  public private(set) var reboots = 0
  var nextRestartAttempt: UInt64 = 0
  nonisolated(unsafe) static var stopRequested: Int32 = 0

  /// Makes the device, the message buffer and the first kernel.
  ///
  /// - Throws: ``SupervisorError`` when the device path is unusable, the boot file malformed or
  ///   the kernel process does not start.
  public init(configuration: Configuration) throws(SupervisorError) {
    self.configuration = configuration
    limits = configuration.limits
    securelevel = configuration.kernel.securelevel
    var loads: [BootLoad] = []
    if let bootFile = configuration.bootFile {
      let text: String
      do {
        text = String(decoding: try system_readFile(bootFile, limit: 1 << 20), as: UTF8.self)
      } catch {
        throw SupervisorError("--boot \(bootFile)", errno: error.rawValue)
      }
      loads = try BootFile.parse(text, path: bootFile)
    }
    bootLoads = loads
    shared = try SharedArea()
    listener = try DeviceSocket.listen(at: configuration.device)
    // The device is ours now: host mounts recorded next to it are a killed lkmd's.
    for stale in HostMounts.endAll(device: configuration.device, wait: 2) {
      shared.log(
        "lkmd: stale host mount of \(stale.kernelPath) on \(stale.hostDirectory) removed\n")
    }
    let directory = configuration.device.split(separator: "/", omittingEmptySubsequences: false)
      .dropLast().joined(separator: "/")
    crashes = CrashLog(
      directory: configuration.crashDirectory
        ?? (directory.isEmpty ? "crashes" : directory + "/crashes"))
    if configuration.trialLoad {
      trials = try TrialLoads(
        hostSymbols: configuration.kernel.hostSymbols,
        timeout: Double(
          configuration.kernel.watchdogSeconds == 0 ? 10 : configuration.kernel.watchdogSeconds))
    } else {
      trials = nil
    }
    do {
      try boot()
    } catch {
      system_close(listener)
      try? system_unlink(configuration.device)
      throw error
    }
  }

  deinit {
    system_close(listener)
    try? system_unlink(configuration.device)
  }

  /// Exports the kernel's /dev on the host directory `directory` through FUSE (lkm-mount
  /// --dev, a process of the kernel like any client): reads and writes of DIRECTORY/NAME go to
  /// the driver of the node. It stays through kernel reboots, until lkmd stops.
  ///
  /// - Throws: ``SupervisorError`` with what lkm-mount said when the mount cannot be made.
  public func exportDevices(on directory: String) throws(SupervisorError) {
    do {
      try HostMounts.start(
        device: configuration.device, hostDirectory: directory, kernelPath: "/dev",
        fileSystem: "dev")
    } catch {
      throw SupervisorError("--host-dev \(directory): \(error.message)")
    }
  }

  // MARK: The kernel process

  /// Starts a kernel process and waits for it to be ready; queues the boot loads.
  func boot() throws(SupervisorError) {
    var kernelConfiguration = configuration.kernel
    kernelConfiguration.securelevel = configuration.kernel.securelevel
    securelevel = configuration.kernel.securelevel
    shared.repair()
    let process = try KernelProcess(configuration: kernelConfiguration, shared: shared)
    guard process.waitUntilReady(milliseconds: 10_000) else {
      process.child.kill()
      let termination = process.child.wait()
      throw SupervisorError("the kernel process did not start: it \(termination)")
    }
    kernel = process
    lastAnswer = monotonicNanoseconds()
    bootQueue = bootLoads.filter { !skippedBoot.contains($0.lineNumber) }
  }

  /// The kernel died or hung: record it, fail what was in flight, boot a new one.
  func kernelDied(reason: String) {
    guard let process = kernel else { return }
    let flights = inFlight.values.sorted { $0.started < $1.started }
    inFlight = [:]
    booting = false
    pingSent = nil
    lastTraced = nil
    kernel = nil
    process.child.kill()
    let termination = process.child.wait()
    let what = reason.isEmpty ? "\(termination)" : reason
    let summary = flights.map(\.summary).joined(separator: ", ")
    let report = crashes.record(
      reason: what, request: flights.isEmpty ? nil : summary, shared: shared, boots: shared.boots)
    var detail = what
    if let entered = shared.entered, entered.running, !entered.name.isEmpty {
      detail += " while module '\(entered.name)' ran \(entered.what)"
    } else if let module = report.module {
      detail += " after module '\(module)' last ran"
    }
    if !flights.isEmpty { detail += " (\(summary))" }
    log("panic: kernel process \(detail): rebooting\n")
    for flight in flights {
      switch flight.job {
      case .client(let session, _):
        session.reply(Reply(error: .EIO, .panic(detail)), now: now())
        session.busy = false
        session.inFlight = nil
        flush(session)
      case .boot(let load):
        // A boot line that takes the kernel down is not run again at the next boots.
        skippedBoot.insert(load.lineNumber)
        log(
          "boot: line \(load.lineNumber) ('\(load.line)') took the kernel down: skipped from now on\n"
        )
      case .shutdown, .exit:
        break
      }
    }
    reboot(reportPath: report.path)
  }

  func reboot(reportPath: String) {
    // The kernel's mounts are gone, and their host mounts with them (their servers unmount;
    // the export of /dev stays: its nodes are the new kernel's).
    HostMounts.endAll(device: configuration.device, wait: 0) { !$0.isDevices }
    let start = monotonicNanoseconds()
    do {
      try boot()
      reboots += 1
      let ms = Supervisor.seconds(from: start, to: monotonicNanoseconds()) * 1000
      log(
        "lkmd: kernel rebooted in \(Supervisor.milliseconds(ms)) ms (boot \(shared.boots))"
          + (reportPath.isEmpty ? "" : "; crash report: \(reportPath)") + "\n")
    } catch {
      log("lkmd: cannot reboot the kernel: \(error.message); trying again\n")
      nextRestartAttempt = monotonicNanoseconds() + 1_000_000_000
    }
  }

  static func milliseconds(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
  }

  func log(_ text: String) {
    shared.log(text)
    system_writeStandardOutput(text)
  }

  // MARK: The loop

  func now() -> UInt64 { monotonicNanoseconds() }

  /// Makes SIGTERM and SIGINT end ``run()``.
  public static func installStopHandlers() {
    // A parent may have started lkmd with these blocked (the mask is inherited).
    system_handleStopSignals { _ in unsafe Supervisor.stopRequested = 1 }
  }

  /// Serves until SIGTERM or SIGINT, then shuts the kernel down (every module unloaded).
  public func run() {
    var fds: [PollDescriptor] = []
    while unsafe Supervisor.stopRequested == 0 {
      fds.removeAll(keepingCapacity: true)
      // 0: listener, 1: kernel channel, 2: kernel pidfd, 3: trial wake-up, then sessions.
      fds.append(PollDescriptor(fd: listener, events: .input))
      if let kernel {
        var events = PollEvents.input
        if !kernel.output.isEmpty { events.insert(.output) }
        fds.append(PollDescriptor(fd: kernel.channel, events: events))
        fds.append(PollDescriptor(fd: kernel.child.pidfd, events: .input))
      } else {
        fds.append(PollDescriptor(fd: -1, events: []))
        fds.append(PollDescriptor(fd: -1, events: []))
      }
      fds.append(PollDescriptor(fd: trials?.wakeFD ?? -1, events: .input))
      let polled = sessions
      for s in polled {
        var events: PollEvents = []
        if wantsInput(s) { events.insert(.input) }
        if !s.output.isEmpty { events.insert(.output) }
        fds.append(PollDescriptor(fd: s.fd, events: events))
      }
      // No sleeping while a session has a request that can be handled now.
      let n: Int
      do { n = try system_poll(&fds, timeout: canDispatch ? 0 : 100) } catch {
        if error != .EINTR { break }
        n = -1
      }
      let t = now()
      let ended: PollEvents = [.hangup, .error]
      if n > 0 {
        if let kernel, !fds[1].revents.isEmpty || !fds[2].revents.isEmpty {
          serviceKernel(
            kernel, readable: !fds[1].revents.isDisjoint(with: [.input, .hangup, .error]))
        }
        if !fds[3].revents.isEmpty { finishTrial() }
        for (i, s) in polled.enumerated() where !fds[i + 4].revents.isEmpty {
          guard sessions.contains(where: { $0 === s }) else { continue }
          if fds[i + 4].revents.contains(.output) { flush(s) }
          let revents = fds[i + 4].revents
          if revents.contains(.input) || (!revents.isDisjoint(with: ended) && wantsInput(s)) {
            readFrom(s, now: t)
          } else if !revents.isDisjoint(with: ended) {
            drop(s)  // gone, with more unread than it may buffer
          }
        }
        if fds[0].revents.contains(.input) { acceptClients(now: t) }
      }
      dispatch()
      expire(now: now())
      if kernel == nil && now() >= nextRestartAttempt { reboot(reportPath: "") }
    }
    stop()
  }

  /// The kernel has something: answers, or its end.
  func serviceKernel(_ process: KernelProcess, readable: Bool) {
    if !process.output.isEmpty, process.output.write(to: process.channel) == .failed {
      kernelDied(reason: "")
      return
    }
    if let ended = process.child.poll() {
      kernelDied(reason: "\(ended)")
      return
    }
    guard readable else { return }
    let received = process.receive()
    while true {
      let frame: [UInt8]?
      do { frame = try process.decoder.next() } catch {
        kernelDied(reason: "sent a frame of \(error.length) bytes and was killed")
        return
      }
      guard let frame else { break }
      guard let answer = try? KernelAnswer.decode(frame) else {
        kernelDied(reason: "sent a malformed answer and was killed")
        return
      }
      lastAnswer = now()
      if answer.id == 0 { continue }  // an acknowledgement (shutdown)
      if pingSent != nil && answer.id == Supervisor.pingID {
        pingSent = nil
        continue
      }
      guard let flight = inFlight.removeValue(forKey: answer.id) else {
        kernelDied(reason: "answered a request nobody asked for and was killed")
        return
      }
      completed(flight, reply: answer.reply)
    }
    if received == .closed {
      // The channel closed: the process is dying or closed it; either way it is gone.
      process.child.kill()
      kernelDied(reason: "")
    }
  }

  /// The id of pings (requests count from 1 and never reach it).
  static let pingID = UInt64.max

  /// A reply from the kernel for what was in flight.
  func completed(_ flight: InFlight, reply payload: [UInt8]) {
    switch flight.job {
    case .client(let session, let level):
      session.busy = false
      session.inFlight = nil
      if let level, let reply = try? Reply.decode(payload), reply.error == nil {
        securelevel = level
      }
      if sessions.contains(where: { $0 === session }) {
        session.replyRaw(payload, now: now())
        flush(session)
      }
    case .boot(let load):
      booting = false
      let reply = try? Reply.decode(payload)
      switch (reply?.error, reply?.body) {
      case (nil, .loaded(let result)?):
        log("boot: \(load.line): Module loaded as ID \(result.id)\n")
      case (_, .linkFailed(let lines)?):
        log("boot: \(load.line): " + lines.joined(separator: "; ") + "\n")
      case (let error?, _):
        log("boot: \(load.line): error initializing module: \(reply?.errorText ?? error.text)\n")
      default:
        log("boot: \(load.line): malformed reply from the kernel\n")
      }
    case .shutdown, .exit:
      break
    }
  }

  /// Whether a session has a request that can be handled now.
  func canHandle(_ s: Session) -> Bool {
    guard !s.busy, s.state == .active || s.state == .process else { return false }
    return s.output.pending < limits.unreadReplyBytes && s.decoder.hasFrame
  }

  /// Whether ``dispatch()`` has something to do right now.
  var canDispatch: Bool {
    guard kernel != nil, !booting else { return false }
    if !bootQueue.isEmpty { return true }
    return sessions.contains(where: canHandle)
  }

  /// Sends the kernel the boot loads, one after the other, then the sessions' requests: each
  /// session's next request once the one before is answered, every session in turn.
  func dispatch() {
    guard let kernel, !booting else { return }
    if !bootQueue.isEmpty {
      let load = bootQueue.removeFirst()
      guard let payload = bootPayload(load) else { return }
      let credentials = Credentials(
        pid: system_getpid(), uid: system_getuid(), gid: system_getgid(), command: "lkmd",
        groups: system_getgroups())
      let id = nextRequestID
      nextRequestID += 1
      booting = true
      inFlight[id] = InFlight(
        job: .boot(load), summary: "boot load \(load.files.joined(separator: " "))", started: now())
      kernel.send(.request(id: id, credentials, payload: payload), now: now())
      return
    }
    // A budget, so that a session pipelining requests the supervisor answers itself does not
    // keep the loop from the others' I/O.
    for _ in 0..<4 {
      var handled = false
      for s in sessions where canHandle(s) {
        let payload: [UInt8]
        do {
          guard let frame = try s.decoder.next() else { continue }
          payload = frame
        } catch {
          tooLarge(s, error)
          continue
        }
        s.notePartial(now: now())
        handle(s, payload)
        handled = true
      }
      if !handled { return }
    }
  }

  func bootPayload(_ load: BootLoad) -> [UInt8]? {
    var inputs: [LoadRequest.Input] = []
    for file in load.files {
      let text: [UInt8]
      do { text = try system_readFile(file) } catch {
        log("boot: \(load.line): \(file): \(system_errorText(error.rawValue))\n")
        return nil
      }
      inputs.append(.init(name: file, bytes: text))
    }
    var request = LoadRequest(inputs: inputs, entry: load.entry)
    request.exportSymbols = load.exportSymbols
    return Request.load(request).encoded()
  }

  // MARK: Sessions

  /// Whether to read more from a session: a session buffers at most `waitingBufferBytes`, or
  /// the whole of the request it is sending once it holds the device or is a process session,
  /// which needs no device (requests are handled one at a time: what a client pipelines beyond
  /// that waits in its socket).
  func wantsInput(_ s: Session) -> Bool {
    if s.closeAfterOutput { return false }
    var room = limits.waitingBufferBytes
    if s.state == .active || s.state == .process, let length = s.decoder.announcedLength,
      !s.decoder.hasFrame
    {
      room = max(room, min(length, limits.objectBytes + (1 << 20)) + Frame.headerSize)
    }
    return s.bufferedBytes < room
  }

  func tooLarge(_ s: Session, _ error: FrameTooLarge) {
    s.reply(
      .failure(
        .EFBIG,
        ["request of \(error.length) bytes is over the limit of \(limits.objectBytes) bytes"]),
      now: now())
    s.closeAfterOutput = true
    flush(s)
  }

  func acceptClients(now: UInt64) {
    while true {
      guard let fd = system_accept(listener) else { return }
      system_setCloseOnExec(fd)
      system_setNonblocking(fd)
      guard let cred = system_peerCredentials(fd) else {
        system_close(fd)
        continue
      }
      if sessions.count >= limits.connections {
        // Make room: the oldest connection that has not said hello goes.
        guard let oldest = sessions.first(where: { $0.state == .new }) else {
          system_close(fd)
          continue
        }
        drop(oldest)
      }
      let credentials = Credentials(
        pid: cred.pid, uid: cred.uid, gid: cred.gid, command: Supervisor.command(of: cred.pid),
        groups: Supervisor.peerGroups(fd))
      sessions.append(
        Session(
          fd: fd, credentials: credentials, frameLimit: limits.objectBytes + (1 << 20), now: now))
      sessionsOf[credentials.pid, default: 0] += 1
    }
  }

  /// The peer's supplementary groups as it had them when it connected (`SO_PEERGROUPS`, 59 on
  /// Linux); none if the system does not say.
  static func peerGroups(_ fd: Int32) -> [UInt32] { system_peerGroups(fd) ?? [] }

  static func command(of pid: Int32) -> String {
    guard let buffer = try? system_readFile("/proc/\(pid)/comm", limit: 64), !buffer.isEmpty else {
      return "?"
    }
    return String(decoding: buffer.prefix(64), as: UTF8.self).split(separator: "\n").first.map(
      String.init) ?? "?"
  }

  func drop(_ s: Session) {
    // Its request in the kernel is cancelled: a sleep with PCATCH in it ends with EINTR.
    if let id = s.inFlight, let kernel { kernel.send(.cancel(id: id), now: now()) }
    system_close(s.fd)
    sessions.removeAll { $0 === s }
    processLost(s.credentials.pid)
    queue.removeAll { $0 === s }
    if active === s {
      active = nil
      grantNext()
    }
  }

  /// One session fewer of process pid: at the last, the kernel closes the process's descriptors
  /// (its table goes when its last request ends).
  func processLost(_ pid: Int32) {
    guard let n = sessionsOf[pid] else { return }
    if n > 1 {
      sessionsOf[pid] = n - 1
      return
    }
    sessionsOf[pid] = nil
    guard let kernel else { return }
    let id = nextRequestID
    nextRequestID += 1
    inFlight[id] = InFlight(job: .exit, summary: "exit of process \(pid)", started: now())
    kernel.send(
      .request(
        id: id, Credentials(pid: pid, uid: 0, gid: 0, command: "exit"),
        payload: Request.exit(pid: pid).encoded()),
      now: now())
  }

  /// Whether a waiting session is ready to use the device: it sent a whole request after its
  /// hello, or as much of one as a waiting session may buffer.
  func isReady(_ s: Session) -> Bool {
    s.decoder.hasFrame || s.bufferedBytes >= limits.waitingBufferBytes
  }

  /// Whether the session's process had a session dropped for misuse in the last
  /// `suspectSeconds`.
  func isSuspect(_ s: Session) -> Bool {
    guard let until = suspects[s.credentials.pid] else { return false }
    if until > now() { return true }
    suspects[s.credentials.pid] = nil
    return false
  }

  /// Ends a session that held the device without using it while others waited, and makes its
  /// process's next sessions wait behind everyone else's for a while.
  func penalize(_ s: Session) {
    if suspects.count > 4096 { suspects.removeAll() }
    suspects[s.credentials.pid] = now() + UInt64(limits.suspectSeconds * 1e9)
    drop(s)
  }

  /// Gives the device to the next waiting session: the first that is ready (its request is
  /// there) and whose process is not suspect, else the first not suspect, else the first. A
  /// session that said hello and sends nothing cannot make ready ones wait behind it, and a
  /// process that misused the device waits behind everyone for `suspectSeconds`.
  func grantNext() {
    while active == nil, !queue.isEmpty {
      let index =
        queue.firstIndex { isReady($0) && !isSuspect($0) }
        ?? queue.firstIndex { !isSuspect($0) } ?? 0
      let next = queue.remove(at: index)
      next.state = .active
      if next.frameStarted != nil { next.frameStarted = now() }
      active = next
      next.reply(Reply(), now: now())
      flush(next)
    }
  }

  func flush(_ s: Session) {
    switch s.output.write(to: s.fd) {
    case .failed: drop(s)
    case .drained: if s.closeAfterOutput { drop(s) }
    case .partial: break
    }
  }

  func readFrom(_ s: Session, now: UInt64) {
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while wantsInput(s) {
      let n: Int
      do { n = try system_receive(s.fd, into: &chunk) } catch {
        if error == .EINTR { continue }
        if error == .EAGAIN || error == .EWOULDBLOCK { break }
        drop(s)
        return
      }
      if n == 0 {
        drop(s)
        return
      }
      unsafe chunk.withUnsafeBytes {
        unsafe s.decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n]))
      }
      s.lastActivity = now
      if s.state == .new {
        // The first frame of a session is its hello; what follows waits with the session (a
        // client sends its first request with its hello) and is handled once it has the device.
        let frame: [UInt8]?
        do { frame = try s.decoder.next() } catch {
          tooLarge(s, error)
          return
        }
        if let frame {
          sessionFrame(s, frame)
          if !sessions.contains(where: { $0 === s }) { return }
        }
      }
      s.notePartial(now: now)
    }
  }

  /// The first frame of a session: its hello, or EBADF and the end of the session.
  func sessionFrame(_ s: Session, _ frame: [UInt8]) {
    guard
      case .hello(let write, let nonblocking, let exclusive)? = try? Request.decode(
        frame, objectLimit: 0)
    else {
      s.reply(.failure(.EBADF), now: now())
      s.closeAfterOutput = true
      flush(s)
      return
    }
    if write && !(s.credentials.uid == 0 || s.credentials.uid == ownUID) {
      s.reply(.failure(.EACCES), now: now())
      s.closeAfterOutput = true
      flush(s)
      return
    }
    s.write = write
    if !exclusive {
      s.state = .process
      s.reply(Reply(), now: now())
      flush(s)
    } else if active == nil {
      s.state = .active
      active = s
      s.reply(Reply(), now: now())
      flush(s)
    } else if nonblocking {
      s.reply(.failure(.EBUSY), now: now())
      s.closeAfterOutput = true
      flush(s)
    } else {
      s.state = .waiting
      queue.append(s)
    }
  }

  /// A request of the session holding the device: answered here (policy, the message buffer,
  /// crash reports) or sent to the kernel.
  func handle(_ s: Session, _ payload: [UInt8]) {
    let request: Request
    do { request = try Request.decode(payload, objectLimit: limits.objectBytes) } catch {
      s.reply(.failure(KernelErrno(error.errno), [error.description]), now: now())
      flush(s)
      return
    }
    if case .hello = request {
      s.reply(.failure(.EINVAL), now: now())
      flush(s)
      return
    }
    if request.needsDevice && s.state != .active {
      // The module interface is the ioctls of an open /dev/lkm.
      s.reply(
        .failure(.EBADF, ["the module interface needs an exclusive session (an open of /dev/lkm)"]),
        now: now())
      flush(s)
      return
    }
    if let refusal = Gatekeeper.refusal(for: request, write: s.write, securelevel: securelevel) {
      s.reply(.failure(refusal), now: now())
      flush(s)
      return
    }
    switch request {
    case .dmesg(let timestamps):
      if timestamps {
        let (text, lineTimes) = shared.timedMessages()
        s.reply(Reply(.messages(text: text, lineTimes: lineTimes)), now: now())
      } else {
        s.reply(Reply(.text(shared.messages())), now: now())
      }
      flush(s)
      return
    case .crashes:
      s.reply(Reply(.crashes(crashes.reports)), now: now())
      flush(s)
      return
    default:
      break
    }
    var level: Int32?
    if let wanted = Supervisor.securelevelChange(request) {
      guard let wanted else {
        s.reply(.failure(.EINVAL), now: now())
        flush(s)
        return
      }
      guard wanted >= securelevel else {
        s.reply(.failure(.EPERM), now: now())
        flush(s)
        return
      }
      level = wanted
    }
    if case .load(let load) = request, !load.checkOnly, let trials {
      trialToken += 1
      trial = (trialToken, s, payload)
      s.busy = true
      trials.start(load, token: trialToken)
      return
    }
    forward(s, payload, summary: request.summary, securelevel: level)
  }

  func forward(_ s: Session, _ payload: [UInt8], summary: String, securelevel level: Int32?) {
    guard let kernel else {
      s.reply(Reply(error: .EIO, .panic("the kernel is not running (a reboot failed)")), now: now())
      flush(s)
      return
    }
    let id = nextRequestID
    nextRequestID += 1
    s.busy = true
    s.inFlight = id
    inFlight[id] = InFlight(job: .client(s, securelevel: level), summary: summary, started: now())
    kernel.send(.request(id: id, s.credentials, payload: payload), now: now())
  }

  /// A trial load ended: refuse the load with the verdict, or send it to the kernel.
  func finishTrial() {
    guard let trials, let result = trials.take(), let pending = trial, pending.token == result.token
    else { return }
    trial = nil
    let decoded = try? Request.decode(pending.payload, objectLimit: limits.objectBytes)
    var name = "module"
    if case .load(let load)? = decoded { name = load.displayName }
    log("lkmd: trial load of '\(name)': \(result.verdict)\n")
    let s = pending.session
    s.busy = false
    guard sessions.contains(where: { $0 === s }) else { return }
    if let refusal = result.refusal {
      s.reply(refusal, now: now())
      flush(s)
      return
    }
    forward(s, pending.payload, summary: decoded?.summary ?? "load", securelevel: nil)
  }

  /// Seconds from `since` to `now` (0 when `since` is later: times are taken as the loop goes,
  /// and a session granted the device in this pass was stamped after `now`).
  static func seconds(from since: UInt64, to now: UInt64) -> Double {
    now > since ? Double(now - since) / 1e9 : 0
  }

  func expire(now: UInt64) {
    let age = Supervisor.seconds
    for s in sessions {
      // The session holding the device while others wait gets the contended limit for all.
      let contended = s.state == .active && !queue.isEmpty
      let reply = contended ? limits.contendedSeconds : limits.replySeconds
      if let since = s.output.pendingSince, age(since, now) > reply {
        contended ? penalize(s) : drop(s)  // does not read what it asked for
      } else if s.state != .waiting, let started = s.frameStarted,
        age(started, now) > limits.requestSeconds
      {
        // Began a request and did not finish it (a waiting session's request may be held up
        // by the limit on what it may buffer: its time starts when it gets the device).
        drop(s)
      } else if contended && s.frameStarted != nil
        && age(s.lastActivity, now) > limits.contendedSeconds
      {
        penalize(s)  // stalled in the middle of a request while others wait
      } else if s.state == .new && age(s.lastActivity, now) > limits.requestSeconds {
        drop(s)  // never said hello
      } else if s.state == .process && !s.busy && !s.decoder.isMidFrame && s.output.isEmpty
        && age(s.lastActivity, now) > limits.idleSeconds
      {
        drop(s)  // a process session that asks nothing more
      } else if s.state == .active && !s.busy && !s.decoder.isMidFrame && s.output.isEmpty {
        if contended && age(s.lastActivity, now) > limits.contendedSeconds {
          penalize(s)  // holds the device, asks nothing, while others wait
        } else if age(s.lastActivity, now) > limits.idleSeconds {
          drop(s)
        }
      }
    }
    guard let kernel else { return }
    // The kernel is stuck with its lock, or its channel thread no longer answers. A kernel a
    // debugger holds (stopped at a breakpoint) is not hung: its requests wait, and its clocks
    // start again when the debugger lets it go (it may still hold the lock for a moment).
    let since = shared.lockSince
    let waiting = since != 0 || !inFlight.isEmpty
    if waiting && isTraced(pid: kernel.child.pid) {
      lastTraced = now
      pingSent = nil
      return
    }
    let tracedAge = lastTraced.map { age($0, now) } ?? .infinity
    if since != 0, age(since, now) > limits.hangSeconds, tracedAge > limits.hangSeconds {
      kernelDied(reason: "held its lock for \(Int(limits.hangSeconds)) s and was killed")
      return
    }
    if let sent = pingSent {
      if age(sent, now) > 5 {
        kernelDied(reason: "stopped answering and was killed")
      }
    } else if !inFlight.isEmpty, age(lastAnswer, now) > limits.hangSeconds / 3,
      tracedAge > limits.hangSeconds / 3
    {
      pingSent = now
      kernel.send(.ping(id: Supervisor.pingID), now: now)
    }
  }

  /// lkmd is stopping: every host mount unmounted, every request cancelled, every module
  /// unloaded, the kernel ended.
  func stop() {
    HostMounts.endAll(device: configuration.device, wait: 3)
    for s in sessions {
      if let id = s.inFlight, let kernel { kernel.send(.cancel(id: id), now: now()) }
      system_close(s.fd)
    }
    sessions.removeAll()
    guard kernel != nil else { return }
    // Let the requests in flight finish (cancelled ones that sleep with PCATCH end at once),
    // for at most the hang limit.
    let deadline = now() + UInt64(limits.hangSeconds * 1e9)
    while !inFlight.isEmpty, let process = self.kernel, now() < deadline {
      _ = ChildProcess.readable(process.channel, within: 100)
      serviceKernel(process, readable: true)
    }
    guard let process = self.kernel else { return }
    process.send(.shutdown, now: now())
    while !process.output.isEmpty, process.output.write(to: process.channel) == .partial {
      _ = ChildProcess.readable(process.channel, within: 100)
    }
    if process.child.wait(milliseconds: Int(limits.hangSeconds * 1000)) == nil {
      log("lkmd: the kernel did not stop in \(Int(limits.hangSeconds)) s: killed\n")
      process.child.kill()
      _ = process.child.wait()
    }
    self.kernel = nil
  }
}

extension Supervisor {
  /// Whether a request sets kern.securelevel (__sysctl(2) with {CTL_KERN, KERN_SECURELVL} and a
  /// new value): nil if it does not; .some(nil) for a malformed value; the level asked for.
  static func securelevelChange(_ request: Request) -> Int32?? {
    guard case .syscall(202, let arguments) = request, arguments.count >= 6 else { return nil }
    guard case .bytes(let name) = arguments[0], name.count >= 8 else { return nil }
    func int32(_ bytes: [UInt8], _ at: Int) -> Int32 {
      loadLittleEndian(Int32.self, from: bytes, at: at)
    }
    guard int32(name, 0) == 1, int32(name, 4) == 9 else { return nil }  // CTL_KERN, KERN_SECURELVL
    switch arguments[4] {
    case .integer(0): return nil  // no new value: a read
    case .bytes(let value) where value.count == 4: return .some(int32(value, 0))
    default: return .some(nil)
    }
  }
}

/// The policy in OpenBSD's order: securelevel above 0 is EPERM for all but stat requests, a
/// read-only session EACCES for all but stat. System calls are exempt from both: they are a
/// process's, not an open of /dev/lkm's, and the kernel checks them itself (an ioctl that loads
/// needs /dev/lkm open for writing and securelevel 0).
///
/// The corresponding OpenBSD code is `lkmioctl` in `sys/kern/kern_lkm.c`.
public enum Gatekeeper {
  public static func refusal(for request: Request, write: Bool, securelevel: Int32) -> KernelErrno?
  {
    guard !request.isStat else { return nil }
    // securelevel guards the module interface; kern.securelevel itself may still be raised.
    // System calls are what modules give userland, not the module interface; nor are the
    // kernel's devices, file systems and interpreters.
    let exempt = request.isKernelService
    if securelevel > 0 && !exempt { return .EPERM }
    if !write && !exempt { return .EACCES }
    return nil
  }
}
