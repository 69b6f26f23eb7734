using Conveyor.Hosting;
using Conveyor.ServiceControl.Audit;
using Conveyor.ServiceControl.EndpointHealth;
using Conveyor.ServiceControl.FailedMessages;
using Conveyor.ServiceControl.Monitoring;
using Conveyor.ServiceControl.Operators;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl;

/// <summary>
/// ServiceControl's REST API under <c>/api</c>: the same reads and actions Pulse offers. Errors are
/// problem details: an unknown id is 404, an action on a message in the wrong state 409. Every call needs a
/// bearer token: reads a <c>support</c> or <c>ops</c> role, actions (every POST, PUT, DELETE) <c>ops</c>.
/// </summary>
public static class Api
{
    public sealed record Selection(IReadOnlyList<Guid>? Ids);
    public sealed record EditedBody(string? Body);
    public sealed record RedirectTarget(string? ToQueue);
    public sealed record ActionResponse(int Count, string Detail);
    public sealed record EditResponse(Guid NewMessageId, string Detail);

    public static WebApplication MapServiceControlApi(this WebApplication app)
    {
        var api = app.MapGroup("/api").RequireAuthorization(ConveyorRoles.Support);
        // Every endpoint that changes something also needs ops (the group's support policy applies as well).
        ((IEndpointConventionBuilder)api).Add(endpoint =>
        {
            var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods);
            if (methods.Any(method => !HttpMethods.IsGet(method))) endpoint.Metadata.Add(new AuthorizeAttribute(ConveyorRoles.Ops));
        });

        var failed = api.MapGroup("/failed-messages");
        failed.MapGet("/", async Task<Results<Ok<Page<FailedMessageSummary>>, ProblemHttpResult>> (FailedMessageQueries queries, string? status, string? groupId, int? page, int? pageSize, CancellationToken ct) =>
        {
            if (!TryStatus(status, out var parsed)) return BadRequest($"Unknown status '{status}': use one of {string.Join(", ", Enum.GetNames<FailedMessageStatus>())}.");
            if (PagingProblem(page, pageSize) is { } paging) return BadRequest(paging);
            var result = await queries.ListAsync(parsed, groupId, page ?? 1, pageSize ?? 50, ct);
            return result is null ? NotFound($"No group {groupId} of {parsed} messages.") : TypedResults.Ok(result);
        });
        failed.MapGet("/counts", (FailedMessageQueries queries, CancellationToken ct) => queries.CountsAsync(ct));
        failed.MapGet("/{id:guid}", async Task<Results<Ok<FailedMessageDetail>, ProblemHttpResult>> (Guid id, FailedMessageQueries queries, CancellationToken ct) =>
            await queries.GetAsync(id, ct) is { } detail ? TypedResults.Ok(detail) : NotFound($"No failed message {id}."));
        // Always a download, never rendered: whatever a stored message holds (markup, script) stays inert.
        failed.MapGet("/{id:guid}/body", async Task<Results<FileContentHttpResult, ProblemHttpResult>> (Guid id, FailedMessageQueries queries, CancellationToken ct) =>
            Download(id, await queries.BodyAsync(id, ct), $"No failed message {id}."));

        failed.MapPost("/{id:guid}/retry", (Guid id, RetryFailedMessages retry, CancellationToken ct) => Act(retry.RetryAsync([id], ct)));
        failed.MapPost("/retry", (Selection selection, RetryFailedMessages retry, CancellationToken ct) => Act(retry.RetryAsync(selection.Ids ?? [], ct)));
        failed.MapPost("/retry-all", (RetryFailedMessages retry, CancellationToken ct) => Act(retry.RetryAllAsync(ct)));
        failed.MapPost("/{id:guid}/archive", (Guid id, ArchiveFailedMessages archive, CancellationToken ct) => Act(archive.ArchiveAsync([id], ct)));
        failed.MapPost("/archive", (Selection selection, ArchiveFailedMessages archive, CancellationToken ct) => Act(archive.ArchiveAsync(selection.Ids ?? [], ct)));
        failed.MapPost("/{id:guid}/unarchive", (Guid id, ArchiveFailedMessages archive, CancellationToken ct) => Act(archive.UnarchiveAsync([id], ct)));
        failed.MapPost("/unarchive", (Selection selection, ArchiveFailedMessages archive, CancellationToken ct) => Act(archive.UnarchiveAsync(selection.Ids ?? [], ct)));
        failed.MapPost("/{id:guid}/edit-and-retry", async Task<Results<Accepted<EditResponse>, ProblemHttpResult>> (Guid id, EditedBody edited, EditAndRetry edit, CancellationToken ct) =>
        {
            if (edited.Body is null) return BadRequest("The edited body is required.");
            var (outcome, newId) = await edit.SendAsync(id, edited.Body, ct);
            return outcome.Succeeded ? TypedResults.Accepted($"/api/failed-messages/{id}", new EditResponse(newId!.Value, outcome.Detail)) : Problem(outcome);
        });

