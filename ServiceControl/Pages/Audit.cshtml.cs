using Conveyor.ServiceControl.Operators;

namespace Conveyor.ServiceControl.Pages;

/// <summary>Who did what, newest first.</summary>
public sealed class AuditModel(ServiceControlDb db, TimeProvider clock) : PulsePage(clock)
{
    public IReadOnlyList<AuditEntry> Entries { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellation) => Entries = await AuditLog.RecentAsync(db, messageId: null, take: 200, cancellation);
}
