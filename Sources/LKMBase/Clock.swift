import Glibc

/// Monotonic time in nanoseconds (CLOCK_MONOTONIC): the one clock of lkm's timeouts and timings.
///
/// The corresponding C function is `clock_gettime(2)`.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
  var ts = timespec()
  unsafe clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Monotonic time in seconds (CLOCK_MONOTONIC), for waits measured in seconds.
public func monotonicSeconds() -> Double {
  Double(monotonicNanoseconds()) / 1e9
}

/// Wall-clock time in nanoseconds since the epoch (CLOCK_REALTIME): file times are compared
/// with it.
///
/// The corresponding C function is `clock_gettime(2)`.
public func realtimeNanoseconds() -> Int64 {
  var ts = timespec()
  unsafe clock_gettime(CLOCK_REALTIME, &ts)
  return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
