import Foundation
import Glibc
import TestSupport
import Testing

// lkmd's cache of linked images (ImageCache in the kernel process): a module sent again maps
// its cached image, a changed module never does, and the switches that turn it off.

@Suite("lkmd: the cache of linked images")
struct KernelCacheTests {
  /// A system call module returning `value`, compiled (again) to DIR/answer.o.
  @discardableResult
  static func module(in dir: String, returning value: Int) throws -> String {
    let source = """
      #include <sys/param.h>
      #include <sys/systm.h>
      #include <sys/proc.h>
      #include <sys/lkm.h>

      static int
      answer_call(struct proc *p, void *v, register_t *retval)
      {
      	*retval = \(value);
      	return (0);
      }

      static struct sysent answer_sysent = { 0, 0, 0, answer_call };

      MOD_SYSCALL("answer", -1, &answer_sysent)

      int answer_lkmentry(struct lkm_table *, int, int);

      int
      answer_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
      {
      	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
      }

      """
    try source.write(toFile: dir + "/answer.c", atomically: true, encoding: .utf8)
    try KernelFixtures.compile(dir + "/answer.c", to: dir + "/answer.o")
    return dir + "/answer.o"
  }

  /// The cache's entries: name → inode (a store writes a new file and renames it over).
  static func entries(_ cache: String) -> [String: UInt64] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
    var found: [String: UInt64] = [:]
    for name in names where name.hasSuffix(".lkmimg") {
      var s = stat()
      if unsafe stat(cache + "/" + name, &s) == 0 { found[name] = UInt64(s.st_ino) }
    }
    return found
  }

  /// Loads DIR/answer.o, calls its system call (slot 210) and unloads it.
  static func loadCallUnload(_ k: KernelProcess, _ object: String, expecting value: Int) throws {
    expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
    expectRun(try k.run("lkmctl", "syscall", "210"), 0, stdout: "retval = \(value)\n")
    expectRun(try k.run("modunload", "-n", "answer"), 0)
  }

  @Test("a module loaded again maps its cached image; a changed module links and runs its new code")
  func loadAgainHitsChangedMisses() throws {
    let dir = try TestSupport.temporaryDirectory("lkmd-cache")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let cache = dir + "/cache"
    let object = try Self.module(in: dir, returning: 7)
    try withKernel(["--cache", cache], environment: ["LKM_NO_CACHE": nil]) { k in
      try Self.loadCallUnload(k, object, expecting: 7)
      let stored = Self.entries(cache)
      #expect(stored.count == 1, "the first load stores one entry: \(stored)")
      // The second load is a hit: nothing is stored again (the entry is the same file).
      try Self.loadCallUnload(k, object, expecting: 7)
      #expect(Self.entries(cache) == stored)
      // The same file, other bytes: the new code runs, from a new entry.
      try Self.module(in: dir, returning: 9)
      try Self.loadCallUnload(k, object, expecting: 9)
      let after = Self.entries(cache)
      #expect(after.count == 2 && stored.allSatisfy { after[$0.key] == $0.value })
      // And the first version again: its entry, not the last one.
      try Self.module(in: dir, returning: 7)
      try Self.loadCallUnload(k, object, expecting: 7)
      #expect(Self.entries(cache) == after)
    }
    // A kernel process of another lkmd (a reboot, another boot) loads from the same entries.
    try withKernel(["--cache", cache], environment: ["LKM_NO_CACHE": nil]) { k in
      let before = Self.entries(cache)
      try Self.loadCallUnload(k, object, expecting: 7)
      try Self.module(in: dir, returning: 9)
      try Self.loadCallUnload(k, object, expecting: 9)
      #expect(Self.entries(cache) == before)
    }
  }

  @Test("the default cache is $XDG_CACHE_HOME/lkm; --no-cache and LKM_NO_CACHE=1 store nothing")
  func switches() throws {
    let dir = try TestSupport.temporaryDirectory("lkmd-cache")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let object = try Self.module(in: dir, returning: 3)
    let runs: [(arguments: [String], environment: [String: String?], stores: Bool)] = [
      ([], ["XDG_CACHE_HOME": dir + "/xdg", "LKM_NO_CACHE": nil], true),
      (["--no-cache"], ["XDG_CACHE_HOME": dir + "/xdg-off", "LKM_NO_CACHE": nil], false),
      ([], ["XDG_CACHE_HOME": dir + "/xdg-env", "LKM_NO_CACHE": "1"], false),
    ]
    for run in runs {
      try withKernel(run.arguments, environment: run.environment) { k in
        try Self.loadCallUnload(k, object, expecting: 3)
      }
      let xdg = run.environment["XDG_CACHE_HOME"]!! + "/lkm"
      #expect(
        Self.entries(xdg).count == (run.stores ? 1 : 0), "\(run.arguments) \(run.environment)")
    }
  }

  @Test(
    "lkmd: --cache with --no-cache is a usage error (64); a cache directory it cannot use, a failure to start (1)"
  )
  func badCacheOptions() throws {
    let dir = try TestSupport.temporaryDirectory("lkmd-cache")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let lkmd = TestSupport.product("lkmd")
    let both = try TestSupport.run(
      lkmd, ["--device", dir + "/lkm", "--cache", dir + "/c", "--no-cache"])
    #expect(
      both.status == 64
        && both.stderr.hasPrefix("lkmd: --cache and --no-cache cannot be used together\n"),
      "\(both)")
    try "".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
    let file = try TestSupport.run(lkmd, ["--device", dir + "/lkm", "--cache", dir + "/file"])
    #expect(
      file.status == 1 && file.stderr.hasPrefix("lkmd: cannot use the cache '\(dir)/file': "),
      "\(file)")
    #expect(file.stdout.isEmpty)
  }
}
