# The system's processes: building them, starting them in the background (each with a PID file and a log), stopping exactly what was started, and what runs where.
# Dot-sourced by build.ps1, which holds the parameters and the constants these functions use.

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

function Invoke-Build {
    Start-Build
    Wait-Build
}

function Start-Build([string] $Solution = 'Conveyor.slnx') {
    # In the background: the targets that need the broker and the database start them meanwhile. The Node.js
    # endpoints' packages are installed exactly as their lock files pin them (npm ci), after the .NET build.
    Write-Step "Building $Solution ($Configuration) and installing the Node.js packages (in the background)"
    New-Item -ItemType Directory -Force $RunDir, $LogDir | Out-Null
    # npm ci removes node_modules and installs it again (some 20 s here): skipped while the install npm recorded
    # (node_modules/.package-lock.json) is newer than the lock file and package.json.
    $install = @($NodeEndpoints | Where-Object { -not (Test-NodePackagesCurrent (Get-PackageDirectory $_)) } | ForEach-Object { "&& npm ci --prefix '$(Get-PackageDirectory $_)' --no-audit --no-fund --loglevel=error" }) -join ' '
    Start-InBackground 'build' "dotnet build '$(Join-Path $Root $Solution)' -c $Configuration -nologo -v q -clp:ErrorsOnly $install"
}

function Test-NodePackagesCurrent([string] $Package) {
    $installed = Get-Item (Join-Path $Package 'node_modules/.package-lock.json') -ErrorAction SilentlyContinue
    if (-not $installed) { return $false }
    foreach ($file in 'package-lock.json', 'package.json') {
        if ((Get-Item (Join-Path $Package $file)).LastWriteTimeUtc -ge $installed.LastWriteTimeUtc) { return $false }
    }
    return $true
}

function Wait-Build {
    Wait-InBackground 'build' 'The build' -TimeoutSeconds 900
    Write-Step 'Built'
}

function Get-EndpointDll($Endpoint) {
    $name = [IO.Path]::GetFileNameWithoutExtension($Endpoint.Project)
    return Join-Path $Root (Join-Path (Split-Path $Endpoint.Project) "bin/$Configuration/net10.0/$name.dll")
}

function Get-PackageDirectory($Endpoint) { Join-Path $Root (Split-Path $Endpoint.Project) }

