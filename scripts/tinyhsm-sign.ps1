# Sign a firmware with the variables of the original sign script (the
# PowerShell twin of sign.sh: the same variables, the same arguments).
#   BOARD (required), VERSION or VERSION_FILE (application_version.h),
#   FIRMWARE (else the firmware is among the arguments), OUTPUT
#   (signed_binary.bin), CERT_OUT (stsafe_signer_cert.pem), SIGGEN (SigGen.c),
#   MAX_SIZE, PORT (e.g. COM5), TRUST (SigGen.c, certificate or public key the
#   signer key must match), FORCE=1|yes|true (sign what the preflight checks
#   refuse)
#   TINYHSM_PIN: the device PIN, needed when the device has one (on a
#   console tinyhsm asks for it instead)
#   TINYHSM: the tinyhsm.exe to run (default: the one beside this script,
#   else PATH)
# Set them as $env:BOARD = 'B-U585I-IOT02A' before running the script. The
# arguments go to 'tinyhsm sign' after the variables' options, so they win:
# tinyhsm-sign.ps1 [-o FILE] [--json] ... FIRMWARE. See tinyhsm sign --help.
$ErrorActionPreference = 'Stop'
$me = 'tinyhsm-sign'
if ($args.Count -gt 0 -and ($args[0] -eq '--help' -or $args[0] -eq '-h')) {
    # the comment above
    Get-Content -LiteralPath $PSCommandPath | Select-Object -Skip 1 |
        ForEach-Object { if ($_ -notmatch '^#') { return }; $_ -replace '^# ?', '' } |
        Select-Object -First 14
    exit 0
}
$tinyhsm = $env:TINYHSM
if (-not $tinyhsm) {
    $beside = Join-Path $PSScriptRoot 'tinyhsm.exe'
    $tinyhsm = if (Test-Path -LiteralPath $beside) { $beside } else { 'tinyhsm' }
}
# YesNo NAME VALUE: 1 for 1/yes/true, 0 for unset/0/no/false, else refused
function YesNo([string]$name, [string]$value) {
    switch ($value.ToLowerInvariant()) {
        { $_ -in '1', 'yes', 'true' } { return 1 }
        { $_ -in '', '0', 'no', 'false' } { return 0 }
    }
    [Console]::Error.WriteLine("${me}: $name must be 1, yes or true (or 0, no, false), not '$value'")
    exit 2
}
if (-not $env:BOARD) {
    [Console]::Error.WriteLine("${me}: set BOARD, e.g. `$env:BOARD = 'B-U585I-IOT02A'")
    exit 2
}
$force = YesNo 'FORCE' "$env:FORCE"
if (-not $env:FIRMWARE -and $args.Count -eq 0) {
    [Console]::Error.WriteLine("usage: `$env:BOARD = ...; `$env:VERSION = 'x.y.z'; $me FIRMWARE.bin")
    exit 2
}
$opts = [System.Collections.Generic.List[string]]::new()
# Option NAME VALUE: NAME VALUE when VALUE is set
function Option([string]$name, [string]$value) {
    if ($value) { $opts.Add($name); $opts.Add($value) }
}
$opts.Add('sign')
Option '--board' $env:BOARD
if ($env:VERSION) {
    Option '--version' $env:VERSION
} else {
    Option '--version-file' $(if ($env:VERSION_FILE) { $env:VERSION_FILE } else { 'application_version.h' })
}
Option '-o' $env:OUTPUT
Option '--cert-out' $env:CERT_OUT
Option '--siggen' $env:SIGGEN
Option '--max-size' $env:MAX_SIZE
Option '--trust' $env:TRUST
if ($force -eq 1) { $opts.Add('--force') }
$port = @()
if ($env:PORT) { $port = @('--port', $env:PORT) }
$fw = @()
if ($env:FIRMWARE) { $fw = @($env:FIRMWARE) }
& $tinyhsm @port @opts @args @fw
exit $LASTEXITCODE
