#!/usr/bin/env python3
"""Checks that the AT protocol is spelled in one place: src/proto/.

  literals  no string literal in a .c or .h file under src/, tools/ or fw/
            (src/proto/ aside) spells an AT command ("AT", or any literal
            holding "AT+NAME"), an error code (a THSM_E_* value of
            src/proto/at.h, as a whole literal) or an audit log event (a
            THSM_EV_* value of src/proto/log.h, as a whole literal).
            Comments do not count. Use the macros of src/proto instead.
  docs      every command (THSM_CMD_*), error code (THSM_E_*) and log event
            (THSM_EV_*) of src/proto appears in docs/PROTOCOL.md.
  selftest  plants a literal of each kind in a copy of the tree (and a new
            code in a copy of at.h, and one in a comment, which must pass),
            removes a command and an error code from a copy of
            docs/PROTOCOL.md, and passes when each check catches what it
            must and nothing else.

The codes are read from src/proto/*.h, so a new one is covered at once.
Exit status 0 when the check holds, 1 when not (with the reasons).
"""
import argparse
import glob
import os
import re
import shutil
import sys
import tempfile

SCANNED = ("src", "tools", "fw")
KINDS = {"THSM_CMD_": "command", "THSM_E_": "error code", "THSM_EV_": "log event"}
AT_IN_TEXT = re.compile(r'(?<![A-Za-z0-9_])AT\+')


def read_codes(root):
    """{kind: {value: macro}} from every header of src/proto."""
    codes = {kind: {} for kind in KINDS.values()}
    define = re.compile(r'^\s*#\s*define\s+(THSM_(?:CMD|E|EV)_\w+)\s+"([^"]*)"',
                        re.M)
    for path in sorted(glob.glob(os.path.join(root, "src/proto/*.h"))):
        with open(path) as f:
            for macro, value in define.findall(f.read()):
                for prefix, kind in KINDS.items():
                    if macro.startswith(prefix):
                        codes[kind][value] = macro
    return codes


def literals(text):
    """(line, contents) of every string literal outside comments."""
    out, i, line, n = [], 0, 1, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if c == '"':
                out.append((line, text[i + 1:j]))
            i = j + 1
        else:
            line += c == "\n"
            i += 1
    return out


def source_files(root):
    for top in SCANNED:
        for path in sorted(glob.glob(os.path.join(root, top, "**", "*.[ch]"),
                                     recursive=True)):
            rel = os.path.relpath(path, root)
            if not rel.startswith(os.path.join("src", "proto") + os.sep):
                yield rel


def check_literals(root):
    codes = read_codes(root)
    errors = []
    for rel in source_files(root):
        with open(os.path.join(root, rel), errors="replace") as f:
            text = f.read()
        for line, lit in literals(text):
            what = None
            if lit in codes["command"] or AT_IN_TEXT.search(lit):
                what = "an AT command"
            elif lit in codes["error code"]:
                what = "error code " + codes["error code"][lit]
            elif lit in codes["log event"]:
                what = "log event " + codes["log event"][lit]
            if what:
                errors.append('%s:%d: "%s" spells %s: use src/proto' %
                              (rel, line, lit, what))
    return errors, "no AT, error-code or log-event literal outside src/proto"


def check_docs(root):
    codes = read_codes(root)
    path = os.path.join(root, "docs/PROTOCOL.md")
    if not os.path.exists(path):
        return ["docs/PROTOCOL.md is missing"], ""
    with open(path) as f:
        doc = f.read()
    errors, count = [], 0
    for kind, values in codes.items():
        for value, macro in sorted(values.items()):
            count += 1
            pattern = (r'(?<![A-Za-z0-9_+])' + re.escape(value) +
                       r'(?![A-Za-z0-9_+?])')
            if not re.search(pattern, doc):
                errors.append("docs/PROTOCOL.md does not mention %s %s (%s)"
                              % (kind, value, macro))
    return errors, "docs/PROTOCOL.md names all %d codes of src/proto" % count


def copy_tree(root, work):
    tree = tempfile.mkdtemp(prefix="tree-", dir=work)
    for top in SCANNED + ("docs",):
        if os.path.isdir(os.path.join(root, top)):
            shutil.copytree(os.path.join(root, top), os.path.join(tree, top))
    return tree


