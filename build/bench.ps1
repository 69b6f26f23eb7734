# ./build.sh bench: the system under load beside the raw baseline.
# Dot-sourced by build.ps1, which holds the parameters and the constants these functions use.

# Settings run beside the default configuration, each a system phase of its own in the first run: an optimisation
# tried before it goes into the code, or one that went in, undone, to show what it changes in the same run.
# docs/performance.md lists what was tried and dropped (workstation GC, No Reset On Close, no TLS to a local PostgreSQL, ...).
$BenchVariants = @(
    @{ Name = 'dynamic-pgo'; What = 'dynamic PGO back on (DOTNET_TieredPGO=1, the runtime default)'; Settings = @{ DOTNET_TieredPGO = '1' } }
    @{ Name = 'no-spinning'; What = 'thread pool workers sleep at once instead of spinning first (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)'; Settings = @{ DOTNET_ThreadPool_UnfairSemaphoreSpinLimit = '0' } }
)

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
    $duration = if ($BenchDuration) { $BenchDuration } elseif ($Quick) { [TimeSpan]::FromSeconds(6) } else { [TimeSpan]::FromSeconds(30) }
    # The warm-up's budget: load in windows until throughput stops rising, at most this long (on two cores an endpoint
    # JIT-compiles for a minute and more after its start).
    $warmup = if ($BenchWarmup) { $BenchWarmup } elseif ($Quick) { [TimeSpan]::FromSeconds(2) } else { [TimeSpan]::FromSeconds(90) }
    # Runs of each phase, interleaved (floor, baseline, system, ... then again), so a drift of the machine during
    # the bench touches every phase alike; the report gives the median and the range.
    $runs = if ($Quick) { 1 } else { 3 }
    $bench = Join-Path $Root "tools/Bench/bin/$Configuration/net10.0/Conveyor.Bench.dll"
    $clients = if ($Concurrency) { $Concurrency } elseif ($Quick) { 8 } else { 16 }
    $common = @('--duration', $duration.ToString('c'), '--warmup', $warmup.ToString('c'), '--concurrency', "$clients", '--output', $output, '--database-suffix', '_bench', '--sink-port', "$BenchSmtpPort")
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
        # The identity provider issues both sides' tokens; the endpoints are started for each system phase alone.
        Start-Endpoints -Only @($Processes | Where-Object name -eq $Topology.identityProvider)
        foreach ($run in 1..$runs) {
            $each = $common + @('--run', "$run")
            # The open-loop ramp once, in the first run, for the baseline and the one-instance system (not in --quick).
            $ramp = if ($run -eq 1 -and -not $Quick -and -not $Rate) { @('--ramp') } else { @() }
            Write-Step "Run $run of $runs. The floor: RabbitMQ.Client and Npgsql alone, three deliveries, no HTTP, no e-mail"
            Invoke-BenchPhase (@('--phase', 'floor', '--label', 'floor') + $each)
            Write-Step "Run $run of $runs. The equal-work baseline: the system's work per order without the framework"
            Invoke-BenchPhase (@('--phase', 'baseline', '--label', 'baseline') + $each + $ramp)
            Start-Endpoints -ForBench
            # Idle needs a minute after the start-up's own work: not in --quick.
            if ($run -eq 1 -and -not $Quick) {
                Write-Step 'The system idle: started, nothing placed'
                Invoke-BenchPhase @('--phase', 'idle', '--output', $output, '--warmup', '00:00:30', '--duration', '00:01:00')
            }
            Write-Step "Run $run of $runs. The system, one instance per endpoint"
            Invoke-BenchPhase (@('--phase', 'system', '--label', 'system-x1', '--instances', '1') + $each + $ramp)
            Stop-Endpoints
            # What auditing costs: not in --quick, which stays a smoke run of every kind of phase.
            if (-not $Quick) {
                Start-Endpoints -ForBench -NoAudit
                Write-Step "Run $run of $runs. The system, one instance per endpoint, auditing off (Conveyor:Audit:Enabled=false)"
                Invoke-BenchPhase (@('--phase', 'system', '--label', 'system-x1-audit-off', '--instances', '1') + $each)
                Stop-Endpoints
            }
            # Optimisations not (yet) in the code, each measured once beside the default in the same bench.
            if ($run -eq 1 -and -not $Quick) {
                foreach ($variant in $BenchVariants) {
                    Start-Endpoints -ForBench -Variant $variant.Settings
                    Write-Step "Run $run of $runs. The system, one instance per endpoint, $($variant.What)"
                    Invoke-BenchPhase (@('--phase', 'system', '--label', "system-x1-$($variant.Name)", '--instances', '1') + $each)
                    Stop-Endpoints
                }
            }
            Start-Endpoints -ForBench
            foreach ($instance in 2..$Instances) { Start-Endpoints -Instance $instance -ForBench }
            Write-Step "Run $run of $runs. The system, $Instances instances per endpoint (competing consumers)"
            # The HTTP load takes turns over every Orders instance, as a load balancer would.
            $ordersPort = ($Processes | Where-Object name -eq $Topology.ordersApi).port
            $orders = (1..$Instances | ForEach-Object { "http://127.0.0.1:$($ordersPort + 100 * ($_ - 1))" }) -join ','
            Invoke-BenchPhase (@('--phase', 'system', '--label', "system-x$Instances", '--instances', "$Instances", '--orders-api', $orders) + $each)
            Stop-Endpoints
        }
        Invoke-BenchPhase @('--phase', 'report', '--output', $output)
    }
    finally {
        Pop-Location
        Stop-Processes
        Stop-Infrastructure -OnlyStartedNow
    }
}
