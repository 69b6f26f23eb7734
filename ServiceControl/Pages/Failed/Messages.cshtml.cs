using Conveyor.ServiceControl.FailedMessages;
using Microsoft.AspNetCore.Mvc;

namespace Conveyor.ServiceControl.Pages.Failed;

/// <summary>The messages of one group (or all) in a status, a page at a time, with actions on a selection.</summary>
public sealed class MessagesModel(FailedMessageQueries queries, RetryFailedMessages retry, ArchiveFailedMessages archive, ServiceControlDb db, TimeProvider clock) : PulsePage(clock)
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "group")] public string? GroupId { get; set; }
    [BindProperty(SupportsGet = true)] public FailedMessageStatus Status { get; set; } = FailedMessageStatus.Unresolved;
    [BindProperty(SupportsGet = true, Name = "page")] public int PageNumber { get; set; } = 1;

    public FailureGroup? Group { get; private set; }
    public Page<FailedMessageSummary> Messages { get; private set; } = new([], 0, 1, PageSize);

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (GroupId is not null)
        {
            Group = (await FailureGroups.FindAsync(db, GroupId, Status, cancellation))?.Group;
        }

        var page = await queries.ListAsync(Status, GroupId, PageNumber, PageSize, cancellation);
        if (page is not null) Messages = page;
        return Page();
    }

    public string PageLink(int page) =>
        $"/failed/messages?status={Status}{(GroupId is null ? "" : "&group=" + Uri.EscapeDataString(GroupId))}&page={page}";

    public async Task<IActionResult> OnPostRetrySelectedAsync(Guid[] ids, CancellationToken cancellation) =>
        AfterAction(await retry.RetryAsync(ids, cancellation), Request.Path + Request.QueryString);

    public async Task<IActionResult> OnPostArchiveSelectedAsync(Guid[] ids, CancellationToken cancellation) =>
        AfterAction(await archive.ArchiveAsync(ids, cancellation), Request.Path + Request.QueryString);

    public async Task<IActionResult> OnPostUnarchiveSelectedAsync(Guid[] ids, CancellationToken cancellation) =>
        AfterAction(await archive.UnarchiveAsync(ids, cancellation), Request.Path + Request.QueryString);
}
