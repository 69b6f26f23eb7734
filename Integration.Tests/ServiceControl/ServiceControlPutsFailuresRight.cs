using Conveyor.Topology;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Hosting.ServiceControl;
using Conveyor.Messages;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using RabbitMQ.Client;

namespace Integration.Tests.ServiceControl;

/// <summary>
/// ServiceControl against the real system: failures stored once, grouped, retried into the real endpoints,
/// archived, edited, redirected; endpoints watched through their heartbeats. The default (short) payment
/// deadline: a retry after it must never confirm the order.
/// </summary>
public class ServiceControlPutsFailuresRight : SystemFixture
{
    private ServiceControlClient _serviceControl = null!;
    private HttpClient _paymentsAdmin = null!;

    [OneTimeSetUp]
    public void ConnectTheTools()
    {
        _serviceControl = ServiceControlClient.ForRunningSystem();
        _paymentsAdmin = Tokens.ClientAs("olivia", RunningSystem.PaymentsApi);
    }

    [OneTimeTearDown]
    public void DisconnectTheTools()
    {
        _serviceControl?.Dispose();
        _paymentsAdmin?.Dispose();
    }

    private Task<JsonElement> WaitForMessage(string messageId, string what) =>
        _serviceControl.WaitForAsync(FailedMessages.FailedInPayments(messageId), what);

