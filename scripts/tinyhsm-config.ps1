# Provision a TinyHSM with the variables of the original config script (the
# PowerShell twin of config_TinyHSM.sh: the same variables and arguments).
#   CA_COUNTRY CA_ORG CA_CN CA_START CA_DURATION
#   SIGNER_COUNTRY SIGNER_ORG SIGNER_CN SIGNER_START SIGNER_DURATION
#   NEW=all|signer (default all), PORT (e.g. COM5; default: tinyhsm's default)
#   YES=1|yes|true (replace an existing CA or signer without asking)
#   TINYHSM_PIN: the device PIN, needed when the device has one (on a
#   console tinyhsm asks for it instead)
#   TINYHSM: the tinyhsm.exe to run (default: the one beside this script,
#   else PATH)
# Set them as $env:CA_CN = 'Acme Root' before running the script. Unset
# dates start now; durations default to 3650 (CA) and 730 (signer) days.
# The arguments go to 'tinyhsm config' after the variables' options, so they
# win. See tinyhsm config --help.
$ErrorActionPreference = 'Stop'
$me = 'tinyhsm-config'
if ($args.Count -gt 0 -and ($args[0] -eq '--help' -or $args[0] -eq '-h')) {
    # the comment above
    Get-Content -LiteralPath $PSCommandPath | Select-Object -Skip 1 |
        ForEach-Object { if ($_ -notmatch '^#') { return }; $_ -replace '^# ?', '' } |
        Select-Object -First 13
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
$yes = YesNo 'YES' "$env:YES"
$opts = [System.Collections.Generic.List[string]]::new()
# Option NAME VALUE: NAME VALUE when VALUE is set
function Option([string]$name, [string]$value) {
    if ($value) { $opts.Add($name); $opts.Add($value) }
}
$opts.Add('config')
Option '--new' $(if ($env:NEW) { $env:NEW } else { 'all' })
Option '--ca-country' $env:CA_COUNTRY
Option '--ca-org' $env:CA_ORG
Option '--ca-cn' $env:CA_CN
Option '--ca-start' $env:CA_START
Option '--ca-days' $env:CA_DURATION
Option '--signer-country' $env:SIGNER_COUNTRY
Option '--signer-org' $env:SIGNER_ORG
Option '--signer-cn' $env:SIGNER_CN
Option '--signer-start' $env:SIGNER_START
Option '--signer-days' $env:SIGNER_DURATION
if ($yes -eq 1) { $opts.Add('--yes') }
$port = @()
if ($env:PORT) { $port = @('--port', $env:PORT) }
if (-not [Console]::IsInputRedirected) {
    & $tinyhsm @port @opts @args
    exit $LASTEXITCODE
}
# Without a console tinyhsm cannot ask: its advice names this script's way.
# (Continue: under Stop, Windows PowerShell ends at tinyhsm's first stderr line.)
$ErrorActionPreference = 'Continue'
& $tinyhsm @port @opts @args 2>&1 | ForEach-Object {
    if ($_ -is [System.Management.Automation.ErrorRecord]) {
        [Console]::Error.WriteLine(($_.ToString() -replace 'pass --yes to confirm',
            'set $env:YES = 1 (or pass --yes) to confirm'))
    } else { $_ }
}
exit $LASTEXITCODE
