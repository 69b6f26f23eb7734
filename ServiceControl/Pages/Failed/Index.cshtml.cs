using Conveyor.ServiceControl.FailedMessages;
using Microsoft.AspNetCore.Mvc;

namespace Conveyor.ServiceControl.Pages.Failed;

/// <summary>Failed (or archived) messages in groups, by the classifier the operator picks, a page of groups at a time.</summary>
public sealed class IndexModel(ServiceControlDb db, RetryFailedMessages retry, ArchiveFailedMessages archive, TimeProvider clock) : PulsePage(clock)
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true)] public string Classifier { get; set; } = FailureGroups.ByExceptionAndMessageType;
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true, Name = "page")] public int PageNumber { get; set; } = 1;

    public bool Archived => string.Equals(Status, "archived", StringComparison.OrdinalIgnoreCase);
    public Page<FailureGroup> Groups { get; private set; } = new([], 0, 1, PageSize);

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (!FailureGroups.IsClassifier(Classifier) || PageNumber is < 1 or > FailedMessageQueries.MaxPage) return NotFound();
        Groups = await FailureGroups.ListAsync(db, Classifier, Archived ? FailedMessageStatus.Archived : FailedMessageStatus.Unresolved, PageNumber, PageSize, cancellation);
        return Page();
    }

    public string PageLink(int page) => $"/failed?classifier={Classifier}{(Archived ? "&status=archived" : "")}&page={page}";

    public async Task<IActionResult> OnPostRetryGroupAsync(string groupId, CancellationToken cancellation) =>
        AfterAction(await retry.RetryGroupAsync(groupId, cancellation), Request.Path + Request.QueryString);

    public async Task<IActionResult> OnPostArchiveGroupAsync(string groupId, CancellationToken cancellation) =>
        AfterAction(await archive.ArchiveGroupAsync(groupId, cancellation), Request.Path + Request.QueryString);

    public async Task<IActionResult> OnPostUnarchiveGroupAsync(string groupId, CancellationToken cancellation) =>
        AfterAction(await archive.UnarchiveGroupAsync(groupId, cancellation), Request.Path + Request.QueryString);

    public async Task<IActionResult> OnPostRetryAllAsync(CancellationToken cancellation) =>
        AfterAction(await retry.RetryAllAsync(cancellation), Request.Path + Request.QueryString);
}
