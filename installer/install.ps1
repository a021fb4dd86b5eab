# magic-gimp installer for Windows: finds a Python 3.9+ and runs install.py.
# Usage (PowerShell):  powershell -ExecutionPolicy Bypass -File installer\install.ps1 [options]
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$script = Join-Path $here "install.py"
$candidates = @(@("py", "-3"), @("python"), @("python3"))
foreach ($candidate in $candidates) {
    $exe = $candidate[0]
    $pre = @($candidate | Select-Object -Skip 1)
    if (-not (Get-Command $exe -ErrorAction SilentlyContinue)) { continue }
    & $exe @pre -c "import sys; sys.exit(sys.version_info < (3, 9))" 2>$null
    if ($LASTEXITCODE -eq 0) {
        & $exe @pre $script @args
        exit $LASTEXITCODE
    }
}
Write-Error "magic-gimp needs Python 3.9 or newer (3.10+ for the server): install it from https://www.python.org/downloads/ (tick 'Add python.exe to PATH')."
exit 1
