#!/usr/bin/env python3
"""Random-mutation smoke test for the object and archive reader: not run by the test suite.

Builds a few valid objects and an archive (gcc, and clang when present, plus the corpus'
controls and some libsqlite3.a members), then writes thousands of mutants (random byte
flips, interesting values in ELF, section header, symbol and relocation fields, truncations,
ar header damage) and runs `lkmrun -n` on each with a timeout. Any signal, timeout, exit
status other than 0/1, or a failure without an "lkmrun: " line is a finding: the input is
kept in the output directory with lkmrun's stderr, ready to be minimised into
Fixtures/malformed.

    scripts/mutate-smoke.py [--count N] [--jobs J] [--seed S] [--seconds T]
                            [--lkmrun PATH] [--out DIR]

Deterministic for a given seed and seed set (the compilers' output included).
"""

import argparse
import collections
import concurrent.futures
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SOURCES = {
    "main.c": r"""
        #include <stdio.h>
        #include <string.h>
        extern int lib1(int), lib2(const char *);
        static int table[16] = {1, 2, 3};
        int common_thing;
        const char *names[] = {"a", "b", "c"};
        __attribute__((constructor)) static void init(void) { table[3] = 4; }
        int main(int argc, char **argv) {
          printf("%d %s\n", lib1(argc) + table[argc & 15], names[argc % 3]);
          return lib2(argc > 1 ? argv[1] : "x") + (int)strlen(names[0]) + common_thing;
        }
    """,
    "lib1.c": r"""
        static int counter;
        int lib1(int x) { switch (x) { case 0: return 7; case 1: return counter++; case 2: return 9;
          case 3: return 11; case 4: return 13; default: return x * 3; } }
    """,
    "lib2.c": r"""
        #include <string.h>
        __attribute__((weak)) int optional_hook(void);
        int lib2(const char *s) { return (int)strlen(s) + (optional_hook ? optional_hook() : 0); }
    """,
}
CXX = {
    "comdat.cc": r"""
        template <typename T> T twice(T x) { return x + x; }
        inline int shared_inline(int x) { static int n; return n += x; }
        int use(int x) { return twice(x) + twice<long>(x) + shared_inline(x); }
    """,
}


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, capture_output=True, **kwargs)


def seeds(work):
    """Valid inputs: (name, bytes, kind, companions) with kind 'object' or 'archive', and the
    paths of the valid inputs to link it with so that the link would succeed up to the entry
    point (so that layout and relocation run too)."""
    out = []
    for name, text in {**SOURCES, **CXX}.items():
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    compilers = ["gcc"] + (["clang"] if shutil.which("clang") else [])
    for cc in compilers:
        for flags in (["-O0"], ["-O2", "-g"], ["-O2", "-fPIC", "-ffunction-sections"],
                      ["-Os", "-fno-pic", "-mcmodel=small"]):
            tag = f"{cc}{''.join(flags).replace('-', '_')}"
            objects = []
            for name in SOURCES:
                obj = os.path.join(work, f"{tag}-{name[:-2]}.o")
                try:
                    run([cc, "-c", *flags, name, "-o", obj], cwd=work)
                except (subprocess.CalledProcessError, FileNotFoundError):
                    continue
                objects.append(obj)
            cxx = {"gcc": "g++", "clang": "clang++"}[cc]
            if shutil.which(cxx):
                obj = os.path.join(work, f"{tag}-comdat.o")
                try:
                    run([cxx, "-c", *flags, "comdat.cc", "-o", obj], cwd=work)
                    objects.append(obj)
                except subprocess.CalledProcessError:
                    pass
            program = [o for o in objects if not o.endswith("-comdat.o")]
            for obj in objects:
                with open(obj, "rb") as f:
                    others = [o for o in program if o != obj] if obj in program else []
                    out.append((os.path.basename(obj), f.read(), "object", others))
            libs = [o for o in objects if "-lib" in o]
            mains = [o for o in objects if o.endswith("-main.o")]
            if libs:
                archive = os.path.join(work, f"{tag}-lib.a")
                run(["ar", "rcs", archive, *libs])
                with open(archive, "rb") as f:
                    out.append((os.path.basename(archive), f.read(), "archive", mains))
    malformed = os.path.join(ROOT, "Fixtures", "malformed")
    for name in sorted(os.listdir(malformed)) if os.path.isdir(malformed) else []:
        if name.startswith("valid-"):
            with open(os.path.join(malformed, name), "rb") as f:
                data = f.read()
            out.append((name, data, "archive" if data.startswith(b"!<arch>\n") else "object", []))
    sqlite = "/usr/lib/x86_64-linux-gnu/libsqlite3.a"
    if os.path.exists(sqlite):
        members = run(["ar", "t", sqlite]).stdout.decode().split()[:6]
        run(["ar", "x", sqlite, *members], cwd=work)
        for m in members:
            with open(os.path.join(work, m), "rb") as f:
                out.append(("sqlite-" + m, f.read(), "object", [sqlite]))
    return out


