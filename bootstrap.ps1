# Stage 0 of provision on Windows: the same contract as ./bootstrap (POSIX sh).
#
# Needs only Python 3.9 or newer (the py launcher, or python on PATH). Builds the kit's
# tool environment in .tools\ (git-ignored) from the hash-pinned requirements-tools.txt,
# then hands the arguments to invoke:
#   .\bootstrap.ps1                  -> invoke bootstrap
#   .\bootstrap.ps1 --dry-run ...    -> invoke bootstrap --dry-run ...
#   .\bootstrap.ps1 TASK ...         -> invoke TASK ...
#   .\bootstrap.ps1 --list|--help|--version -> invoke's own
# A CA bundle (--ca-bundle FILE, else PIP_CERT, else SSL_CERT_FILE) is used from the
# first pip call on, for networks that re-sign TLS.
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$tools = Join-Path $here ".tools"
$pins = Join-Path $here "requirements-tools.txt"

function Fail([string]$message) {
    [Console]::Error.WriteLine("bootstrap: $message")
    exit 1
}

# --- the CA bundle, from the arguments or the environment ---------------------------
$caBundle = ""
for ($i = 0; $i -lt $args.Count; $i++) {
    $a = [string]$args[$i]
    if ($a -eq "--ca-bundle") {
        if ($i + 1 -ge $args.Count) { Fail "--ca-bundle needs a file: .\bootstrap.ps1 --ca-bundle C:\path\to\corporate-ca.pem" }
        $caBundle = [string]$args[$i + 1]
    } elseif ($a.StartsWith("--ca-bundle=")) {
        $caBundle = $a.Substring(12)
    }
}
if (-not $caBundle) { $caBundle = if ($env:PIP_CERT) { $env:PIP_CERT } elseif ($env:SSL_CERT_FILE) { $env:SSL_CERT_FILE } else { "" } }
if ($caBundle) {
    if (-not (Test-Path -LiteralPath $caBundle -PathType Leaf)) {
        Fail "the CA bundle '$caBundle' is not a readable file (from --ca-bundle, PIP_CERT or SSL_CERT_FILE). Give the path of your organisation's CA certificate in PEM form."
    }
    if (-not (Select-String -LiteralPath $caBundle -SimpleMatch "-----BEGIN CERTIFICATE-----" -Quiet)) {
        Fail "the CA bundle '$caBundle' holds no PEM certificate. Export your organisation's root CA as 'Base-64 encoded X.509 (.CER)' and pass that file with --ca-bundle."
    }
}

# --- an interpreter -----------------------------------------------------------------
function Find-Python {
    if ($env:PROVISION_PYTHON) { return @($env:PROVISION_PYTHON) }
    if (Get-Command py -ErrorAction SilentlyContinue) { return @("py", "-3") }
    if (Get-Command python -ErrorAction SilentlyContinue) { return @("python") }
    Fail "no Python found. Install Python 3.9 or newer: winget install --id Python.Python.3.12 --exact (it brings the py launcher), then run .\bootstrap.ps1 again."
}

$py = Find-Python
$pyExe = $py[0]
$pyArgs = @($py | Select-Object -Skip 1)

$toolsPython = Join-Path $tools "Scripts\python.exe"
$stampFile = Join-Path $tools "requirements-tools.txt"
$ready = (Test-Path $toolsPython) -and (Test-Path $stampFile) -and
    ((Get-FileHash $pins).Hash -eq (Get-FileHash $stampFile).Hash)

if (-not $ready) {
    & $pyExe @pyArgs -c "import sys; sys.exit(sys.version_info < (3, 9))"
    if ($LASTEXITCODE -ne 0) { Fail "the kit needs Python 3.9 or newer. Install one with: winget install --id Python.Python.3.12 --exact" }
    [Console]::Error.WriteLine("bootstrap: creating the kit's tool environment in $tools")
    $partial = "$tools.partial"
    if (Test-Path $partial) { Remove-Item -Recurse -Force $partial }
    & $pyExe @pyArgs -m venv $partial
    if ($LASTEXITCODE -ne 0) { Fail "'python -m venv' failed (see above)." }
    $pipArgs = @("--disable-pip-version-check", "--no-input", "--quiet")
    if ($caBundle) { $pipArgs += @("--cert", $caBundle) }
    $log = "$tools.pip.log"
    & (Join-Path $partial "Scripts\python.exe") -m pip install @pipArgs --require-hashes --only-binary ":all:" -r $pins *> $log
    if ($LASTEXITCODE -ne 0) {
        Get-Content $log -Tail 15 | ForEach-Object { [Console]::Error.WriteLine($_) }
        $certFailure = Select-String -LiteralPath $log -SimpleMatch "CERTIFICATE_VERIFY_FAILED" -Quiet
        Remove-Item -Recurse -Force $partial, $log
        if ($certFailure) {
            Fail "pip cannot verify the package index's TLS certificate (CERTIFICATE_VERIFY_FAILED). This network re-signs TLS (export its root CA as Base-64 X.509 from the certificate viewer, or ask IT) or the CA bundle is stale: run .\bootstrap.ps1 --ca-bundle C:\path\to\corporate-ca.pem. Nothing was installed; verification stays on."
        }
        Fail "installing the kit's tools failed (pip's last lines above). Check the network or proxy (HTTPS_PROXY), then run .\bootstrap.ps1 again."
    }
    Remove-Item -Force $log
    Copy-Item $pins (Join-Path $partial "requirements-tools.txt")
    # venvs embed absolute paths: fix the partial path in pyvenv.cfg after the move
    if (Test-Path $tools) { Remove-Item -Recurse -Force $tools }
    Move-Item $partial $tools
    $cfg = Join-Path $tools "pyvenv.cfg"
    (Get-Content $cfg) -replace [regex]::Escape($partial), $tools | Set-Content $cfg
}

# --- hand over to invoke ------------------------------------------------------------
$rest = @($args)
$passThrough = @("-l", "--list", "-h", "--help", "-V", "--version", "--complete")
if ($rest.Count -eq 0) {
    $rest = @("bootstrap")
} elseif (([string]$rest[0]).StartsWith("-") -and -not ($passThrough -contains [string]$rest[0])) {
    $rest = @("bootstrap") + $rest
}
& $toolsPython -m invoke --search-root $here @rest
exit $LASTEXITCODE