def append(tree, rel, text):
    with open(os.path.join(tree, rel), "a") as f:
        f.write("\n" + text + "\n")


def replace(tree, rel, old, new):
    path = os.path.join(tree, rel)
    if not os.path.exists(path):
        return False
    with open(path) as f:
        text = f.read()
    if old not in text:
        return False
    with open(path, "w") as f:
        f.write(text.replace(old, new))
    return True


# (name, file, text appended, whether check_literals must newly fail on it)
PLANTS = [
    ("command", "src/device/session.c",
     'static const char *const thsm_selftest = "AT+SIGNER_SIGN HASH=";', True),
    ("bare AT", "tools/tinyhsmd-qemu.c",
     'static const char *const thsm_selftest = "AT";', True),
    ("command in a message", "fw/main.c",
     'static const char *const thsm_selftest = "send AT+AUTH first";', True),
    ("error code", "src/device/framing.c",
     'static const char *const thsm_selftest = "NO_SIGNER_CERT";', True),
    ("log event", "src/device/audit.c",
     'static const char *const thsm_selftest = "RECORDS_FOREIGN";', True),
    ("code added to at.h", "src/device/values.c",
     'static const char *const thsm_selftest = "SELFTEST_NEW";', True),
    ("comments", "src/device/values.c",
     '/* "AT+RESET" "BAD_PARAM" */ // "SIGN" "AT"\n'
     'static const char *const thsm_selftest = "AT is fine";', False),
]


def selftest_literals(root, work):
    failures = []
    for name, rel, text, must_fail in PLANTS:
        tree = copy_tree(root, work)
        before, _ = check_literals(tree)
        append(tree, rel, text)
        if name == "code added to at.h":
            append(tree, "src/proto/at.h",
                   '#define THSM_E_SELFTEST_NEW "SELFTEST_NEW"')
        after, _ = check_literals(tree)
        new = [e for e in after if e not in before]
        caught = any(e.startswith(rel + ":") for e in new)
        print("literals, %-22s %s" % (name + ":", new[:1] or "passes"))
        if must_fail and not caught:
            failures.append("literals did not catch the %s in %s" % (name, rel))
        if not must_fail and new:
            failures.append("literals flagged the %s in %s" % (name, rel))
        shutil.rmtree(tree)
    return failures


def selftest_docs(root, work):
    failures = []
    tree = copy_tree(root, work)
    errors, _ = check_docs(tree)
    if errors:
        failures.append("docs fails on the tree as it is: %s" % errors[0])
    cases = [
        ("a command removed", lambda: replace(tree, "docs/PROTOCOL.md",
                                              "AT+LOGOUT", "AT+LOG_OUT"),
         "AT+LOGOUT"),
        ("an error code removed", lambda: replace(tree, "docs/PROTOCOL.md",
                                                  "NO_SIGNER_CERT", "NO-CERT"),
         "NO_SIGNER_CERT"),
        ("a code added to at.h", lambda: append(
            tree, "src/proto/at.h", '#define THSM_E_SELFTEST_NEW "SELFTEST_NEW"')
         or True, "SELFTEST_NEW"),
    ]
    for name, breakage, code in cases:
        if not breakage():
            failures.append("selftest: docs/PROTOCOL.md has no %s to remove" % code)
            continue
        errors, _ = check_docs(tree)
        print("docs, %-22s %s" % (name + ":", errors[:1] or "NOT CAUGHT"))
        if not any(" %s " % code in e for e in errors):
            failures.append("docs did not catch %s" % name)
    shutil.rmtree(tree)
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("check", choices=["literals", "docs", "selftest"])
    ap.add_argument("--root", required=True, help="the source tree")
    ap.add_argument("--work", help="a scratch directory (selftest)")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if args.check == "selftest":
        work = os.path.abspath(args.work or tempfile.gettempdir())
        os.makedirs(work, exist_ok=True)
        errors = selftest_literals(root, work) + selftest_docs(root, work)
        report = "each check fails on a tree broken on purpose"
    elif args.check == "literals":
        errors, report = check_literals(root)
    else:
        errors, report = check_docs(root)
    for e in errors:
        print("FAIL: " + e)
    if not errors:
        print(report)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