# How a process of the topology is started: a .NET one from its output folder (the content root its appsettings.json
# is read from), a Node.js one from its package folder, as `node <main>`.
function Get-StartCommand($Endpoint) {
    if ($Endpoint.runtime -eq 'node') {
        $package = Get-PackageDirectory $Endpoint
        $main = (Get-Content (Join-Path $package 'package.json') -Raw | ConvertFrom-Json).main
        return @{ Command = 'node'; Arguments = @($main); WorkingDirectory = $package }
    }
    $dll = Get-EndpointDll $Endpoint
    return @{ Command = 'dotnet'; Arguments = @($dll); WorkingDirectory = (Split-Path $dll) }
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

function Start-Endpoints([switch] $Observed, [int] $Instance = 1, [switch] $ForBench, [switch] $NoAudit, [object[]] $Only, [hashtable] $Variant = @{}) {
    # Instance 2 (and more) of an endpoint: the same queue and database, its own port, competing consumers.
    $endpoints = if ($Only) { $Only } elseif ($Instance -eq 1) { $Processes } else { $BusinessEndpoints }
    Write-Step $(if ($Instance -eq 1) { 'Starting the endpoints' } else { "Starting instance $Instance of each endpoint" })
    $started = @()
    foreach ($endpoint in $endpoints) {
        $start = Get-StartCommand $endpoint
        $name = if ($Instance -eq 1) { $endpoint.name } else { "$($endpoint.name)-$Instance" }
        $port = $endpoint.port + 100 * ($Instance - 1)
        # Development: plain HTTP on loopback. Deployed (Production) hosts redirect to HTTPS and send HSTS.
        $environment = @{ ASPNETCORE_ENVIRONMENT = 'Development'; Urls = "http://127.0.0.1:$port" }
        if ($Observed) { $environment['Conveyor__Telemetry__OtlpEndpoint'] = "http://127.0.0.1:$OtlpHttpPort" }
        # What auditing costs: the bench runs the system once without the copies to audit.
        if ($NoAudit) { $environment['Conveyor__Audit__Enabled'] = 'false' }
        # The identity provider has no database, broker user or rate limit: it is started as it always is.
        if ($ForBench -and $endpoint.PSObject.Properties['database']) {
            # Its own databases and vhost, emptied before each bench: nothing of an earlier run (not even a
            # scheduled payment deadline) adds to the load. LOCAL DEVELOPMENT DEFAULTS ONLY. And the bench is
            # one customer placing orders as fast as it can: the edge's per-client limit would stop it. All
            # processes share PostgreSQL's 100 connections: each pool gets an equal share of 84 (12 with two
            # instances), the rest is the bench's; Npgsql's default of 100 per process ran the server out.
            $pool = [Math]::Floor(84 / ($BusinessEndpoints.Count * $Instances + 1))
            $environment['ConnectionStrings__Database'] = "Host=127.0.0.1;Port=5432;Database=$($endpoint.database)_bench;Username=$($endpoint.databaseRole);Password=$($endpoint.developmentPassword);Maximum Pool Size=$pool"
            $environment['ConnectionStrings__RabbitMq'] = "amqp://$($endpoint.brokerUser):$($endpoint.developmentPassword)@127.0.0.1:5672/$BenchRabbitVhost"
            $environment['Conveyor__Edge__RequestsPerWindow'] = '100000000'
            $environment['Conveyor__Edge__AddressRequestsPerWindow'] = '100000000'
            # Measured as deployed (Production: no development defaults, so everything they give is set here), and
            # mailing the bench's SMTP sink instead of the development catcher.
            $environment['ASPNETCORE_ENVIRONMENT'] = 'Production'
            $environment['Authentication__Authority'] = "$(Get-ProcessUrl $Topology.identityProvider)/realms/conveyor"
            $environment['Authentication__RequireHttpsMetadata'] = 'false'
            if ($endpoint.name -eq $Topology.serviceControl) { $environment['Pulse__ClientSecret'] = 'pulse-dev-only-secret' } # LOCAL DEVELOPMENT DEFAULT ONLY
            $environment['Smtp__Port'] = "$BenchSmtpPort"
            # An optimisation the bench tries: more environment, or (ConnectionOptions) more of the connection string.
            foreach ($setting in $Variant.GetEnumerator()) {
                if ($setting.Key -eq 'ConnectionOptions') { $environment['ConnectionStrings__Database'] += ";$($setting.Value)" }
                else { $environment[$setting.Key] = $setting.Value }
            }
        }
        if ($PaymentDeadline -and $endpoint.name -eq $Topology.ordersApi) {
            if (Get-RecordedPid $name) { Write-Warning "Orders is already running: -PaymentDeadline applies after ./build.sh down." }
            $environment['Orders__PaymentDeadline'] = $PaymentDeadline.ToString('c')
        }
        Start-Recorded $name $start.Command $start.Arguments -WorkingDirectory $start.WorkingDirectory -Environment $environment
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

# Every endpoint and its further instances; the identity provider stays (the bench's baselines need it too).
function Stop-Endpoints {
    Stop-Recorded @($Processes | Where-Object name -ne $Topology.identityProvider | ForEach-Object { $_.name; foreach ($i in 2..4) { "$($_.name)-$i" } })
}

function Stop-Processes {
    Write-Step 'Stopping the endpoints and the observability tools'
    Stop-Recorded (@($Processes | ForEach-Object { $_.name; foreach ($i in 2..4) { "$($_.name)-$i" } }) + @('prometheus', 'dashboard'))
}

function Invoke-Down {
    Stop-Processes
    Stop-Infrastructure
    Write-Host 'Stopped.'
}

function Show-Status {
    Write-Step 'Conveyor'
    foreach ($process in $Processes) {
        $running = Get-RecordedPid $process.name
        $health = if (Test-Http "http://127.0.0.1:$($process.port)/health/ready") { 'ready' } elseif ($running) { 'NOT READY' } else { 'stopped' }
        $pidText = if ($running) { "pid $running" } else { '-' }
        Write-Host ('    {0,-14} http://127.0.0.1:{1,-6} {2,-10} {3}' -f $process.name, $process.port, $health, $pidText)
    }
    Write-Host ''
    Write-Host "    Orders API          $(Get-ProcessUrl $Topology.ordersApi)/orders"
    Write-Host "    Pulse (failed messages, endpoints, monitoring)  $(Get-ProcessUrl $Topology.serviceControl)/"
    Write-Host "                        sign in as olivia / olivia-dev-only (ops) or sam / sam-dev-only (support, read only)"
    Write-Host "    ServiceControl API  $(Get-ProcessUrl $Topology.serviceControl)/api/failed-messages  (bearer token: support reads, ops acts)"
    Write-Host "    OIDC (dev only)     $(Get-ProcessUrl $Topology.identityProvider)/realms/conveyor/.well-known/openid-configuration"
    Write-Host "    Traces, logs        http://127.0.0.1:$DashboardPort  (Aspire Dashboard; OTLP/HTTP in on 127.0.0.1:$OtlpHttpPort)"
    Write-Host "    Prometheus          http://127.0.0.1:$PrometheusPort  (e.g. sum(rate(conveyor_orders_placed_total[1m])))"
    Write-Host "    Metrics             $(Get-ProcessUrl $Topology.ordersApi)/metrics  (each endpoint; from loopback, or with an ops token)"
    Write-Host "    SMTP catcher (UI)   http://127.0.0.1:$SmtpWebPort  (SMTP on 127.0.0.1:$SmtpPort)"
    Write-Host "    RabbitMQ management http://127.0.0.1:15672  (user $RabbitUser / $DevPassword, vhost $RabbitVhost; local dev only)"
    Write-Host "    PostgreSQL          127.0.0.1:5432  databases $(($BusinessEndpoints + @($Processes | Where-Object name -eq $Topology.serviceControl) | ForEach-Object database) -join ', ')"
    Write-Host "    Logs                $LogDir"
    Write-Host "    Stop with           ./build.sh down"
}

function Get-ProcessUrl([string] $Name) { "http://127.0.0.1:$(($Processes | Where-Object name -eq $Name).port)" }
