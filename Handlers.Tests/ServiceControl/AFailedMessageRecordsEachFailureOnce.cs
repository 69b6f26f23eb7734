using Conveyor.ServiceControl.FailedMessages;

namespace Handlers.Tests.ServiceControl;

public class AFailedMessageRecordsEachFailureOnce
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    private static FailureRecord Failure(string key, DateTimeOffset at, string exception = "Boom") =>
        new() { FailureKey = key, FailedAt = at, ExceptionType = exception, ExceptionMessage = $"{exception} at {at:T}", StackTrace = "at X" };

    [Test]
    public void The_same_failure_twice_counts_once()
    {
        var message = new FailedMessage();

        var first = message.Record(Failure("a", T0));
        var again = message.Record(Failure("a", T0));

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.True);
            Assert.That(again, Is.False);
            Assert.That(message.FailureCount, Is.EqualTo(1));
            Assert.That(message.Status, Is.EqualTo(FailedMessageStatus.Unresolved));
        });
    }

    [Test]
    public void A_new_failure_after_a_retry_puts_it_back_in_the_list_with_the_latest_exception()
    {
        var message = new FailedMessage();
        message.Record(Failure("a", T0));
        message.RetryIssued(T0.AddMinutes(1));

        message.Record(Failure("b", T0.AddMinutes(2), "Again"));

        Assert.Multiple(() =>
        {
            Assert.That(message.Status, Is.EqualTo(FailedMessageStatus.Unresolved));
            Assert.That(message.FailureCount, Is.EqualTo(2));
            Assert.That(message.RetryCount, Is.EqualTo(1));
            Assert.That(message.ExceptionType, Is.EqualTo("Again"));
            Assert.That(message.FirstFailedAt, Is.EqualTo(T0));
            Assert.That(message.LastFailedAt, Is.EqualTo(T0.AddMinutes(2)));
        });
    }

    [Test]
    public void A_confirmed_retry_resolves_it()
    {
        var message = new FailedMessage();
        message.Record(Failure("a", T0));
        message.RetryIssued(T0.AddMinutes(1));

        var resolved = message.RetrySucceeded(T0.AddMinutes(1).AddSeconds(2));

        Assert.Multiple(() =>
        {
            Assert.That(resolved, Is.True);
            Assert.That(message.Status, Is.EqualTo(FailedMessageStatus.Resolved));
            Assert.That(message.Resolution, Is.EqualTo("retried"));
        });
    }

    [Test]
    public void A_confirmation_older_than_the_latest_failure_does_not_resolve_it()
    {
        var message = new FailedMessage();
        message.Record(Failure("a", T0));
        message.RetryIssued(T0.AddMinutes(1));
        message.Record(Failure("b", T0.AddMinutes(3)));

        var resolved = message.RetrySucceeded(T0.AddMinutes(2));

        Assert.Multiple(() =>
        {
            Assert.That(resolved, Is.False);
            Assert.That(message.Status, Is.EqualTo(FailedMessageStatus.Unresolved));
        });
    }

    [Test]
    public void Only_unresolved_messages_are_retried_or_archived_and_only_archived_ones_unarchived()
    {
        var message = new FailedMessage();
        message.Record(Failure("a", T0));
        var unresolved = (message.CanRetry, message.CanArchive, message.CanUnarchive);
        message.Archive(T0.AddMinutes(1));
        var archived = (message.CanRetry, message.CanArchive, message.CanUnarchive);
        message.Unarchive(T0.AddMinutes(2));

        Assert.Multiple(() =>
        {
            Assert.That(unresolved, Is.EqualTo((true, true, false)));
            Assert.That(archived, Is.EqualTo((false, false, true)));
            Assert.That(message.Status, Is.EqualTo(FailedMessageStatus.Unresolved));
        });
    }

    [Test]
    public void An_edit_resolves_the_original_and_remembers_the_copy()
    {
        var message = new FailedMessage();
        message.Record(Failure("a", T0));
        var copy = Guid.NewGuid();

        message.ReplacedBy(copy, T0.AddMinutes(1));

        Assert.Multiple(() =>
        {
            Assert.That(message.Status, Is.EqualTo(FailedMessageStatus.Resolved));
            Assert.That(message.Resolution, Is.EqualTo("edited"));
            Assert.That(message.EditedAs, Is.EqualTo(copy));
            Assert.That(message.CanRetry, Is.False);
        });
    }
}
