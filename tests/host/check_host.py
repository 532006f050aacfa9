#!/usr/bin/env python3
"""Checks the host library (src/host) and the command line (src/cli) keep the
rules of a reentrant library (issue 14, docs/DECISIONS.md):

  static    no writable static or global data (.data, .bss, common, TLS) in
            any object: buffers live in the caller's structures. The one
            exception is atomic_file.c's table of temporaries for the signal
            handler (ALLOWED, and its Windows twin for the console's Ctrl+C
            handler), which cannot be reached any other way. The *_win32.c
            files (tinyhsm.exe, win/) are compiled with mingw-w64 when it is
            installed; else they are named as not checked.
  literals  no AT command and no device error code spelled as a string
            literal: they come from src/proto/at.h.
  selftest  breaks a copy of the tree (a static buffer, an "AT+" literal, an
            error-code literal) and passes when each check above fails on it.

Exit status 0 when the check holds, 1 when not (with the reasons).
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

DIRS = ["src/host", "src/cli"]
ALLOWED = {("src/host/atomic_file.c", "temps"),
           ("src/host/atomic_file_win32.c", "temps")}
MINGW = "x86_64-w64-mingw32-gcc"
COMPAT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "win", "compat.h")
# writable sections; .data.rel.ro is read-only once relocated
WRITABLE = re.compile(r"\s(\.data(?!\.rel\.ro)|\.bss|\*COM\*|\.tdata|\.tbss)"
                      r"(\.\S+)?\s")


def sources(root, ext):
    out = []
    for d in DIRS:
        for p in sorted(glob.glob(os.path.join(root, d, "*" + ext))):
            out.append(os.path.relpath(p, root))
    return out


def pkg_cflags(name):
    """The include flags of a pkg-config package (p11-kit), or none."""
    r = subprocess.run(["pkg-config", "--cflags", name], capture_output=True,
                       text=True)
    return r.stdout.split() if r.returncode == 0 else []


def posix_symbols(root, rel, obj, extra):
    """Writable data symbols of a file compiled for Linux, or an error."""
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L",
                        "-D_DEFAULT_SOURCE", "-I", os.path.join(root, "src"),
                        *extra, "-c", os.path.join(root, rel), "-o", obj],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr
    syms = subprocess.run(["objdump", "-t", obj], capture_output=True,
                          text=True, check=True).stdout
    names = []
    for line in syms.splitlines():
        m = WRITABLE.search(line)
        if not m or line.rstrip().endswith(m.group(1)):
            continue  # a section symbol, not a variable
        names.append(line.split()[-1])
    return names, ""


def win_symbols(root, rel, obj):
    """The same for a _win32.c file, compiled with mingw-w64 as win/ does."""
    r = subprocess.run([MINGW, "-std=c11", "-include", COMPAT,
                        "-D_WIN32_WINNT=0x0A00", "-DUNICODE", "-I",
                        os.path.join(root, "src"), "-c",
                        os.path.join(root, rel), "-o", obj],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr
    syms = subprocess.run(["x86_64-w64-mingw32-nm", obj], capture_output=True,
                          text=True, check=True).stdout
    return [ln.split()[-1] for ln in syms.splitlines()
            if len(ln.split()) == 3 and ln.split()[1] in "bBdDC"], ""


def check_static(root):
    extra = pkg_cflags("p11-kit-1")
    have_mingw = shutil.which(MINGW) is not None
    bad, unchecked = [], []
    with tempfile.TemporaryDirectory() as work:
        obj = os.path.join(work, "x.o")
        for rel in sources(root, ".c"):
            if rel.endswith("_win32.c") and not have_mingw:
                unchecked.append(rel)
                continue
            names, err = (win_symbols(root, rel, obj)
                          if rel.endswith("_win32.c")
                          else posix_symbols(root, rel, obj, extra))
            if names is None:
                bad.append("%s: does not compile:\n%s" % (rel, err))
                continue
            for name in names:
                if name.startswith(".") or (rel, name) in ALLOWED:
                    continue
                bad.append("%s: writable static or global '%s'" % (rel, name))
    if unchecked:
        print("static: not checked without %s: %s" % (MINGW, ", ".join(unchecked)))
    return bad


def error_codes(root):
    text = open(os.path.join(root, "src/proto/at.h")).read()
    return re.findall(r'#define THSM_E_\w+ "(\w+)"', text)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"),
                  text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def check_literals(root):
    codes = error_codes(root)
    if not codes:
        return ["src/proto/at.h: no THSM_E_ error codes found"]
    code_re = re.compile(r"\b(%s)\b" % "|".join(codes))
    bad = []
    for rel in sources(root, ".c") + sources(root, ".h"):
        text = strip_comments(open(os.path.join(root, rel)).read())
        for n, line in enumerate(text.splitlines(), 1):
            for lit in re.findall(r'"((?:[^"\\\n]|\\.)*)"', line):
                if lit.startswith("AT+") or lit == "AT":
                    bad.append("%s:%d: AT command literal \"%s\"" % (rel, n, lit))
                elif code_re.search(lit):
                    bad.append("%s:%d: error code in literal \"%s\""
                               % (rel, n, lit))
    return bad


CHECKS = {"static": check_static, "literals": check_literals}


def selftest(root):
    breaks = {
        "static": ("src/host/hsm.c", "\nstatic char thsm_selftest_buf[64];\n"
                   "char *thsm_selftest(void);\nchar *thsm_selftest(void)"
                   " { return thsm_selftest_buf; }\n"),
        "literals": ("src/cli/cmd_info.c", "\nstatic const char *const "
                     "selftest_cmd = \"AT+VERSION?\";\n"),
    }
    failures = []
    for check, (rel, extra) in breaks.items():
        with tempfile.TemporaryDirectory() as work:
            copy = os.path.join(work, "tree")
            shutil.copytree(os.path.join(root, "src"), os.path.join(copy, "src"))
            with open(os.path.join(copy, rel), "a") as f:
                f.write(extra)
            if not CHECKS[check](copy):
                failures.append("%s: did not fail on %s broken on purpose"
                                % (check, rel))
    # an error code, too
    with tempfile.TemporaryDirectory() as work:
        copy = os.path.join(work, "tree")
        shutil.copytree(os.path.join(root, "src"), os.path.join(copy, "src"))
        with open(os.path.join(copy, "src/host/hsm.c"), "a") as f:
            f.write('\nstatic const char *const selftest_code = "NO_CA";\n')
        if not check_literals(copy):
            failures.append("literals: did not fail on an error-code literal")
    for check in CHECKS:  # and the tree as it is passes
        if CHECKS[check](root):
            failures.append("%s: fails on the tree itself" % check)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("check", choices=sorted(CHECKS) + ["selftest"])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", ".."))
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    bad = selftest(root) if a.check == "selftest" else CHECKS[a.check](root)
    for b in bad:
        print(b)
    print("%s: %s" % (a.check, "FAIL" if bad else "ok"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