INTERESTING = [0, 1, 2, 3, 4, 7, 8, 0x10, 0x18, 0x40, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000,
               0xFF00, 0xFFF1, 0xFFF2, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
               1 << 32, 1 << 40, 1 << 60, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, (1 << 64) - 16]


def put(data, at, value, size):
    if 0 <= at and at + size <= len(data):
        data[at:at + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def elf_tables(data, base=0):
    """(shoff, shnum, sections [(type, offset, size, entsize)]) of a plausible ELF64 at base."""
    try:
        shoff, = struct.unpack_from("<Q", data, base + 40)
        shnum, = struct.unpack_from("<H", data, base + 60)
        sections = []
        for i in range(min(shnum, 4096)):
            at = base + shoff + 64 * i
            _, type, _, _, off, size, _, _, _, ent = struct.unpack_from("<IIQQQQIIQQ", data, at)
            sections.append((type, base + off, size, ent))
        return base + shoff, shnum, sections
    except struct.error:
        return None


def mutate(rng, data, kind, focus="any"):
    """A mutant of `data`. focus "tables" only changes section header, symbol, relocation and
    group fields (one or two of them), so that more mutants get past the reader into layout
    and relocation."""
    data = bytearray(data)
    base = 0
    if kind == "archive":
        # Aim at a member's ELF image most of the time, else at the ar structure.
        starts = [i for i in range(8, min(len(data), 1 << 20)) if data[i:i + 4] == b"\x7fELF"]
        if starts and (rng.random() < 0.7 or focus == "tables"):
            base = rng.choice(starts)
        else:
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(data))
                data[at] = rng.choice([0x20, 0x30, 0x39, 0x2F, 0x60, 0x0A, 0, 0xFF, rng.randrange(256)])
            return bytes(data)
    tables = elf_tables(data, base)
    for _ in range(rng.choice([1, 1, 1, 2, 3, 5, 8] if focus == "any" else [1, 1, 2])):
        r = rng.random() if focus == "any" else rng.uniform(0.35, 0.9)
        if r < 0.25:  # random bytes anywhere
            at = rng.randrange(len(data))
            data[at] = rng.randrange(256) if rng.random() < 0.5 else data[at] ^ (1 << rng.randrange(8))
        elif r < 0.35:  # an ELF header field
            field, size = rng.choice([(4, 1), (5, 1), (6, 1), (16, 2), (18, 2), (20, 4), (40, 8),
                                      (52, 2), (58, 2), (60, 2), (62, 2)])
            put(data, base + field, rng.choice(INTERESTING), size)
        elif r < 0.65 and tables and tables[1]:  # a section header field
            shoff, shnum, _ = tables
            i = rng.randrange(shnum)
            field, size = rng.choice([(0, 4), (4, 4), (8, 8), (24, 8), (32, 8), (40, 4), (44, 4),
                                      (48, 8), (56, 8)])
            value = rng.choice(INTERESTING + [rng.randrange(shnum + 2)] * 4)
            put(data, shoff + 64 * i + field, value, size)
        elif r < 0.9 and tables:  # a symbol, relocation or group entry
            entries = [s for s in tables[2] if s[0] in (2, 4, 17) and 0 < s[2] < 1 << 24]
            if not entries:
                continue
            type, off, size, _ = rng.choice(entries)
            if type == 2:
                at = off + 24 * rng.randrange(max(1, size // 24))
                field, width = rng.choice([(0, 4), (4, 1), (5, 1), (6, 2), (8, 8), (16, 8)])
            elif type == 4:
                at = off + 24 * rng.randrange(max(1, size // 24))
                field, width = rng.choice([(0, 8), (8, 4), (12, 4), (16, 8)])
            else:
                at, field, width = off + 4 * rng.randrange(max(1, size // 4)), 0, 4
            value = rng.choice(INTERESTING + [rng.randrange(64)] * 6)
            put(data, at + field, value, width)
        else:  # truncate
            if len(data) > 1:
                del data[rng.randrange(1, len(data)):]
            break
    return bytes(data)


def check(lkmrun, path, args, seconds):
    try:
        p = subprocess.run([lkmrun, "-n", *args], capture_output=True, timeout=seconds,
                           cwd=os.path.dirname(path))
    except subprocess.TimeoutExpired:
        return "timeout", ""
    err = p.stderr.decode(errors="replace")
    if p.returncode < 0:
        return f"signal {-p.returncode}", err
    if p.returncode not in (0, 1):
        return f"exit {p.returncode}", err
    if p.returncode == 1 and not err.startswith("lkmrun: "):
        return "no message", err
    if p.stdout:
        return "stdout", err
    return ("ok" if p.returncode == 0 else "refused"), err


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--lkmrun", default=os.path.join(ROOT, ".build", "debug", "lkmrun"))
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "lkm-mutate"))
    parser.add_argument("--focus", choices=["any", "tables"], default="any",
                        help="tables: mutate only section header, symbol, relocation and group "
                             "fields")
    parser.add_argument("--show", type=int, default=25, help="how many refusal kinds to list")
    options = parser.parse_args()

    os.makedirs(options.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="lkm-seeds-")
    pool_dir = tempfile.mkdtemp(prefix="lkm-mutants-")
    try:
        inputs = seeds(work)
        objects = [s for s in inputs if s[2] == "object"]
        print(f"{len(inputs)} seeds ({len(inputs) - len(objects)} archives); "
              f"{options.count} mutants, {options.jobs} jobs, seed {options.seed}, focus "
              f"{options.focus}", flush=True)
        def job(n):
            seed = rng_for(options.seed, n)
            name, data, kind, companions = seed.choice(inputs)
            mutant = mutate(seed, data, kind, options.focus)
            suffix = ".a" if kind == "archive" else ".o"
            path = os.path.join(pool_dir, f"m{n}{suffix}")
            with open(path, "wb") as f:
                f.write(mutant)
            args = [os.path.basename(path), *companions]
            verdict, err = check(options.lkmrun, path, args, options.seconds)
            finding = verdict not in ("ok", "refused")
            if finding:
                keep = os.path.join(options.out, f"{verdict.replace(' ', '-')}-{n}{suffix}")
                shutil.copy(path, keep)
                with open(keep + ".stderr", "w") as f:
                    f.write(f"seed input: {name}\nrun: lkmrun -n {keep} {' '.join(companions)}\n"
                            f"{err}")
            os.remove(path)
            first = err.split("\n", 1)[0]
            if finding:
                # The innermost frame in our sources, to tell crashes apart.
                frame = re.search(r" in \S+ at \S*?/(Sources/\S+)", err)
                first = frame.group(1) if frame else first
            return verdict, name, first, finding

        verdicts = collections.Counter()
        crashes = collections.Counter()
        messages = collections.Counter()
        with concurrent.futures.ThreadPoolExecutor(options.jobs) as pool:
            for i, (verdict, name, first, finding) in enumerate(pool.map(job, range(options.count))):
                verdicts[verdict] += 1
                if verdict == "refused":
                    # Group messages by their shape (digits and names dropped).
                    shape = re.sub(r"'[^']*'", "'N'", first.removeprefix("lkmrun: "))
                    shape = re.sub(r"\bm\d+\.[oa]\b", "FILE", shape)
                    shape = re.sub(r"\b(0x[0-9a-f]+|\d+)\b", "#", shape)
                    messages[shape[:100]] += 1
                if finding:
                    crashes[f"{verdict} at {first}"] += 1
                    print(f"FINDING {verdict}: mutant {i} of {name}: {first}", flush=True)
                if (i + 1) % 1000 == 0:
                    print(f"{i + 1} done: {dict(verdicts)}", flush=True)
        print(f"\n{options.count} mutants: {dict(verdicts)}")
        print("most common refusals:")
        for shape, n in messages.most_common(options.show):
            print(f"  {n:6}  {shape}")
        if crashes:
            print("findings by place:")
            for place, n in crashes.most_common():
                print(f"  {n:6}  {place}")
        findings = sum(n for v, n in verdicts.items() if v not in ("ok", "refused"))
        print(f"{findings} findings" + (f", kept in {options.out}" if findings else ""))
        return 1 if findings else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pool_dir, ignore_errors=True)


def rng_for(seed, n):
    """An independent generator per mutant, so results do not depend on scheduling."""
    return random.Random(seed * 1_000_003 + n)


if __name__ == "__main__":
    sys.exit(main())
