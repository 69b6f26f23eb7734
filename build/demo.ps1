# ./build.sh demo: an order per payment path, followed to its end, with what it left behind.
# Dot-sourced by build.ps1, which holds the parameters and the constants these functions use.

function Invoke-Demo {
    $allReady = $Processes | ForEach-Object { Test-Http "http://127.0.0.1:$($_.port)/health/ready" }
    if ($allReady -contains $false) { Invoke-Up }

    $api = Get-ProcessUrl $Topology.ordersApi
    # One order per payment-token path of the provider simulator, one the customer cancels after it is confirmed,
    # and one for a sold-out item. Each names the state it must end in (or the states: whether the out-of-stock order's
    # payment was taken before Inventory's answer cancelled it is a race, and a payment taken is refunded).
    $scenarios = @(
        @{ Name = 'tok_ok';        Token = 'tok_ok';       Expect = 'Confirmed' }
        @{ Name = 'tok_declined';  Token = 'tok_declined'; Expect = 'Cancelled(PaymentDeclined)' }
        @{ Name = 'tok_flaky';     Token = 'tok_flaky';    Expect = 'Confirmed' }
        @{ Name = 'tok_slow';      Token = 'tok_slow';     Expect = 'Refunded(PaymentTimedOut)' }
        @{ Name = 'tok_down';      Token = 'tok_down';     Expect = 'Cancelled(PaymentTimedOut)' }
        @{ Name = 'cancel-after-confirm'; Token = 'tok_ok'; Expect = 'Refunded(CustomerRequested)'; CancelWhenConfirmed = $true }
        @{ Name = 'out-of-stock';  Token = 'tok_ok';       Expect = @('Cancelled(OutOfStock)', 'Refunded(OutOfStock)'); Sku = 'POSTER-SIGNED' }
    )

    # The orders are alice's, a customer of the realm: her access token comes from the local OIDC provider.
    Write-Step 'Signing in as alice (customer) at the local OpenID Connect provider'
    $auth = @{ Authorization = "Bearer $(Get-DevToken 'alice' 'alice-dev-only')" }

    Write-Step 'Placing one order per scenario'
    foreach ($scenario in $scenarios) {
        # No address in the body: every mail goes to alice's verified address, from her token.
        $body = @{
            currency = 'EUR'; paymentToken = $scenario.Token
            lines = @(@{ sku = 'BOOK-DDD'; quantity = 1 }, @{ sku = $(if ($scenario['Sku']) { $scenario.Sku } else { 'MUG-CONVEYOR' }); quantity = 2 })
        } | ConvertTo-Json -Depth 5
        # Priced by Orders from deploy/catalog.json; the key makes a retried request safe.
        $headers = $auth + @{ 'Idempotency-Key' = [guid]::NewGuid().ToString() }
        $response = Invoke-WebRequest -Method Post -Uri "$api/orders" -ContentType 'application/json' -Body $body -Headers $headers
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
            if ($scenario.Expect -contains (Get-State $order) -and (Test-PaymentSettled $api $scenario $auth)) {
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
        # Read again beside the e-mails: a charge that landed after the out-of-stock cancellation is refunded by now.
        $scenario.Order = Invoke-RestMethod -Uri "$api$($scenario.Location)" -Headers $auth
        $state = Get-State $scenario.Order
        $ok = $scenario.Expect -contains $state
        if (-not $ok) { $failures += "$($scenario.Name) ended $state, expected $($scenario.Expect -join ' or ')" }
        Write-Host ('  {0} {1,-22} {2,-30} expected {3}' -f ($(if ($ok) { 'OK  ' } else { 'FAIL' })), $scenario.Name, $state, ($scenario.Expect -join ' or '))
        Write-Host ('       ' + (($scenario.Order.timeline | ForEach-Object { "$($_.status) $(([DateTimeOffset]$_.at).ToString('HH:mm:ss.fff'))" }) -join ' -> '))
        # The order number in each subject: the last 12 hex digits of the order id (Endpoints/Notifications).
        $number = ($scenario.Id -replace '-', '').Substring(20).ToUpperInvariant()
        foreach ($mail in $mails | Where-Object { $_.subject -like "*$number*" }) { Write-Host "       mail to $($mail.to -join ', '): $($mail.subject)" }
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
        Write-Host "    Pulse: $(Get-ProcessUrl $Topology.serviceControl)/messages/$($failed.summary.id)"
    }
    else { $failures += "the tok_down order's OrderPlaced did not reach ServiceControl" }

    Write-Step 'Each order told by ServiceControl from the audit copies of its messages (Pulse: All messages, Flow, Sequence, Saga)'
    foreach ($story in @(@{ Name = 'tok_ok'; Type = 'OrderConfirmed'; Tab = 'flow' }, @{ Name = 'cancel-after-confirm'; Type = 'CancelOrder'; Tab = 'saga' })) {
        $orderId = ($scenarios | Where-Object Name -eq $story.Name).Id
        $step = Find-AuditedMessage -ConversationId $orderId -ShortType $story.Type -TimeoutSeconds 20
        if ($step) { Write-Host ('    {0,-22} {1} messages; {2}: {3}/message/{4}?tab={2}' -f $story.Name, $step.Count, $story.Tab, (Get-ProcessUrl $Topology.serviceControl), $step.Id) }
        else { $failures += "the $($story.Name) order's $($story.Type) did not reach ServiceControl's audit store" }
    }

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
    Write-Host "SMTP catcher: http://127.0.0.1:$SmtpWebPort   Pulse (failed and all messages): $(Get-ProcessUrl $Topology.serviceControl)/"
    Write-Host "Traces and logs: http://127.0.0.1:$DashboardPort   Prometheus: http://127.0.0.1:$PrometheusPort"
    Write-Host 'The system is still running: ./build.sh status to look, ./build.sh down to stop it.'
    if ($failures.Count -gt 0) { throw "The demo did not end as expected:`n  $($failures -join "`n  ")" }
}

function Test-PaymentSettled([string] $Api, $Scenario, $Auth) {
    # A cancelled order has settled once no money is held for it: never taken (Voided, Declined) or given back.
    if ($Scenario.Order.status -ne 'Cancelled') { return $true }
    $payment = Invoke-RestMethod -Uri "$Api$($Scenario.Location)/payment" -Headers $Auth
    return $payment.status -ne 'Authorized'
}

function Get-DevToken([string] $User, [string] $Password) {
    # Development users of deploy/keycloak/conveyor-realm.json; the password grant is for local use only.
    $form = @{ grant_type = 'password'; client_id = 'conveyor-cli'; username = $User; password = $Password; scope = 'openid conveyor-api' }
    return (Invoke-RestMethod -Method Post -Uri "$(Get-ProcessUrl $Topology.identityProvider)/realms/conveyor/protocol/openid-connect/token" -Body $form).access_token
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

function Find-AuditedMessage([string] $ConversationId, [string] $ShortType, [double] $TimeoutSeconds) {
    # The order's conversation, from the audit copies every endpoint sends: the record of one of its messages.
    $support = @{ Authorization = "Bearer $(Get-DevToken 'sam' 'sam-dev-only')" }
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $conversation = try { Invoke-RestMethod -Uri "$(Get-ProcessUrl $Topology.serviceControl)/api/conversations/$ConversationId" -Headers $support } catch { $null }
        $found = $conversation.messages | Where-Object { $_.shortType -eq $ShortType } | Select-Object -First 1
        if ($found) { return @{ Id = $found.id; Count = @($conversation.messages).Count } }
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
        $page = Invoke-RestMethod -Uri "$(Get-ProcessUrl $Topology.serviceControl)/api/failed-messages?status=unresolved&pageSize=500" -Headers $support
        $found = $page.items | Where-Object { $_.correlationId -eq $CorrelationId -and $_.messageType -eq 'Conveyor.Messages.OrderPlaced' } | Select-Object -First 1
        if ($found) { return Invoke-RestMethod -Uri "$(Get-ProcessUrl $Topology.serviceControl)/api/failed-messages/$($found.id)" -Headers $support }
        Start-Sleep -Milliseconds 500
    } while ([DateTime]::UtcNow -lt $deadline)
    return $null
}
