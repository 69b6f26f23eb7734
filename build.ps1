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
      topology  write the files derived from Topology/SystemTopology.cs (deploy/topology.json, the broker
              definitions of a local run, compose and the Helm chart, Prometheus's local targets)
      bench   a fresh system under load: the raw baseline, one instance per endpoint, then two; writes a
              Markdown summary, JSON and PNG charts to .artifacts/bench (-Quick: a short smoke run;
              -BenchDuration, -BenchWarmup, -Concurrency, -Rate for open-loop load, -Instances for
              the scale-out phase)
      chaos   the fault suite against the real processes: kill -9 of every process mid-burst, a surviving
              instance, PostgreSQL and RabbitMQ restarts, dropped connections, a slow and an absent SMTP
              server, a soak; report in .artifacts/chaos (-ChaosOrders: burst size, 100; -Soak: its length,
              00:20:00; -SoakRate: orders/s, 7)

    Run it through ./build.sh, which restores the pinned PowerShell from the tool manifest first.
    The targets that touch the infrastructure (infra, up, demo, down, test, bench, chaos) need root: they
    install packages with apt-get and start and set up RabbitMQ and PostgreSQL; build and status run as anyone.
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'infra', 'test', 'up', 'down', 'demo', 'status', 'bench', 'chaos', 'topology')]
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
    [double] $SoakRate = 7
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$Artifacts = Join-Path $Root '.artifacts'
$RunDir = Join-Path $Artifacts 'run'
$LogDir = Join-Path $RunDir 'logs'
$TestResults = Join-Path $Artifacts 'test-results'

# The system's shape, generated from Topology/SystemTopology.cs (./build.sh topology): the processes a local run
# starts, their projects and ports, the endpoints' databases, roles and broker users.
$Topology = Get-Content (Join-Path $Root 'deploy/topology.json') -Raw | ConvertFrom-Json
$Processes = @($Topology.processes)

# LOCAL DEVELOPMENT DEFAULTS ONLY. These credentials exist on the developer's own machine, created by this script:
# the broker's operator user (management UI, the tests' direct access) and, per endpoint, its own password for its
# broker user and database role (the topology's developmentPassword). Deployments take theirs from secrets (deploy/).
$RabbitUser = $Topology.operatorUser
$DevPassword = $Topology.operatorDevelopmentPassword
$RabbitVhost = $Topology.vhosts.run
$TestRabbitVhost = $Topology.vhosts.tests
$BenchRabbitVhost = $Topology.vhosts.bench
$BusinessEndpoints = @($Processes | Where-Object { $_.PSObject.Properties['business'] -and $_.business })
$NodeEndpoints = @($Processes | Where-Object runtime -eq 'node')
# Each endpoint owns one database and one role; the tests and the bench get databases of their own
# (<database>_systest, <database>_bench), the in-process tests and the raw baseline one each.
$Databases = @(
    foreach ($endpoint in $Processes | Where-Object { $_.PSObject.Properties['database'] }) {
        foreach ($suffix in '', '_systest', '_bench') { @{ Name = "$($endpoint.database)$suffix"; Owner = $endpoint.databaseRole; Password = $endpoint.developmentPassword } }
    }
    @{ Name = 'conveyor_tests'; Owner = 'conveyor_tests'; Password = $DevPassword }
    @{ Name = 'conveyor_bench'; Owner = 'conveyor_bench'; Password = $DevPassword }
)
$SmtpPort = 2525
# The bench's own SMTP sink (tools/Bench/BenchSmtpSink.cs), which the endpoints mail during `bench`.
$BenchSmtpPort = 2526
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

# The parts, by concern; this file stays the single entry point.
. (Join-Path $Root 'build/common.ps1')
. (Join-Path $Root 'build/infrastructure.ps1')
. (Join-Path $Root 'build/processes.ps1')
. (Join-Path $Root 'build/demo.ps1')
. (Join-Path $Root 'build/bench.ps1')
. (Join-Path $Root 'build/tests.ps1')

function Invoke-Topology {
    Write-Step 'Writing the files derived from Topology/SystemTopology.cs'
    & dotnet run --project (Join-Path $Root 'tools/Topology/Conveyor.Topology.Tool.csproj') -c $Configuration -- $Root
    if ($LASTEXITCODE -ne 0) { throw "tools/Topology failed (exit code $LASTEXITCODE)" }
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
        'topology' { Invoke-Topology }
    }
}
catch {
    # One line a person can act on, not PowerShell's frame of the line that threw.
    Write-Host "./build.sh ${Target}: $($_.Exception.Message)" -ForegroundColor Red
    if ($env:CONVEYOR_TRACE) { Write-Host $_.ScriptStackTrace }
    exit 1
}