        var groups = api.MapGroup("/failure-groups");
        groups.MapGet("/", async Task<Results<Ok<Page<FailureGroup>>, ProblemHttpResult>> (ServiceControlDb db, string? classifier, string? status, int? page, int? pageSize, CancellationToken ct) =>
        {
            classifier ??= FailureGroups.ByExceptionAndMessageType;
            if (!FailureGroups.IsClassifier(classifier)) return BadRequest($"Unknown classifier '{classifier}': use one of {string.Join(", ", FailureGroups.Classifiers.Keys)}.");
            if (!TryStatus(status, out var parsed)) return BadRequest($"Unknown status '{status}'.");
            if (PagingProblem(page, pageSize) is { } paging) return BadRequest(paging);
            return TypedResults.Ok(await FailureGroups.ListAsync(db, classifier, parsed, page ?? 1, pageSize ?? 50, ct));
        });
        groups.MapPost("/{groupId}/retry", (string groupId, RetryFailedMessages retry, CancellationToken ct) => Act(retry.RetryGroupAsync(groupId, ct)));
        groups.MapPost("/{groupId}/archive", (string groupId, ArchiveFailedMessages archive, CancellationToken ct) => Act(archive.ArchiveGroupAsync(groupId, ct)));
        groups.MapPost("/{groupId}/unarchive", (string groupId, ArchiveFailedMessages archive, CancellationToken ct) => Act(archive.UnarchiveGroupAsync(groupId, ct)));

        var redirects = api.MapGroup("/retry-redirects");
        redirects.MapGet("/", async (ServiceControlDb db, CancellationToken ct) => await db.RetryRedirects.AsNoTracking().OrderBy(r => r.FromQueue).ToListAsync(ct));
        redirects.MapPut("/{fromQueue}", async Task<Results<Ok<RetryRedirect>, ProblemHttpResult>> (string fromQueue, RedirectTarget target, RetryRedirects redirects, CancellationToken ct) =>
        {
            var (outcome, redirect) = await redirects.SetAsync(fromQueue, target.ToQueue, ct);
            return outcome.Succeeded ? TypedResults.Ok(redirect!) : Problem(outcome);
        });
        redirects.MapDelete("/{fromQueue}", async Task<Results<NoContent, ProblemHttpResult>> (string fromQueue, RetryRedirects redirects, CancellationToken ct) =>
            await redirects.RemoveAsync(fromQueue, ct) is { Succeeded: false } failed ? Problem(failed) : TypedResults.NoContent());

        var messages = api.MapGroup("/messages");
        messages.MapGet("/", async Task<Results<Ok<Page<MessageSummary>>, ProblemHttpResult>> (
            MessageQueries queries, string? q, string? endpoint, DateTimeOffset? from, DateTimeOffset? to, string? sort, string? direction, int? page, int? pageSize, CancellationToken ct) =>
        {
            var order = MessageSort.TimeSent;
            if (sort is not null && !Enum.TryParse(sort, ignoreCase: true, out order)) return BadRequest($"Unknown sort '{sort}': use one of {string.Join(", ", Enum.GetNames<MessageSort>())}.");
            if (direction is not null and not ("asc" or "desc")) return BadRequest($"Unknown direction '{direction}': use asc or desc.");
            if (q is { Length: > MaxSearchLength }) return BadRequest($"The search text must be at most {MaxSearchLength} characters.");
            if (from > to) return BadRequest("from must not be after to.");
            if (PagingProblem(page, pageSize) is { } paging) return BadRequest(paging);
            return TypedResults.Ok(await queries.SearchAsync(q, endpoint, from, to, order, direction == "asc", page ?? 1, pageSize ?? 50, ct));
        });
        messages.MapGet("/{id:guid}", async Task<Results<Ok<MessageDetail>, ProblemHttpResult>> (Guid id, MessageQueries queries, CancellationToken ct) =>
            await queries.GetAsync(id, ct) is { } detail ? TypedResults.Ok(detail) : NotFound($"No message {id}."));
        messages.MapGet("/{id:guid}/body", async Task<Results<FileContentHttpResult, ProblemHttpResult>> (Guid id, MessageQueries queries, CancellationToken ct) =>
            Download(id, await queries.BodyAsync(id, ct), $"No stored body of message {id}."));
        api.MapGet("/conversations/{id}", async Task<Results<Ok<Conversation>, ProblemHttpResult>> (string id, MessageQueries queries, CancellationToken ct) =>
            await queries.ConversationAsync(id, ct) is { } conversation ? TypedResults.Ok(conversation) : NotFound($"No conversation {id}."));
        api.MapGet("/sagas/{id}", async Task<Results<Ok<SagaHistory>, ProblemHttpResult>> (string id, MessageQueries queries, CancellationToken ct) =>
            await queries.SagaAsync(id, ct) is { } saga ? TypedResults.Ok(saga) : NotFound($"No saga {id}."));

