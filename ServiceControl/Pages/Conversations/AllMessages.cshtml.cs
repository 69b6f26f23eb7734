using Conveyor.ServiceControl.Audit;
using Conveyor.ServiceControl.FailedMessages;
using Conveyor.Topology;
using Microsoft.AspNetCore.Mvc;

namespace Conveyor.ServiceControl.Pages.Conversations;

/// <summary>Every message every endpoint handled (or failed to), searched, filtered, sorted and paged.</summary>
public sealed class AllMessagesModel(MessageQueries queries, TimeProvider clock) : PulsePage(clock)
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public string? Endpoint { get; set; }
    [BindProperty(SupportsGet = true)] public DateTime? From { get; set; }
    [BindProperty(SupportsGet = true)] public DateTime? To { get; set; }
    [BindProperty(SupportsGet = true)] public MessageSort Sort { get; set; } = MessageSort.TimeSent;
    [BindProperty(SupportsGet = true)] public string Direction { get; set; } = "desc";
    [BindProperty(SupportsGet = true, Name = "page")] public int PageNumber { get; set; } = 1;

    public Page<MessageSummary> Messages { get; private set; } = new([], 0, 1, PageSize);

    public static IEnumerable<string> Endpoints => SystemTopology.BusinessEndpoints.Select(e => e.Name);

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        PageNumber = Math.Clamp(PageNumber, 1, FailedMessageQueries.MaxPage);
        if (Q?.Length > 500) Q = Q[..500];
        // The form's times are UTC, as every time Pulse shows.
        DateTimeOffset? Utc(DateTime? at) => at is { } value ? new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc)) : null;
        Messages = await queries.SearchAsync(Q, Endpoint, Utc(From), Utc(To), Sort, Direction == "asc", PageNumber, PageSize, cancellation);
        return Page();
    }

    public string PageLink(int page) =>
        $"/messages?q={Uri.EscapeDataString(Q ?? "")}&endpoint={Uri.EscapeDataString(Endpoint ?? "")}&from={From:yyyy-MM-ddTHH:mm}&to={To:yyyy-MM-ddTHH:mm}&sort={Sort}&direction={Direction}&page={page}";

    public string TotalText => Messages.Total > MessageQueries.MaxCounted ? $"more than {MessageQueries.MaxCounted:N0}" : Messages.Total.ToString("N0");
}
