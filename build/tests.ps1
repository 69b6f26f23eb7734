# ./build.sh test and ./build.sh chaos: the test projects against the real infrastructure, and the summary CI reads.
# Dot-sourced by build.ps1, which holds the parameters and the constants these functions use.

function Invoke-Test {
    $failedProjects = @()
    # Before anything can fail: a summary must never count the results of an earlier run.
    Remove-Item -Recurse -Force $TestResults -ErrorAction SilentlyContinue
    New-Item -ItemType Directory -Force $TestResults | Out-Null
    Start-Build
    try {
        Start-Infrastructure -ForTests
        Install-DeploymentTools
        Wait-Build
        Set-TestEnvironment
        # First: Inventory's Pact tests write the pacts Integration.Tests verifies against the running Orders.
        foreach ($endpoint in $NodeEndpoints) {
            # Jest: the handlers' specs, the tests against the real broker and database, and the Pact message contracts.
            $name = "$((Get-Culture).TextInfo.ToTitleCase($endpoint.name)).Tests"
            Write-Step "Testing $name (Jest)"
            $env:JEST_JUNIT_OUTPUT_FILE = Join-Path $TestResults "$name.junit.xml"
            & npm test --prefix (Get-PackageDirectory $endpoint) --silent
            if ($LASTEXITCODE -ne 0) { $failedProjects += $name }
            Remove-Item Env:JEST_JUNIT_OUTPUT_FILE
        }
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
    Remove-Item -Recurse -Force $report -ErrorAction SilentlyContinue
    New-Item -ItemType Directory -Force $report | Out-Null
    Start-Build
    try {
        Start-Infrastructure
        Wait-Build
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
    # JUnit XML (Jest's, through jest-junit): one <testsuite> per test file.
    foreach ($junit in Get-ChildItem $Folder -Filter '*.junit.xml' -ErrorAction SilentlyContinue) {
        $files++
        [xml] $doc = Get-Content $junit.FullName -Raw
        $projectFailures = 0
        foreach ($suite in $doc.SelectNodes('//testsuite')) {
            $suiteSkipped = [int]$suite.GetAttribute('skipped')
            $suiteFailed = [int]$suite.GetAttribute('failures') + [int]$suite.GetAttribute('errors')
            $passed += [int]$suite.GetAttribute('tests') - $suiteSkipped - $suiteFailed
            $skipped += $suiteSkipped
            $projectFailures += $suiteFailed
        }
        $failedCount += $projectFailures
        $project = $junit.Name -replace '\.junit\.xml$', ''
        if ($FailedProjects -contains $project -and $projectFailures -eq 0) {
            Write-Host "${project}: the test run did not complete; see the output above."
            $failedCount++
        }
    }
    foreach ($project in $FailedProjects | Where-Object { $_ -ne 'setup' }) {
        if (-not (Get-ChildItem $Folder -Filter "$project.*" -ErrorAction SilentlyContinue)) {
            Write-Host "${project}: failed before it wrote any results; see the output above."
            $failedCount++
        }
    }
    if ($files -eq 0) { Write-Host 'No test results were written.'; $failedCount++ }
    elseif ($FailedProjects -contains 'setup') { $failedCount++ }
    Write-FailedTests $Folder
    $summary = "tests: $passed passed, $failedCount failed"
    if ($skipped -gt 0) { $summary += ", $skipped skipped" }
    Write-Host $summary
    return ($failedCount -eq 0 -and $FailedProjects.Count -eq 0)
}

function Write-FailedTests([string] $Folder) {
    # Names each failure with the start of its message next to the summary: CI keeps only the end of a long log.
    $failures = @()
    foreach ($trx in Get-ChildItem $Folder -Filter '*.trx' -ErrorAction SilentlyContinue) {
        [xml] $doc = Get-Content $trx.FullName -Raw
        foreach ($result in $doc.TestRun.Results.UnitTestResult | Where-Object { $_.outcome -in 'Failed', 'Error', 'Timeout', 'Aborted' }) {
            $message = $result.Output.ErrorInfo.Message
            $failures += [pscustomobject]@{ Project = $trx.BaseName; Name = $result.testName; Message = $message }
        }
    }
    foreach ($junit in Get-ChildItem $Folder -Filter '*.junit.xml' -ErrorAction SilentlyContinue) {
        [xml] $doc = Get-Content $junit.FullName -Raw
        foreach ($case in $doc.SelectNodes('//testcase[failure or error]')) {
            $node = $case.SelectSingleNode('failure|error')
            $message = if ($node.GetAttribute('message')) { $node.GetAttribute('message') } else { $node.InnerText }
            $failures += [pscustomobject]@{ Project = ($junit.Name -replace '\.junit\.xml$', ''); Name = $case.GetAttribute('name'); Message = $message }
        }
    }
    if ($failures.Count -eq 0) { return }
    Write-Host 'Failed tests:'
    foreach ($failure in $failures) {
        Write-Host "  $($failure.Project): $($failure.Name)"
        $lines = "$($failure.Message)" -split "`r?`n" | Where-Object { $_.Trim() } | Select-Object -First 6
        foreach ($line in $lines) { Write-Host "      $($line.Trim())" }
    }
}
