#!/usr/bin/env python3
"""The PowerShell wrappers against their shell twins, without PowerShell.

pwsh is not in Debian's mirror, so the .ps1 files cannot run here. This
reads the part of each .ps1 that builds tinyhsm's command line (a small,
fixed subset of PowerShell: see ps1_argv) and evaluates it for many sets
of variables; the .sh twin runs for the same variables with TINYHSM set to
a stub that prints its arguments. The two command lines must be equal. It
also checks that each .ps1 reads every variable its twin reads, documents
it, and refuses a bad FORCE/YES value with the same message.

Usage: check_ps1.py [selftest] SCRIPTS_DIR (selftest: each of a list of
broken copies must be caught).
"""
import os
import re
import subprocess
import sys
import tempfile

PAIRS = {  # .sh twin -> (.ps1, name in messages)
    "sign.sh": ("tinyhsm-sign.ps1", "tinyhsm-sign"),
    "config_TinyHSM.sh": ("tinyhsm-config.ps1", "tinyhsm-config"),
}
def yes_no(text, value):
    """The .ps1's YesNo: its switch's lists of values for 1 and 0."""
    v = (value or "").lower()
    for m in re.finditer(r"\{ \$_ -in ([^}]*) \} \{ return (\d) \}", text):
        if v in re.findall(r"'([^']*)'", m.group(1)):
            return int(m.group(2))
    return None


def ps_value(expr, env):
    """$env:V, 'literal', or $(if ($env:V) { $env:V } else { 'D' })."""
    expr = expr.strip()
    m = re.fullmatch(r"\$env:(\w+)", expr)
    if m:
        return env.get(m.group(1), "")
    m = re.fullmatch(r"'([^']*)'", expr)
    if m:
        return m.group(1)
    m = re.fullmatch(r"\$\(if \(\$env:(\w+)\) \{ \$env:(\w+) \} else \{ '([^']*)' \}\)", expr)
    if m and m.group(1) == m.group(2):
        return env.get(m.group(1)) or m.group(3)
    raise ValueError("unknown expression: " + expr)


def ps_argv(text, env, args):
    """tinyhsm's arguments as the .ps1 builds them, or an exit status."""
    lines = text.splitlines()
    # from after 'function Option' (which adds NAME VALUE when VALUE is set)
    fn = next(i for i, l in enumerate(lines) if l.startswith("function Option("))
    start = next(i for i in range(fn, len(lines)) if lines[i] == "}")
    lists = {"opts": [], "port": [], "fw": [], "args": list(args)}
    flags = {"force": yes_no(text, env.get("FORCE")), "yes": yes_no(text, env.get("YES"))}
    for name, v in flags.items():
        if v is None and re.search(r"\$%s = YesNo" % name, text):
            return 2
    if "$env:BOARD)" in text and not env.get("BOARD"):
        return 2
    if "$env:FIRMWARE -and $args.Count -eq 0" in text and not env.get("FIRMWARE") and not args:
        return 2
    stack = []  # are we in a taken branch?
    for line in lines[start + 1:]:
        s = line.strip()
        live = all(stack)
        if s.startswith("& $tinyhsm"):
            out = []
            for part in s.split()[2:]:
                if part.startswith("@"):
                    out += lists[part[1:]]
                elif part not in ("2>&1", "|", "ForEach-Object", "{"):
                    raise ValueError("unknown call part: " + part)
            return out
        if s.startswith("#") or s == "" or re.fullmatch(r"\$(port|fw) = @\(\)", s):
            continue
        m = re.fullmatch(r"if \(\$env:(\w+)\) \{", s)
        if m:
            stack.append(bool(env.get(m.group(1))))
            continue
        if s == "} else {":
            stack[-1] = not stack[-1]
            continue
        if s == "}":
            stack.pop()
            continue
        m = re.fullmatch(r"\$opts\.Add\('([^']*)'\)", s)
        if m:
            if live:
                lists["opts"].append(m.group(1))
            continue
        m = re.fullmatch(r"Option '([^']*)' (.*)", s)
        if m:
            v = ps_value(m.group(2), env)
            if live and v:
                lists["opts"] += [m.group(1), v]
            continue
        m = re.fullmatch(r"if \(\$(\w+) -eq 1\) \{ \$opts\.Add\('([^']*)'\) \}", s)
        if m:
            if live and flags[m.group(1)] == 1:
                lists["opts"].append(m.group(2))
            continue
        m = re.fullmatch(r"if \(\$env:(\w+)\) \{ \$(\w+) = @\((.*)\) \}", s)
        if m:
            if live and env.get(m.group(1)):
                lists[m.group(2)] = [ps_value(x, env) for x in m.group(3).split(",")]
            continue
        if s.startswith("if (-not [Console]::IsInputRedirected)") or \
                s.startswith("$ErrorActionPreference") or s == "exit $LASTEXITCODE":
            continue
        raise ValueError("line the check does not know: " + s)
    raise ValueError("no '& $tinyhsm' call")


SH_CACHE = {}


def sh_argv(name, sh_text, env, args, tmp):
    """What the .sh runs (a stub tinyhsm prints it), or its exit status."""
    key = (name, sh_text, tuple(sorted(env.items())), tuple(args))
    if key not in SH_CACHE:
        script = os.path.join(tmp, name)
        with open(script, "w") as f:
            f.write(sh_text)
        full = {"PATH": os.environ["PATH"], "TINYHSM": os.path.join(tmp, "tinyhsm"), **env}
        r = subprocess.run(["bash", script, *args], env=full, stdin=subprocess.DEVNULL,
                           capture_output=True)
        SH_CACHE[key] = r.returncode if r.returncode else r.stdout.decode().split("\0")[:-1]
    return SH_CACHE[key]


