using Conveyor.ServiceControl.FailedMessages;
using Microsoft.AspNetCore.Mvc;

namespace Conveyor.ServiceControl.Pages.Failed;

/// <summary>Failed (or archived) messages in groups, by the classifier the operator picks.</summary>
public sealed class IndexModel(ServiceControlDb db, RetryFailedMessages retry, ArchiveFailedMessages archive, TimeProvider clock) : PulsePage(clock)
{
    [BindProperty(SupportsGet = true)] public string Classifier { get; set; } = FailureGroups.ByExceptionAndMessageType;
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }

    public bool Archived => string.Equals(Status, "archived", StringComparison.OrdinalIgnoreCase);
    public IReadOnlyList<FailureGroup> Groups { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (!FailureGroups.IsClassifier(Classifier)) return NotFound();
        Groups = await FailureGroups.ListAsync(db, Classifier, Archived ? FailedMessageStatus.Archived : FailedMessageStatus.Unresolved, cancellation);
        return Page();
    }

    public async Task<IActionResult> OnPostRetryGroupAsync(string groupId, CancellationToken cancellation) =>
        AfterAction(await retry.RetryGroupAsync(groupId, cancellation), Request.Path + Request.QueryString);

    public async Task<IActionResult> OnPostArchiveGroupAsync(string groupId, CancellationToken cancellation) =>
        AfterAction(await archive.ArchiveGroupAsync(groupId, cancellation), Request.Path + Request.QueryString);

    public async Task<IActionResult> OnPostUnarchiveGroupAsync(string groupId, CancellationToken cancellation) =>
        AfterAction(await archive.UnarchiveGroupAsync(groupId, cancellation), Request.Path + Request.QueryString);

    public async Task<IActionResult> OnPostRetryAllAsync(CancellationToken cancellation) =>
        AfterAction(await retry.RetryAllAsync(cancellation), Request.Path + Request.QueryString);
}
