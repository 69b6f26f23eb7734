using System.Text.Json;
using Conveyor.ServiceControl.Audit;
using Microsoft.AspNetCore.Mvc;

namespace Conveyor.ServiceControl.Pages.Conversations;

/// <summary>One message as one endpoint handled it: its body and headers, its conversation's flow and sequence, its saga's steps.</summary>
public sealed class ProcessedMessageModel(MessageQueries queries, TimeProvider clock) : PulsePage(clock)
{
    public static readonly IReadOnlyList<(string Tab, string Title)> Tabs = [("body", "Body"), ("headers", "Headers"), ("flow", "Flow"), ("sequence", "Sequence"), ("saga", "Saga")];

    [BindProperty(SupportsGet = true)] public string Tab { get; set; } = "body";

    public MessageDetail Message { get; private set; } = null!;

    public Conversation? Conversation { get; private set; }

    public SagaHistory? Saga { get; private set; }

    /// <summary>The body as indented JSON when it is JSON, else as it is.</summary>
    public string? PrettyBody { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellation)
    {
        var message = await queries.GetAsync(id, cancellation);
        if (message is null) return NotFound();
        Message = message;
        if (!Tabs.Any(t => t.Tab == Tab)) Tab = "body";
        PrettyBody = Pretty(message.Body);
        if (Tab is "flow" or "sequence" && message.Message.ConversationId is { } conversation) Conversation = await queries.ConversationAsync(conversation, cancellation);
        if (Tab == "saga" && message.Message.SagaId is { } saga) Saga = await queries.SagaAsync(saga, cancellation);
        return Page();
    }

    public static string Link(Guid id, string tab) => $"/message/{id}?tab={tab}";

    private static string? Pretty(string? body)
    {
        if (body is null) return null;
        try
        {
            using var document = JsonDocument.Parse(body);
            return JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }
        catch (JsonException)
        {
            return body;
        }
    }
}
