#!/usr/bin/env python3
"""Checks that the device core builds as firmware and keeps its rules. The
core is cmake/core_sources.txt, the list the firmware compiles (src/device
and the src/util files it uses). It compiles every core file alone, as the
firmware does (Cortex-M33, -Os, C11, no POSIX macros; the host's gcc when
arm-none-eabi-gcc is missing), with -fstack-usage -fcallgraph-info=su, and
then checks one of:

  layers   the one-way layers of src/device/LAYERS: #includes, and calls
           (direct calls and functions whose address is taken) taken from
           the compiler's call graph; the src/util core files are below all;
  static   no writable static data (.data, .bss, common) in any object:
           every buffer lives in the caller's structures;
  formats  no printf length modifiers newlib-nano lacks (%zu, %lld, %jd,
           PRIu64 ...);
  stack    the deepest path from any entry point of device.h, summing the
           frames -fstack-usage reports along the call graph, stays within
           the budget. Indirect calls: the one in thsm_session_request goes
           to every function whose address the command table holds; the
           others are the port's and the session's callbacks, outside the
           core like libc and the crypto backend (their stack is measured on
           the firmware, as the stack high-water mark under QEMU). Fails on
           recursion, on a frame that is not of static size and on any other
           address-taken function (a new table needs this check updated).

  tree     the layers of the whole tree, src/LAYERS: which src/ directories
           the files of each may #include (no compiling);

  selftest breaks a copy of the tree once per rule (a call and an include
           upward, a static counter, a %zu, a 4 KiB buffer on the way of a
           handler, the same in src/util/pin.c, and one forbidden include
           per line of src/LAYERS) and passes when each check fails on it.

Exit status 0 when the check holds, 1 when not (with the reasons).
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

ENTRY_POINTS = ["thsm_device_input", "thsm_device_init", "thsm_device_flush",
                "thsm_device_disconnect", "thsm_device_deinit",
                "thsm_device_findings", "thsm_device_flush_pending",
                "thsm_device_storage_reason", "thsm_session_init"]
DISPATCH = "thsm_session_request"  # its one indirect call runs a handler
CALL_RELOCS = {"R_ARM_THM_CALL", "R_ARM_THM_JUMP24", "R_ARM_THM_JUMP19",
               "R_ARM_THM_JUMP11", "R_ARM_THM_JUMP8", "R_ARM_CALL",
               "R_ARM_JUMP24", "R_X86_64_PLT32"}
BAD_FORMAT = re.compile(r'%[-+ #0-9.*]*(ll|z|j|t|L)[diouxXn]|PRI[diouxX](64|MAX|PTR)')


def toolchain():
    if shutil.which("arm-none-eabi-gcc"):
        return ("arm-none-eabi-", ["-mcpu=cortex-m33", "-mthumb",
                                   "-mfloat-abi=soft", "--specs=picolibc.specs"])
    return ("", [])


def core_sources(root):
    """The files of cmake/core_sources.txt (globs expanded), sorted."""
    found = set()
    with open(os.path.join(root, "cmake/core_sources.txt")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                found.update(glob.glob(os.path.join(root, line)))
    return sorted(found)


def compile_core(root, work):
    prefix, cpu = toolchain()
    os.makedirs(work, exist_ok=True)
    for old in glob.glob(os.path.join(work, "*")):
        if os.path.isfile(old):
            os.remove(old)
    sources = core_sources(root)
    names = [os.path.basename(s) for s in sources]
    if len(set(names)) != len(names):
        sys.exit("cmake/core_sources.txt: two core files share a name")
    for src in sources:
        obj = os.path.join(work, os.path.basename(src)[:-2] + ".o")
        cmd = ([prefix + "gcc"] + cpu +
               ["-std=c11", "-Os", "-ffunction-sections", "-fdata-sections",
                "-Wall", "-Wextra", "-Werror", "-Wshadow",
                "-Wstrict-prototypes", "-I" + os.path.join(root, "src"),
                "-fstack-usage", "-fcallgraph-info=su", "-c", src, "-o", obj])
        subprocess.run(cmd, check=True, cwd=work)
    return prefix, sources


def read_layers(root):
    rank = {}
    with open(os.path.join(root, "src/device/LAYERS")) as f:
        lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
    for i, files in enumerate(lines):
        for name in files:
            rank[name] = i
    for path in core_sources(root):
        if "/src/device/" not in path:  # src/util, below every layer
            rank[os.path.basename(path)] = len(lines)
    return rank


class Graph:
    """Functions of the core (from the .ci files): where each is defined,
    its frame, and what it calls."""

    def __init__(self, work):
        self.file, self.frame, self.kind = {}, {}, {}
        self.calls, self.indirect = {}, set()
        node = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
        edge = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
        for ci in sorted(glob.glob(os.path.join(work, "*.ci"))):
            base = os.path.basename(ci)[:-3] + ".c"
            with open(ci) as f:
                text = f.read()
            for title, label in node.findall(text):
                m = re.search(r'\\n(\d+) bytes \(([^)]*)\)', label)
                if m:
                    self.file[title] = base
                    self.frame[title] = int(m.group(1))
                    self.kind[title] = m.group(2)
            for src, dst in edge.findall(text):
                if dst == "__indirect_call":
                    self.indirect.add(src)
                else:
                    self.calls.setdefault(src, []).append(dst)

    def resolve(self, name, in_file):
        """A callee's node title: a static function of in_file, or global."""
        for title in self.file:
            if title.endswith(":" + name) and self.file[title] == in_file:
                return title
        return name

    def short(self, title):
        return title.rsplit(":", 1)[-1]


