# ./build.sh bench: the system under load beside the raw baseline.
# Dot-sourced by build.ps1, which holds the parameters and the constants these functions use.

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
        Stop-Processes
        Start-Endpoints -ForBench -NoAudit
        Write-Step 'The system, one instance per endpoint, auditing off (Conveyor:Audit:Enabled=false)'
        Invoke-BenchPhase (@('--phase', 'system', '--label', 'system-x1-audit-off', '--instances', '1') + $common)
        Stop-Processes
        Start-Endpoints -ForBench
        foreach ($instance in 2..$Instances) { Start-Endpoints -Instance $instance -ForBench }
        Write-Step "The system, $Instances instances per endpoint (competing consumers)"
        # The HTTP load takes turns over every Orders instance, as a load balancer would.
        $ordersPort = ($Processes | Where-Object name -eq $Topology.ordersApi).port
        $orders = (1..$Instances | ForEach-Object { "http://127.0.0.1:$($ordersPort + 100 * ($_ - 1))" }) -join ','
        Invoke-BenchPhase (@('--phase', 'system', '--label', "system-x$Instances", '--instances', "$Instances", '--orders-api', $orders) + $common)
        Invoke-BenchPhase @('--phase', 'report', '--output', $output)
    }
    finally {
        Pop-Location
        Stop-Processes
        Stop-Infrastructure -OnlyStartedNow
    }
}