def cases(sh_text):
    """Variable sets: each variable alone, all of them, bad flag values."""
    # upper-case variables; TINYHSM (which program runs) is the stub here
    names = sorted(set(re.findall(r"\$\{([A-Z_]+):-", sh_text)) - {"TINYHSM"})
    base = {"BOARD": "NUCLEO-G071RB"} if "BOARD" in names else {}
    out = [(base, ["fw.bin"]), ({}, ["fw.bin"]), (base, []), (base, ["-o", "x y.bin", "--json"])]
    for n in names:
        out.append(({**base, n: "v-" + n.lower()}, ["fw.bin"]))
    for flag in ("FORCE", "YES"):
        if flag in names:
            out += [({**base, flag: v}, ["fw.bin"]) for v in ("1", "Yes", "TRUE", "0", "no", "sure")]
    out.append(({n: "all " + n.lower() for n in names} | base, ["--json"]))
    return names, out


def check_pair(texts, sh, ps1, me, tmp, quiet=False):
    """Problems of the pair sh/ps1 (texts: file name -> text)."""
    sh_text, ps_text = texts[sh], texts[ps1]
    problems = []
    names, todo = cases(sh_text)
    head = "".join(l for l in ps_text.splitlines(True) if l.startswith("#"))
    for n in names:
        if "$env:" + n not in ps_text:
            problems.append(f"{ps1} does not read {n}")
        if n not in head:
            problems.append(f"{ps1}'s help does not name {n}")
    for n in ("TINYHSM_PIN", "TINYHSM"):
        if n not in head:
            problems.append(f"{ps1}'s help does not name {n}")
    if "$tinyhsm = $env:TINYHSM" not in ps_text or "'tinyhsm.exe'" not in ps_text:
        problems.append(f"{ps1} does not run $env:TINYHSM, else the tinyhsm.exe beside it")
    if "must be 1, yes or true (or 0, no, false), not '$value'" not in ps_text:
        problems.append(f"{ps1} lacks the FORCE/YES refusal of its twin")
    if f"$me = '{me}'" not in ps_text:
        problems.append(f"{ps1} does not call itself {me}")
    for env, args in todo:
        want = sh_argv(sh, sh_text, env, args, tmp)
        try:
            got = ps_argv(ps_text, env, args)
        except ValueError as e:
            problems.append(f"{ps1}: {e}")
            break
        if got != want:
            problems.append(f"{ps1} with {env} {args}: {got}, {sh} runs {want}")
    if not problems and not quiet:
        print(f"ok - {ps1}: {len(todo)} sets of variables build {sh}'s command line "
              f"({len(names)} variables)")
    return problems


# selftest: broken copies (file, text, replacement, problem expected)
MUTANTS = [
    ("tinyhsm-sign.ps1", "'--cert-out'", "'--cert'", "tinyhsm-sign.ps1 with"),
    ("tinyhsm-sign.ps1", "Option '--trust' $env:TRUST\n", "", "does not read TRUST"),
    ("tinyhsm-sign.ps1", "@args @fw", "@fw @args", "tinyhsm-sign.ps1 with"),
    ("tinyhsm-sign.ps1", "{ 'application_version.h' }", "{ 'version.h' }",
     "tinyhsm-sign.ps1 with"),
    ("tinyhsm-config.ps1", "{ 'all' }", "{ 'signer' }", "tinyhsm-config.ps1 with"),
    ("tinyhsm-config.ps1", "'1', 'yes', 'true'", "'1', 'yes'", "tinyhsm-config.ps1 with"),
    ("tinyhsm-config.ps1", "CA_START CA_DURATION", "CA_DURATION",
     "help does not name CA_START"),
    ("tinyhsm-config.ps1", "$me = 'tinyhsm-config'", "$me = 'config'", "call itself"),
    ("config_TinyHSM.sh", "add --ca-org", "add --ca-organization", "tinyhsm-config.ps1 with"),
    ("sign.sh", "args+=(--force)", "args+=(--force --json)", "tinyhsm-sign.ps1 with"),
]


def main():
    selftest = sys.argv[1:2] == ["selftest"]
    d = sys.argv[-1]
    texts = {}
    for sh, (ps1, _) in PAIRS.items():
        for name in (sh, ps1):
            with open(os.path.join(d, name)) as f:
                texts[name] = f.read()
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        stub = os.path.join(tmp, "tinyhsm")
        with open(stub, "w") as f:
            f.write('#!/bin/sh\nprintf "%s\\0" "$@"\n')
        os.chmod(stub, 0o755)
        for sh, (ps1, me) in PAIRS.items():
            for p in check_pair(texts, sh, ps1, me, tmp):
                bad += 1
                print("FAIL: " + p)
        if selftest and not bad:
            for name, old, new, want in MUTANTS:
                if old not in texts[name]:
                    print(f"FAIL: {name} has no '{old}' to break")
                    bad += 1
                    continue
                broken = {**texts, name: texts[name].replace(old, new, 1)}
                sh = next(s for s, (p, _) in PAIRS.items() if name in (s, p))
                ps1, me = PAIRS[sh]
                found = check_pair(broken, sh, ps1, me, tmp, quiet=True)
                if any(want in p for p in found):
                    print(f"ok - caught: {name}: '{old}' -> '{new}'")
                else:
                    print(f"FAIL: not caught: {name}: '{old}' -> '{new}' ({found})")
                    bad += 1
    print(f"{'FAILED' if bad else 'passed'}: {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
