#!/usr/bin/env bash
# win.build: cross-compiles tinyhsm.exe (win/, as make windows does) into
# OUT and checks it is one static file: a PE32+ console program that needs
# no DLL but Windows' own. Skips (77), saying why, without mingw-w64.
# Usage: build.sh OUT [MBEDTLS_CACHE]
set -euo pipefail
out=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${2:-$root/build/mbedtls-src}
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    echo "SKIP: no x86_64-w64-mingw32-gcc (apt-get install gcc-mingw-w64-x86-64)"
    exit 77
fi
cmake -S "$root/win" -B "$out" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_TOOLCHAIN_FILE="$root/win/toolchain-mingw64.cmake" \
      -DTHSM_MBEDTLS_CACHE="$cache" >"$out.log" 2>&1 ||
    { cat "$out.log"; echo "FAIL: cmake could not configure win/"; exit 1; }
cmake --build "$out" -j"${JOBS:-1}" >>"$out.log" 2>&1 ||
    { tail -40 "$out.log"; echo "FAIL: tinyhsm.exe does not build"; exit 1; }
exe=$out/tinyhsm.exe
head=$(x86_64-w64-mingw32-objdump -f "$exe")
grep -q 'file format pei-x86-64' <<<"$head" || { echo "FAIL: not PE32+: $head"; exit 1; }
dlls=$(x86_64-w64-mingw32-objdump -p "$exe" | sed -n 's/^\s*DLL Name: //p' | tr 'A-Z' 'a-z' | sort)
# Windows' own DLLs only: nothing to ship beside the exe
for d in $dlls; do
    case $d in
        kernel32.dll|advapi32.dll|bcrypt.dll|msvcrt.dll|setupapi.dll|shell32.dll|user32.dll) ;;
        *) echo "FAIL: tinyhsm.exe needs $d, which Windows does not have"; exit 1 ;;
    esac
done
pe=$(x86_64-w64-mingw32-objdump -p "$exe")
grep -q 'Windows CUI' <<<"$pe" ||
    { echo "FAIL: not a console program"; exit 1; }
# The manifest (UTF-8 code page) is a resource in the file.
grep -aq 'activeCodePage' "$exe" || { echo "FAIL: no UTF-8 manifest in the exe"; exit 1; }
for ps1 in tinyhsm-sign.ps1 tinyhsm-config.ps1; do # beside the exe
    cmp -s "$out/$ps1" "$root/scripts/$ps1" ||
        { echo "FAIL: $ps1 is not beside tinyhsm.exe"; exit 1; }
done
echo "ok 1 - tinyhsm.exe builds: $(stat -c %s "$exe") bytes, DLLs: $(echo $dlls)"
echo "1 passed, 0 failed"
