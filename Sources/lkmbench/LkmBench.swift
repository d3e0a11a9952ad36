// Placeholder: scripts/bench's in-process benchmark host (filled in by the benchmark work).
@main
struct LkmBench {
  static func main() {}
}