    [Test]
    public async Task A_thousand_distinct_failures_page_as_a_thousand_groups_and_archive_as_one_in_bounded_memory()
    {
        const int count = 1000, bodyBytes = 50_000;
        var burst = await FailureBurst.PublishAsync(count, bodyBytes);
        await TestEnvironment.Eventually(() => burst.StoredAsync(), stored => stored.Messages == count, $"the {count} failures stored", TimeSpan.FromMinutes(2));

        // By exception message each is a group of its own: read a page of 100 at a time, as Pulse does.
        var pages = new List<JsonElement>();
        for (var page = 1; ; page++)
        {
            var result = await _serviceControl.Http.GetFromJsonAsync<JsonElement>($"/api/failure-groups?classifier=exception-message&page={page}&pageSize=100");
            pages.Add(result);
            if (page >= result.GetProperty("pages").GetInt32()) break;
        }

        var ours = pages.SelectMany(p => p.GetProperty("items").EnumerateArray())
            .Where(g => g.GetProperty("title").GetString()!.EndsWith($" of {burst.MessageType}", StringComparison.Ordinal)).ToList();
        var pastTheEnd = await _serviceControl.Http.GetFromJsonAsync<JsonElement>($"/api/failure-groups?classifier=exception-message&page={pages.Count + 1}&pageSize=100");

        // As one group (its message type), archived in one action while ServiceControl's resident memory is sampled.
        var group = (await _serviceControl.GroupsAsync("message-type")).Single(g => g.GetProperty("title").GetString() == burst.MessageType);
        var serviceControl = System.ProcessOf(SystemTopology.ServiceControl.Name);
        var allocatedBefore = await AllocatedBytesAsync();
        var before = ResidentBytes(serviceControl);
        long peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ResidentBytes(serviceControl));
                await Task.Delay(20);
            }
        });
        var archive = await _serviceControl.PostAsync($"/api/failure-groups/{Uri.EscapeDataString(group.GetProperty("id").GetString()!)}/archive");
        await sampling.CancelAsync();
        await sampler;
        var allocated = await AllocatedBytesAsync() - allocatedBefore;
        var archived = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase,
            "select count(*) from failed_messages where message_type = @t and status = 'Archived'", ("t", burst.MessageType));
        TestContext.Out.WriteLine($"ServiceControl archiving {count} messages ({count * bodyBytes / 1_000_000} MB of bodies): allocated {allocated / 1_000_000.0:0.0} MB; resident {before / 1_000_000} MB before, peak {peak / 1_000_000} MB");

        Assert.Multiple(async () =>
        {
            Assert.That(pages.Select(p => p.GetProperty("items").GetArrayLength()), Has.All.LessThanOrEqualTo(100));
            Assert.That(pages[0].GetProperty("total").GetInt32(), Is.GreaterThanOrEqualTo(count));
            Assert.That(ours, Has.Count.EqualTo(count), "every failure its own group, each on exactly one page");
            Assert.That(ours.Select(g => g.GetProperty("id").GetString()).Distinct().Count(), Is.EqualTo(count));
            Assert.That(ours.Select(g => g.GetProperty("count").GetInt32()), Has.All.EqualTo(1));
            Assert.That(pastTheEnd.GetProperty("items").GetArrayLength(), Is.Zero, "a page past the last is empty, not an error");
            Assert.That(archive.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await archive.Content.ReadAsStringAsync());
            Assert.That(archived, Is.EqualTo(count));
            // What the process allocated meanwhile (its GC's own count, on /metrics), not what the OS shows: a heap
            // with free space left by the ingestion would hide the bodies from the resident set.
            Assert.That(allocated, Is.LessThan((long)count * bodyBytes / 2), "archiving a group never loads its bodies");
        });
    }

    /// <summary>ServiceControl's count of the bytes its managed heap has allocated since it started.</summary>
    private static async Task<double> AllocatedBytesAsync()
    {
        using var http = new HttpClient { BaseAddress = RunningSystem.ServiceControlApi };
        var metrics = await http.GetStringAsync("/metrics");
        return double.Parse(metrics.Split('\n').Single(l => l.StartsWith("dotnet_gc_heap_total_allocated_bytes_total", StringComparison.Ordinal)).Split(' ')[^1], global::System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A process's resident set, from /proc.</summary>
    private static long ResidentBytes(global::System.Diagnostics.Process process) =>
        File.ReadLines($"/proc/{process.Id}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024).Single();

    [Test]
    public async Task Failures_are_grouped_by_each_classifier_with_counts_and_times()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        // Notifications: no other test of this fixture makes it fail, so its group holds exactly these three.
        var (typeA, typeB, exception, endpoint) = ($"Tests.A{run}", $"Tests.B{run}", $"Tests.Boom{run}", SystemTopology.Notifications);
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-5);
        await FailedMessages.PublishAsync(Guid.NewGuid().ToString(), typeA, exception, $"boom {run}", t0, endpoint);
        await FailedMessages.PublishAsync(Guid.NewGuid().ToString(), typeA, exception, $"boom {run}", t0.AddMinutes(1), endpoint);
        await FailedMessages.PublishAsync(Guid.NewGuid().ToString(), typeB, exception, $"other {run}", t0.AddMinutes(2), endpoint);

        async Task<List<JsonElement>> Groups(string classifier) => [.. await _serviceControl.GroupsAsync(classifier)];

        var byDefault = await TestEnvironment.Eventually(() => Groups("exception-and-message-type"),
            g => g.Where(x => x.GetProperty("title").GetString()!.Contains(exception)).Sum(x => x.GetProperty("count").GetInt32()) == 3, "the three failures grouped");
        var byType = await Groups("message-type");
        var byEndpoint = await Groups("endpoint");
        var byMessage = await Groups("exception-message");

        JsonElement Titled(List<JsonElement> groups, string title) => groups.Single(g => g.GetProperty("title").GetString() == title);
        Assert.Multiple(() =>
        {
            var aGroup = Titled(byDefault, $"{exception} in {typeA}");
            Assert.That(aGroup.GetProperty("count").GetInt32(), Is.EqualTo(2));
            Assert.That(aGroup.GetProperty("firstFailureAt").GetDateTimeOffset(), Is.EqualTo(t0).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(aGroup.GetProperty("lastFailureAt").GetDateTimeOffset(), Is.EqualTo(t0.AddMinutes(1)).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(Titled(byDefault, $"{exception} in {typeB}").GetProperty("count").GetInt32(), Is.EqualTo(1));
            Assert.That(Titled(byType, typeA).GetProperty("count").GetInt32(), Is.EqualTo(2));
            Assert.That(Titled(byEndpoint, endpoint.Name).GetProperty("count").GetInt32(), Is.EqualTo(3));
            Assert.That(Titled(byMessage, $"boom {run}").GetProperty("count").GetInt32(), Is.EqualTo(2));
            Assert.That(Titled(byMessage, $"other {run}").GetProperty("count").GetInt32(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task The_same_failure_delivered_twice_is_stored_once_and_a_new_failure_of_it_counts()
    {
        var messageId = Guid.NewGuid().ToString();
        var failedAt = DateTimeOffset.UtcNow;
        await FailedMessages.PublishAsync(messageId, "Tests.Twice", "Tests.Boom", "first", failedAt);
        await FailedMessages.PublishAsync(messageId, "Tests.Twice", "Tests.Boom", "first", failedAt);
        await FailedMessages.PublishAsync(messageId, "Tests.Twice", "Tests.Boom", "second", failedAt.AddSeconds(5));

        var stored = await TestEnvironment.Eventually(() => WaitForMessage(messageId, "the failure stored"), d => ServiceControlClient.FailureCountOf(d) >= 2, "both failures recorded");
        await TestEnvironment.Eventually(() => Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failures where failed_message_id = @id", ("id", ServiceControlClient.IdOf(stored))),
            n => n >= 2, "the failure history");
        var all = await _serviceControl.ListAsync();

        Assert.Multiple(() =>
        {
            Assert.That(all.Count(m => m.GetProperty("messageId").GetString() == messageId), Is.EqualTo(1), "one record per message");
            Assert.That(ServiceControlClient.FailureCountOf(stored), Is.EqualTo(2), "the duplicate delivery is not a failure");
            Assert.That(stored.GetProperty("summary").GetProperty("exceptionMessage").GetString(), Is.EqualTo("second"), "the latest failure is shown");
            Assert.That(stored.GetProperty("failures").GetArrayLength(), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task A_retried_message_that_fails_again_comes_back_with_one_more_failure()
    {
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var failed = await WaitForMessage(messageId, "the invalid OrderPlaced stored");
        var id = ServiceControlClient.IdOf(failed);

        var retry = await _serviceControl.PostAsync($"/api/failed-messages/{id}/retry");
        var again = await _serviceControl.WaitForStatusAsync(id, "Unresolved", d => ServiceControlClient.FailureCountOf(d) == 2);

        Assert.Multiple(() =>
        {
            Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(again.GetProperty("summary").GetProperty("retryCount").GetInt32(), Is.EqualTo(1));
            Assert.That(again.GetProperty("summary").GetProperty("exceptionType").GetString(), Does.EndWith("MessageValidationException"));
            Assert.That(ServiceControlClient.Header(again, ServiceControlContract.RetryHeader), Is.EqualTo(id.ToString()), "the second failure is of the retried copy");
        });
    }

    [Test]
    public async Task A_retry_after_the_saga_cancelled_the_order_is_resolved_and_never_confirms_it()
    {
        Placed order;
        await _paymentsAdmin.PutAsJsonAsync("/admin/provider-outage", new { active = true });
        JsonElement failed;
        try
        {
            order = await PlaceOrder("tok_ok");
            failed = await _serviceControl.WaitForOrderPlacedAsync(order.Id, "the OrderPlaced that failed during the outage");
            await WaitForState(order, "Cancelled(PaymentTimedOut)");
            await TestEnvironment.Eventually(() => SystemDatabases.PaymentStatusOf(order.Id), s => s == "Voided", "Payments to void the cancelled order's payment");
        }
        finally
        {
            await _paymentsAdmin.PutAsJsonAsync("/admin/provider-outage", new { active = false });
        }

        var id = ServiceControlClient.IdOf(failed);
        var retry = await _serviceControl.PostAsync($"/api/failed-messages/{id}/retry");
        var resolved = await _serviceControl.WaitForStatusAsync(id, "Resolved");
        var final = await GetOrder(order.Location);

        Assert.Multiple(async () =>
        {
            Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(resolved.GetProperty("resolution").GetString(), Is.EqualTo("retried"), "Payments confirmed it handled the retry");
            // For a voided payment Payments never charges: it asks the provider to refund whatever an earlier
            // attempt may have taken. The outage took nothing, so nothing is refunded and the order stays cancelled.
            Assert.That(StateOf(final), Is.EqualTo("Cancelled(PaymentTimedOut)"));
            Assert.That(final.GetProperty("timeline").EnumerateArray().Select(t => t.GetProperty("status").GetString()), Has.No.Member("Confirmed"));
            Assert.That(await SystemDatabases.PaymentStatusOf(order.Id), Is.EqualTo("Voided"), "never charged");
            Assert.That(await SystemDatabases.RefundsFor(order.Id), Is.Zero, "nothing was taken, so nothing is refunded");
        });
    }

    [Test]
    public async Task Archive_and_unarchive_move_a_message_out_of_the_list_and_back()
    {
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var id = ServiceControlClient.IdOf(await WaitForMessage(messageId, "the invalid OrderPlaced stored"));

        var archive = await _serviceControl.PostAsync($"/api/failed-messages/{id}/archive");
        var archivedList = await _serviceControl.ListAsync("Archived");
        var unresolvedList = await _serviceControl.ListAsync();
        var retryArchived = await _serviceControl.PostAsync($"/api/failed-messages/{id}/retry");
        var archiveAgain = await _serviceControl.PostAsync($"/api/failed-messages/{id}/archive");
        var unarchive = await _serviceControl.PostAsync("/api/failed-messages/unarchive", new { ids = new[] { id } });
        var audit = await _serviceControl.Http.GetFromJsonAsync<JsonElement[]>($"/api/audit?messageId={id}");

        Assert.Multiple(async () =>
        {
            // The audit log names who did what, newest first; the two refused actions changed nothing and are not in it.
            Assert.That(audit!.Select(e => (e.GetProperty("operatorName").GetString(), e.GetProperty("action").GetString())),
                Is.EqualTo(new[] { ("olivia", "Unarchive"), ("olivia", "Archive") }));
            Assert.That(archive.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(archivedList.Select(m => m.GetProperty("id").GetGuid()), Has.Member(id));
            Assert.That(unresolvedList.Select(m => m.GetProperty("id").GetGuid()), Has.No.Member(id));
            Assert.That(retryArchived.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That(retryArchived.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(archiveAgain.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That(unarchive.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(ServiceControlClient.StatusOf(await _serviceControl.GetAsync(id)), Is.EqualTo("Unresolved"));
        });
    }

    [Test]
    public async Task A_group_is_archived_and_unarchived_as_one()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var ids = new[] { Guid.NewGuid().ToString(), Guid.NewGuid().ToString() };
        foreach (var messageId in ids) await FailedMessages.PublishAsync(messageId, $"Tests.Group{run}", "Tests.Boom", "boom", DateTimeOffset.UtcNow);
        await TestEnvironment.Eventually(() => _serviceControl.ListAsync(), l => ids.All(i => l.Any(m => m.GetProperty("messageId").GetString() == i)), "both stored");
        var groups = await _serviceControl.GroupsAsync("message-type");
        var groupId = groups.Single(g => g.GetProperty("title").GetString() == $"Tests.Group{run}").GetProperty("id").GetString()!;

        var archive = await _serviceControl.PostAsync($"/api/failure-groups/{Uri.EscapeDataString(groupId)}/archive");
        var archived = await _serviceControl.ListAsync("Archived", groupId);
        var unarchive = await _serviceControl.PostAsync($"/api/failure-groups/{Uri.EscapeDataString(groupId)}/unarchive");
        var back = await _serviceControl.ListAsync(groupId: groupId);
        var gone = await _serviceControl.PostAsync($"/api/failure-groups/{Uri.EscapeDataString(groupId)}/unarchive");

        Assert.Multiple(() =>
        {
            Assert.That(archive.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(archived, Has.Count.EqualTo(2));
            Assert.That(unarchive.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(back, Has.Count.EqualTo(2));
            Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "no archived group of that key is left");
        });
    }

    [Test]
    public async Task An_edited_message_goes_out_under_a_new_id_and_resolves_the_original()
    {
        // A real, confirmed order gets a broken copy of its OrderPlaced: fixed by an edit, Payments handles it
        // (and, the order being paid already, changes nothing). A made-up order would send its events on
        // into the other endpoints.
        var order = await PlaceOrder("tok_ok");
        await WaitForState(order, "Confirmed");
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync(order.Id);
        var failed = await WaitForMessage(messageId, "the invalid OrderPlaced stored");
        var id = ServiceControlClient.IdOf(failed);
        var original = JsonSerializer.Deserialize<OrderPlaced>(failed.GetProperty("body").GetString()!, MessageJson.Options)!;
        var fixedBody = JsonSerializer.Serialize(original with { Lines = [new OrderLine("BOOK-DDD", 1, 42.50m)], Total = 42.50m }, MessageJson.Options);

        var notJson = await _serviceControl.PostAsync($"/api/failed-messages/{id}/edit-and-retry", new { body = "{ not json" });
        var edit = await _serviceControl.PostAsync($"/api/failed-messages/{id}/edit-and-retry", new { body = fixedBody });
        var newId = (await edit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("newMessageId").GetGuid();
        var resolved = await _serviceControl.GetAsync(id);
        await TestEnvironment.Eventually(() => SystemDatabases.HandledByPayments(newId), n => n == 1, "Payments to handle the edited copy under its new id");
        var editAgain = await _serviceControl.PostAsync($"/api/failed-messages/{id}/edit-and-retry", new { body = fixedBody });
        var audit = (await _serviceControl.Http.GetFromJsonAsync<JsonElement[]>($"/api/audit?messageId={id}"))!.Single(e => e.GetProperty("action").GetString() == "EditAndRetry");

        Assert.Multiple(async () =>
        {
            Assert.That(notJson.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(edit.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(newId, Is.Not.EqualTo(Guid.Parse(messageId)));
            Assert.That(ServiceControlClient.StatusOf(resolved), Is.EqualTo("Resolved"));
            Assert.That(resolved.GetProperty("resolution").GetString(), Is.EqualTo("edited"));
            Assert.That(resolved.GetProperty("editedAs").GetGuid(), Is.EqualTo(newId));
            Assert.That(await SystemDatabases.PaymentsFor(order.Id), Is.EqualTo(1), "still one payment for the order");
            Assert.That(editAgain.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), "the original is resolved");
            // The audit keeps what was sent, exactly, where it went, and who sent it by their stable subject.
            Assert.That(audit.GetProperty("sentBody").GetString(), Is.EqualTo(fixedBody));
            Assert.That(audit.GetProperty("sentTo").GetString(), Is.EqualTo(SystemTopology.Payments.Queue));
            Assert.That(audit.GetProperty("operatorId").GetString(), Is.EqualTo(Tokens.SubjectOf("olivia")));
            Assert.That(audit.GetProperty("detail").GetString(), Does.Contain(newId.ToString()));
        });
    }

    [Test]
    public async Task A_redirect_sends_retries_for_a_queue_to_another_queue()
    {
        var target = $"redirected-{Guid.NewGuid():N}";
        await using var broker = await Broker.ConnectAsync();
        await broker.Channel.QueueDeclareAsync(target, durable: false, exclusive: false, autoDelete: true);
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var id = ServiceControlClient.IdOf(await WaitForMessage(messageId, "the invalid OrderPlaced stored"));

        var put = await _serviceControl.Http.PutAsJsonAsync($"/api/retry-redirects/{SystemTopology.Payments.Queue}", new { toQueue = target });
        HttpResponseMessage retry, removed;
        BasicGetResult? arrived;
        try
        {
            retry = await _serviceControl.PostAsync($"/api/failed-messages/{id}/retry");
            arrived = await TestEnvironment.Eventually(() => broker.Channel.BasicGetAsync(target, autoAck: true), m => m is not null, "the retry in the redirect target");
        }
        finally
        {
            removed = await _serviceControl.Http.DeleteAsync($"/api/retry-redirects/{SystemTopology.Payments.Queue}");
        }

        var headers = arrived!.BasicProperties.Headers!;
        var audit = (await _serviceControl.Http.GetFromJsonAsync<JsonElement[]>($"/api/audit?messageId={id}"))!.Single(e => e.GetProperty("action").GetString() == "Retry");
        Assert.Multiple(() =>
        {
            Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(arrived.BasicProperties.MessageId, Is.EqualTo(messageId), "the original message id");
            Assert.That(arrived.BasicProperties.Type, Is.EqualTo(typeof(OrderPlaced).FullName));
            Assert.That(headers.ContainsKey(ServiceControlContract.RetryHeader), Is.True);
            Assert.That(headers.Keys, Has.None.StartWith("exception-"), "failure headers are not sent back");
            Assert.That(headers.Keys, Has.No.Member("conveyor-attempts"));
            Assert.That(removed.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(audit.GetProperty("detail").GetString(), Does.Contain($"1 to {target} (redirected from {SystemTopology.Payments.Queue})"), "the audit names where the retry really went");
        });
    }

    [Test]
    public async Task Unknown_ids_are_404_and_bad_requests_400_as_problem_details()
    {
        var unknown = Guid.NewGuid();
        var responses = new Dictionary<string, (HttpResponseMessage Response, HttpStatusCode Expected)>
        {
            ["get unknown"] = (await _serviceControl.Http.GetAsync($"/api/failed-messages/{unknown}"), HttpStatusCode.NotFound),
            ["retry unknown"] = (await _serviceControl.PostAsync($"/api/failed-messages/{unknown}/retry"), HttpStatusCode.NotFound),
            ["archive unknown"] = (await _serviceControl.PostAsync("/api/failed-messages/archive", new { ids = new[] { unknown } }), HttpStatusCode.NotFound),
            ["retry unknown group"] = (await _serviceControl.PostAsync("/api/failure-groups/message-type:0000/retry"), HttpStatusCode.NotFound),
            ["retry nothing"] = (await _serviceControl.PostAsync("/api/failed-messages/retry", new { ids = Array.Empty<Guid>() }), HttpStatusCode.BadRequest),
            ["unknown classifier"] = (await _serviceControl.Http.GetAsync("/api/failure-groups?classifier=colour"), HttpStatusCode.BadRequest),
            ["redirect to itself"] = (await _serviceControl.Http.PutAsJsonAsync($"/api/retry-redirects/{SystemTopology.Payments.Queue}", new { toQueue = SystemTopology.Payments.Queue }), HttpStatusCode.BadRequest),
        };

        Assert.Multiple(() =>
        {
            foreach (var (what, (response, expected)) in responses)
            {
                Assert.That(response.StatusCode, Is.EqualTo(expected), what);
                Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), what);
            }
        });
    }

    [Test]
    public async Task A_failure_that_cannot_be_stored_stays_in_error_shows_as_an_ingestion_problem_and_is_stored_once_it_can()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/sbin/runuser")) Assert.Ignore("Locking ServiceControl out of PostgreSQL needs root (./build.sh test runs as root in CI).");
        var messageId = Guid.NewGuid().ToString();

        await Postgres.LockOutAsync(SystemTopology.ServiceControl.DatabaseRole);
        JsonElement problem;
        long stillInError;
        try
        {
            await FailedMessages.PublishAsync(messageId, "Tests.Unstorable", "Tests.Boom", "while the database is away", DateTimeOffset.UtcNow);
            problem = await TestEnvironment.Eventually(() => _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/ingestion"),
                i => i.GetProperty("problem").ValueKind == JsonValueKind.String && i.GetProperty("problem").GetString()!.Contains(messageId), "the ingestion problem to be reported");
            stillInError = await RabbitMqManagement.MessagesInAsync(SystemTopology.ErrorQueue);
        }
        finally
        {
            await Postgres.LetInAsync(SystemTopology.ServiceControl.DatabaseRole);
        }

        var stored = await WaitForMessage(messageId, "the failure stored once the database is back");
        var recovered = await TestEnvironment.Eventually(() => _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/ingestion"),
            i => i.GetProperty("problem").ValueKind == JsonValueKind.Null, "the ingestion problem to clear");

        Assert.Multiple(() =>
        {
            Assert.That(stillInError, Is.GreaterThanOrEqualTo(1), "not acknowledged while it could not be stored");
            Assert.That(problem.GetProperty("failedStoreAttempts").GetInt64(), Is.GreaterThanOrEqualTo(1));
            Assert.That(ServiceControlClient.FailureCountOf(stored), Is.EqualTo(1), "stored once, however often it was tried");
            Assert.That(recovered.GetProperty("consuming").GetBoolean(), Is.True);
        });
    }

    [Test]
    public async Task The_audit_log_takes_new_entries_and_refuses_every_change_even_from_ServiceControls_own_role()
    {
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var failed = await _serviceControl.WaitForAsync(FailedMessages.FailedInPayments(messageId), "the failure stored");
        var archived = await _serviceControl.PostAsync($"/api/failed-messages/{ServiceControlClient.IdOf(failed)}/archive");
        var entries = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from audit_log");

        async Task<string?> Refusal(string sql)
        {
            try
            {
                await Sql.ExecuteAsync(RunningSystem.ServiceControlDatabase, sql);
                return null;
            }
            catch (Npgsql.PostgresException ex)
            {
                return ex.SqlState;
            }
        }

        var update = await Refusal("update audit_log set detail = 'rewritten', operator_name = 'someone else'");
        var delete = await Refusal("delete from audit_log");
        var truncate = await Refusal("truncate audit_log");

        Assert.Multiple(async () =>
        {
            Assert.That(archived.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), "an action still writes its entry");
            Assert.That(entries, Is.GreaterThan(0));
            Assert.That(update, Is.EqualTo("42501"), "UPDATE refused");
            Assert.That(delete, Is.EqualTo("42501"), "DELETE refused");
            Assert.That(truncate, Is.EqualTo("42501"), "TRUNCATE refused");
            Assert.That(await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from audit_log where detail = 'rewritten'"), Is.Zero);
        });
    }

    [Test]
    public async Task An_endpoint_that_stops_is_reported_down_within_the_grace_period_and_up_again_after_it_restarts()
    {
        string StateOf(IEnumerable<JsonElement> instances, string endpoint) =>
            instances.Where(i => i.GetProperty("endpoint").GetString() == endpoint).Select(i => i.GetProperty("up").GetBoolean() ? "up" : "down").FirstOrDefault() ?? "unknown";
        Task<List<JsonElement>> Endpoints() => _serviceControl.Http.GetFromJsonAsync<List<JsonElement>>("/api/endpoints")!;

        var all = await TestEnvironment.Eventually(Endpoints, e => SystemTopology.Endpoints.Select(p => p.Name).All(n => StateOf(e, n) == "up"), "every endpoint up");
        var checks = all.Single(i => i.GetProperty("endpoint").GetString() == SystemTopology.Notifications.Name).GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();

        await System.StopAsync(SystemTopology.Payments.Name);
        var stoppedAt = DateTime.UtcNow;
        await TestEnvironment.Eventually(Endpoints, e => StateOf(e, SystemTopology.Payments.Name) == "down", "Payments reported down", RunningSystem.Timings.HeartbeatGracePeriod * 3);
        var reportedAfter = DateTime.UtcNow - stoppedAt;
        var othersWhileDown = await Endpoints();
        var host = othersWhileDown.First(i => i.GetProperty("endpoint").GetString() == SystemTopology.Payments.Name).GetProperty("host").GetString()!;
        var forgetUp = await _serviceControl.Http.DeleteAsync($"/api/endpoints/{SystemTopology.Orders.Name}/{Uri.EscapeDataString(host)}");
        var forgetDown = await _serviceControl.Http.DeleteAsync($"/api/endpoints/{SystemTopology.Payments.Name}/{Uri.EscapeDataString(host)}");
        var afterForgetting = await Endpoints();

        await System.StartAgainAsync(SystemTopology.Payments.Name);
        await TestEnvironment.Eventually(Endpoints, e => StateOf(e, SystemTopology.Payments.Name) == "up", "Payments reported up again", TimeSpan.FromSeconds(30));

        Assert.Multiple(() =>
        {
            Assert.That(checks, Is.SupersetOf(new[] { "database", "broker", "smtp" }), "Notifications reports its own checks, SMTP included");
            TestContext.Progress.WriteLine($"Payments was reported down {reportedAfter.TotalSeconds:0.0} s after it stopped (grace period {RunningSystem.Timings.HeartbeatGracePeriod.TotalSeconds} s)");
            Assert.That(StateOf(othersWhileDown, SystemTopology.Orders.Name), Is.EqualTo("up"), "only the stopped endpoint is down");
            Assert.That(forgetUp.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), "an instance that is up cannot be forgotten");
            Assert.That(forgetDown.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(StateOf(afterForgetting, SystemTopology.Payments.Name), Is.EqualTo("unknown"), "forgotten until its next heartbeat");
        });
    }
}