        api.MapGet("/endpoints", (EndpointStatuses endpoints, CancellationToken ct) => endpoints.ListAsync(ct));
        api.MapDelete("/endpoints/{endpoint}/{host}", async Task<Results<NoContent, ProblemHttpResult>> (string endpoint, string host, EndpointStatuses endpoints, CancellationToken ct) =>
            await endpoints.ForgetAsync(endpoint, host, ct) is { Succeeded: false } failed ? Problem(failed) : TypedResults.NoContent());
        api.MapGet("/audit", async (ServiceControlDb db, Guid? messageId, int? take, CancellationToken ct) =>
            await AuditLog.RecentAsync(db, messageId, Math.Clamp(take ?? 100, 1, 1000), ct));
        api.MapGet("/ingestion", (IngestionStatus status) => status.Current);
        api.MapGet("/ingestion/audit", (AuditIngestionStatus status) => status.Current);
        api.MapGet("/monitoring", (QueueLengths queues, EndpointThroughput throughput) => new
        {
            queues = queues.Snapshot().Select(q => new { queue = q.Queue, samples = q.Samples }),
            queueProblem = queues.Problem,
            endpoints = throughput.Snapshot().Select(e => new { endpoint = e.Endpoint, host = e.Host, samples = e.Samples }),
        });

        return app;
    }

    private const int MaxSearchLength = 500;

    /// <summary>A page beyond any list, or a page size past the bound, is the client's mistake: said, never clamped or overflowed.</summary>
    private static string? PagingProblem(int? page, int? pageSize)
    {
        if (pageSize is { } size && (size < 1 || size > FailedMessageQueries.MaxPageSize)) return $"pageSize must be 1 to {FailedMessageQueries.MaxPageSize}.";
        if (page is { } number && (number < 1 || number > FailedMessageQueries.MaxPage)) return $"page must be 1 to {FailedMessageQueries.MaxPage}.";
        return null;
    }

    private static bool TryStatus(string? value, out FailedMessageStatus status)
    {
        status = FailedMessageStatus.Unresolved;
        return value is null || Enum.TryParse(value, ignoreCase: true, out status);
    }

    private static Results<FileContentHttpResult, ProblemHttpResult> Download(Guid id, (byte[] Body, string? ContentType)? body, string notFound) =>
        body is { } found
            ? TypedResults.File(found.Body, found.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true ? "application/json" : "application/octet-stream", $"{id}.body")
            : NotFound(notFound);

    private static async Task<Results<Accepted<ActionResponse>, ProblemHttpResult>> Act(Task<ActionOutcome> action)
    {
        var outcome = await action;
        return outcome.Succeeded ? TypedResults.Accepted((string?)null, new ActionResponse(outcome.Count, outcome.Detail)) : Problem(outcome);
    }

    private static ProblemHttpResult Problem(ActionOutcome outcome) => outcome.Result switch
    {
        ActionOutcome.Kind.NotFound => NotFound(outcome.Detail),
        ActionOutcome.Kind.Conflict => TypedResults.Problem(outcome.Detail, statusCode: StatusCodes.Status409Conflict, title: "The message is not in a state that allows this"),
        ActionOutcome.Kind.Invalid => BadRequest(outcome.Detail),
        _ => TypedResults.Problem(outcome.Detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "The broker is not available"),
    };

    private static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static ProblemHttpResult BadRequest(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid");
}