def address_taken(prefix, work, graph):
    """(object's file, function) for every function whose address is taken."""
    found = []
    for obj in sorted(glob.glob(os.path.join(work, "*.o"))):
        base = os.path.basename(obj)[:-2] + ".c"
        out = subprocess.run([prefix + "readelf", "-rW", obj], check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 5 or not parts[2].startswith("R_"):
                continue
            kind, sym = parts[2], parts[4]
            name = sym[len(".text."):] if sym.startswith(".text.") else sym
            title = graph.resolve(name, base)
            if kind not in CALL_RELOCS and title in graph.file:
                found.append((base, title))
    return found


def check_layers(root, prefix, work):
    rank, errors = read_layers(root), []
    # A header belongs to the .c file of its name; handlers.h to the
    # handlers' line.
    owner = {"handlers.h": "handlers_keys.c"}
    for c in rank:
        owner.setdefault(c[:-2] + ".h", c)
    for path in sorted(glob.glob(os.path.join(root, "src/device/*.[ch]"))):
        me = os.path.basename(path)
        my_rank = rank.get(me, rank.get(owner.get(me, ""), None))
        if my_rank is None and me != "device.h":
            errors.append("%s is in no layer of src/device/LAYERS" % me)
            continue
        with open(path) as f:
            for n, line in enumerate(f, 1):
                m = re.match(r'\s*#\s*include\s+"device/([^"]+)"', line)
                if not m or m.group(1) in ("device.h", me):
                    continue
                target = m.group(1)
                if target not in owner:
                    errors.append("%s:%d includes unknown device/%s" % (me, n, target))
                elif me != "device.h" and (rank[owner[target]] < my_rank or
                        (rank[owner[target]] == my_rank and me.endswith(".c")
                         and owner[target] != me and target != "handlers.h")):
                    errors.append("%s:%d includes device/%s, a layer above or "
                                  "beside it" % (me, n, target))
    graph = Graph(work)
    uses = [(graph.file[s], s, d) for s, ds in graph.calls.items()
            if s in graph.file for d in ds]
    uses += [(f, "(address in %s)" % f, t) for f, t in address_taken(prefix, work, graph)]
    for caller_file, caller, callee in uses:
        callee = graph.resolve(callee, caller_file)
        if callee not in graph.file:
            continue  # libc, crypto, port: below the core
        a, b = caller_file, graph.file[callee]
        if a != b and rank[b] <= rank[a]:
            errors.append("%s: %s uses %s of %s, which is not a lower layer"
                          % (a, graph.short(caller), graph.short(callee), b))
    return errors, "layers of src/device/LAYERS hold (%d files)" % len(rank)


def check_static(root, prefix, work):
    errors = []
    for obj in sorted(glob.glob(os.path.join(work, "*.o"))):
        out = subprocess.run([prefix + "nm", obj], check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "bBdDCgGsS":
                errors.append("%s: writable static data %s (%s)"
                              % (os.path.basename(obj), parts[2], parts[0]))
    return errors, "no writable static data in the core"


def check_formats(root, prefix, work):
    errors, paths = [], set()
    for src in core_sources(root):  # each core file and its header
        paths.update([src] + glob.glob(src[:-2] + ".h"))
    paths.update(glob.glob(os.path.join(root, "src/device/*.h")))
    for path in sorted(paths):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                for m in re.finditer(r'"(?:[^"\\]|\\.)*"|PRI\w+', line):
                    if BAD_FORMAT.search(m.group(0)):
                        errors.append("%s:%d: %s" % (os.path.basename(path), n,
                                                     m.group(0)))
    return errors, "no %zu/%lld-style formats in the core"


def read_tree_layers(root):
    """src/LAYERS: {dir: dirs it may include}, [(path, dirs allowed)]."""
    allowed, only = {}, []
    with open(os.path.join(root, "src/LAYERS")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            head, _, rest = line.partition(":")
            if head.startswith("only "):
                only.append((head[5:].strip(), set(rest.split())))
            else:
                allowed[head.strip()] = set(rest.split())
    return allowed, only


def check_tree(root, prefix, work):
    allowed, only = read_tree_layers(root)
    errors, count = [], 0
    src = os.path.join(root, "src")
    for me in sorted(os.listdir(src)):
        if not os.path.isdir(os.path.join(src, me)):
            continue
        if me not in allowed:
            errors.append("src/%s is on no line of src/LAYERS" % me)
            continue
        for dirpath, _, files in sorted(os.walk(os.path.join(src, me))):
            for name in sorted(f for f in files if f.endswith((".c", ".h"))):
                count += 1
                path = os.path.join(dirpath, name)
                errors += tree_includes(path, os.path.relpath(path, root), me,
                                        allowed, only)
    return errors, "layers of src/LAYERS hold (%d files)" % count


def tree_includes(path, rel, me, allowed, only):
    errors = []
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*include\s+"(([^"/]+)/[^"]*)"', line)
            if not m or m.group(2) not in allowed:
                continue  # a header beside it, or another library's
            target, top = m.group(1), m.group(2)
            if top != me and top not in allowed[me]:
                errors.append("%s:%d: src/%s includes %s; src/LAYERS lets it "
                              "include %s" % (rel, n, me, target,
                              " ".join(sorted(allowed[me])) or "nothing"))
            for kept, dirs in only:
                if (target == kept or (kept.endswith("/") and
                        target.startswith(kept))) and me not in dirs | {top}:
                    errors.append("%s:%d: includes %s, which src/LAYERS keeps "
                                  "to %s" % (rel, n, target,
                                             " ".join(sorted(dirs | {top}))))
    return errors


def deepest(graph, targets, title, seen, memo, errors):
    """Largest stack from entering title, and the path."""
    if title in memo:
        return memo[title]
    if title in seen:
        errors.append("recursion through %s" % graph.short(title))
        return 0, []
    if graph.kind.get(title) != "static":
        errors.append("%s: frame is %s, not static" % (graph.short(title),
                                                       graph.kind.get(title)))
    seen.add(title)
    best, path = 0, []
    callees = [graph.resolve(c, graph.file[title]) for c in graph.calls.get(title, [])]
    if graph.short(title) == DISPATCH:
        callees += targets
    for callee in callees:
        if callee in graph.file:
            depth, sub = deepest(graph, targets, callee, seen, memo, errors)
            if depth > best:
                best, path = depth, sub
    seen.discard(title)
    memo[title] = (graph.frame[title] + best, [title] + path)
    return memo[title]


def check_stack(root, prefix, work, budget):
    graph, errors = Graph(work), []
    taken = address_taken(prefix, work, graph)
    targets = sorted({t for f, t in taken if f == "session.c"})
    for f, t in taken:
        if f != "session.c":
            errors.append("%s takes the address of %s: only the command table "
                          "may (update tests/core/check_core.py)" % (f, t))
    if not targets:
        errors.append("found no handlers in the command table")
    memo, lines, worst = {}, [], (0, [], "")
    for entry in ENTRY_POINTS:
        if entry not in graph.file:
            errors.append("entry point %s not found" % entry)
            continue
        depth, path = deepest(graph, targets, entry, set(), memo, errors)
        lines.append("  %-28s %5d bytes" % (entry, depth))
        if depth > worst[0]:
            worst = (depth, path, entry)
    depth, path, entry = worst
    report = ["stack: deepest path %d bytes (budget %d), from %s:" %
              (depth, budget, entry)]
    report += ["    %5d  %s" % (graph.frame[t], graph.short(t)) for t in path]
    report += ["  per entry point:"] + lines
    report.append("  (frames of the core only; %s; libc, crypto and the "
                  "port's callbacks are measured on the firmware)" %
                  ("arm-none-eabi-gcc -mcpu=cortex-m33 -Os" if prefix
                   else "host gcc -Os: arm-none-eabi-gcc not found"))
    if depth > budget:
        errors.append("deepest path %d bytes exceeds the budget of %d"
                      % (depth, budget))
    return errors, "\n".join(report)


# Per case: (check, file under src/, anchor or None to append, text put
# after the anchor). A file that does not exist is created.
BREAKAGE = [
    ("layers", "device/store.c", None, '\n#include "device/audit.h"\n'
     "void thsm_selftest_up(thsm_slot *s);\n"
     "void thsm_selftest_up(thsm_slot *s) { thsm_key_id(s, 0); }\n"),
    ("static", "device/audit.c", None, "int thsm_selftest_count(void);\n"
     "int thsm_selftest_count(void) { static int n; return ++n; }\n"),
    ("static", "util/pin.c", None, "int thsm_selftest_count(void);\n"
     "int thsm_selftest_count(void) { static int n; return ++n; }\n"),
    ("formats", "device/values.c", None, "int thsm_selftest_fmt(char *o, size_t n);\n"
     "int thsm_selftest_fmt(char *o, size_t n) "
     '{ return snprintf(o, n, "%zu", n); }\n'),
    ("stack", "device/handlers_log.c",
     "void thsm_h_log(thsm_device *dev, const thsm_params *ps)\n{\n",
     "    volatile char big[4096];\n    big[0] = 1;\n"
     "    thsm_resp_line(dev, \"%c\", big[0]);\n"),
    ("stack", "util/pin.c", "    size_t n = pin ? strlen(pin) : 0;\n",
     "    volatile char big[8192];\n    big[0] = 1;\n"
     "    if (big[0] != 1)\n        return 0;\n"),
]
# One include each line of src/LAYERS forbids, in a new file of the layer.
TREE_BREAKAGE = [
    ("proto", "crypto/util.h"), ("crypto", "host/hsm.h"),
    ("crypto", "util/hex.h"), ("util", "device/device.h"),
    ("util", "host/hsm.h"), ("port", "daemon/daemon.h"),
    ("port", "device/device.h"), ("boot", "cli/cli.h"),
    ("device", "host/hsm.h"), ("device", "cli/cli.h"),
    ("device", "daemon/daemon.h"), ("device", "pkcs11/pkcs11.h"),
    ("device", "crypto/x509_host.h"), ("boot", "crypto/x509_host.h"),
    ("host", "device/device.h"), ("host", "cli/cli.h"),
    ("cli", "device/device.h"), ("cli", "daemon/daemon.h"),
    ("cli", "port/port.h"), ("cli", "crypto/openssl/internal.h"),
    ("cli", "crypto/mbedtls/internal.h"), ("daemon", "cli/cli.h"),
    ("daemon", "crypto/openssl/internal.h"), ("pkcs11", "device/device.h"),
    ("pkcs11", "cli/cli.h"), ("pkcs11", "port/port.h"),
    ("newlayer", "util/hex.h"),
]
BREAKAGE += [("tree", "%s/selftest_break.c" % layer, None,
              '#include "%s"\n' % header) for layer, header in TREE_BREAKAGE]


def break_tree(root, tree, name, anchor, text):
    """A copy of the tree with text put into src/name; False when the
    anchor is gone."""
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(os.path.join(root, "src"), os.path.join(tree, "src"))
    shutil.copytree(os.path.join(root, "cmake"), os.path.join(tree, "cmake"))
    path = os.path.join(tree, "src", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    code = open(path).read() if os.path.exists(path) else ""
    if anchor is None:
        code += "\n" + text
    elif anchor in code:
        code = code.replace(anchor, anchor + text, 1)
    else:
        return False
    with open(path, "w") as f:
        f.write(code)
    return True


def selftest(root, work):
    failures = []
    for i, (check, name, anchor, text) in enumerate(BREAKAGE):
        tree = os.path.join(work, "tree-%d" % i)
        if not break_tree(root, tree, name, anchor, text):
            failures.append("selftest: %s no longer has its anchor" % name)
            continue
        out = os.path.join(work, "out-%d" % i)
        prefix = compile_core(tree, out)[0] if check != "tree" else ""
        if check == "stack":
            errors, _ = check_stack(tree, prefix, out, 4096)
        else:
            errors, _ = CHECKS[check](tree, prefix, out)
        print("%-8s %-26s %s" % (check, name, errors[:1] or "NOT CAUGHT"))
        if not errors:
            failures.append("%s did not catch %s in %s" % (check, text.strip(), name))
        shutil.rmtree(tree)
    return failures


CHECKS = {"layers": check_layers, "static": check_static,
          "formats": check_formats, "tree": check_tree}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("check", choices=["layers", "static", "formats", "stack",
                                      "tree", "selftest"])
    ap.add_argument("--root", required=True, help="the source tree")
    ap.add_argument("--work", required=True, help="a scratch directory")
    ap.add_argument("--budget", type=int, default=4096)
    args = ap.parse_args()
    args.root, args.work = os.path.abspath(args.root), os.path.abspath(args.work)
    if args.check == "selftest":
        errors = selftest(args.root, args.work)
        for e in errors:
            print("FAIL: " + e)
        return 1 if errors else 0
    prefix = compile_core(args.root, args.work)[0] if args.check != "tree" else ""
    if args.check == "stack":
        errors, report = check_stack(args.root, prefix, args.work, args.budget)
    else:
        errors, report = CHECKS[args.check](args.root, prefix, args.work)
    print(report)
    for e in errors:
        print("FAIL: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
