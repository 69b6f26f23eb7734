# What every part shares: steps, native commands, waiting, background commands.
# Dot-sourced by build.ps1, which holds the parameters and the constants these functions use.

# Each step shows the time since the command started: where a slow run spends its time is then plain.
function Write-Step([string] $Message) { Write-Host ("==> [{0:mm\:ss}] {1}" -f $script:Clock.Elapsed, $Message) -ForegroundColor Cyan }

function Invoke-Native {
    # Runs a native command and fails the build when it fails, echoing its output on failure only. -InputText
    # goes to its standard input (how a file reaches a command that runs as another OS user, see Initialize-RabbitMq).
    param([string] $Command, [string[]] $Arguments, [switch] $Quiet, [switch] $AllowFailure, [string] $InputText)
    $output = if ($InputText) { $InputText | & $Command @Arguments 2>&1 } else { & $Command @Arguments 2>&1 }
    $code = $LASTEXITCODE
    if ($code -ne 0 -and -not $AllowFailure) {
        $output | ForEach-Object { Write-Host $_ }
        throw "'$Command $($Arguments -join ' ')' failed with exit code $code"
    }
    if (-not $Quiet) { $output | ForEach-Object { Write-Host $_ } }
    return $code
}

function Test-Command([string] $Name) { [bool](Get-Command $Name -ErrorAction SilentlyContinue) }

# A failure this script foresees, said in one sentence: the top level prints every failure as one line,
# without PowerShell's frame of code around it (CONVEYOR_TRACE=1 adds the script's stack).
function Stop-Build([string] $Message) { throw $Message }

function Test-Root { (& id -u) -eq '0' }

function Wait-Until {
    param([scriptblock] $Condition, [int] $TimeoutSeconds, [string] $What)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        if (& $Condition) { return }
        Start-Sleep -Milliseconds 250
    }
    throw "Timed out after $TimeoutSeconds s waiting for $What"
}

function Test-Http([string] $Url) {
    # 15 s: a process just started on a busy machine took up to 10 s to answer its first request (JIT);
    # giving up after 3 s only started the same slow request again.
    try { (Invoke-WebRequest -Uri $Url -TimeoutSec 15 -SkipHttpErrorCheck).StatusCode -eq 200 } catch { $false }
}

function Start-InBackground([string] $Name, [string] $CommandLine) {
    # A shell command run detached: output in <name>.log, exit code in <name>.rc for Wait-InBackground. Its
    # own output is redirected and the group's goes to /dev/null, so nothing holds this script's pipe open.
    $log = Join-Path $LogDir "$Name.log"
    $rc = Join-Path $RunDir "$Name.rc"
    Remove-Item $rc -ErrorAction SilentlyContinue
    & bash -c "{ cd '$Root'; $CommandLine > '$log' 2>&1; echo `$? > '$rc.tmp'; mv '$rc.tmp' '$rc'; } > /dev/null 2>&1 < /dev/null &"
}

function Wait-InBackground([string] $Name, [string] $What, [int] $TimeoutSeconds, [switch] $AllowFailure) {
    $rc = Join-Path $RunDir "$Name.rc"
    Wait-Until { Test-Path $rc } $TimeoutSeconds $What
    $code = [int](Get-Content $rc -Raw)
    Remove-Item $rc
    if ($code -ne 0 -and -not $AllowFailure) {
        Get-Content (Join-Path $LogDir "$Name.log") | ForEach-Object { Write-Host $_ }
        throw "$What failed (exit code $code)"
    }
}
