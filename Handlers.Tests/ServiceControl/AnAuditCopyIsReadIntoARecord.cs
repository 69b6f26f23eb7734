using Conveyor.Hosting;
using Conveyor.ServiceControl.Audit;
using Conveyor.Topology;

namespace Handlers.Tests.ServiceControl;

public class AnAuditCopyIsReadIntoARecord
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, string?> CopyHeaders() => new()
    {
        [AuditHeaders.MessageId] = "08df5060-0000-0000-0000-000000000001",
        [AuditHeaders.MessageType] = "Conveyor.Messages.OrderPlaced",
        [AuditHeaders.Intent] = AuditHeaders.Intents.Publish,
        [AuditHeaders.ConversationId] = "01a23655-0000-0000-0000-000000000000",
        [AuditHeaders.RelatedTo] = "01a23655-0000-0000-0000-0000000000aa",
        [AuditHeaders.SendingEndpoint] = SystemTopology.Orders.Name,
        // What the copy claims about where it was handled is not what decides it: the broker user is.
        [AuditHeaders.ProcessingEndpoint] = SystemTopology.Orders.Name,
        [AuditHeaders.TimeSent] = "2026-12-02T09:59:59.9000000+00:00",
        [AuditHeaders.ProcessingStarted] = "2026-12-02T09:59:59.9500000+00:00",
        [AuditHeaders.ProcessingEnded] = "2026-12-02T09:59:59.9750000+00:00",
        [AuditHeaders.OriginalHeaders] = """{"traceparent":"00-abc-def-01"}""",
    };

    [Test]
    public void The_processing_endpoint_is_the_one_whose_broker_user_published_the_copy()
    {
        var (message, refusal) = ProcessedMessageReceipt.ReadAuditCopy(CopyHeaders(), "{}"u8.ToArray(), SystemTopology.Payments.BrokerUser, 1024, ReceivedAt);

        Assert.Multiple(() =>
        {
            Assert.That(refusal, Is.Null);
            Assert.That(message!.ProcessingEndpoint, Is.EqualTo(SystemTopology.Payments.Name));
            Assert.That(message.ProcessingMilliseconds, Is.EqualTo(25).Within(0.001));
            Assert.That(message.CriticalMilliseconds, Is.EqualTo(75).Within(0.001));
            Assert.That(message.Kind, Is.EqualTo("event"));
            Assert.That(message.Headers, Is.EqualTo(new Dictionary<string, string?> { ["traceparent"] = "00-abc-def-01" }), "the headers it arrived with");
            Assert.That(message.SearchText, Does.Contain("OrderPlaced ").And.Contain("01a23655-0000-0000-0000-000000000000"));
        });
    }

    private static IEnumerable<TestCaseData> NoBusinessEndpoint() =>
    [
        new TestCaseData((string?)null).SetName("A copy without a broker user is refused"),
        new TestCaseData(SystemTopology.ServiceControl.BrokerUser).SetName("A copy from ServiceControl's user is refused"),
        new TestCaseData("guest").SetName("A copy from a user the topology does not know is refused"),
    ];

    [TestCaseSource(nameof(NoBusinessEndpoint))]
    public void A_copy_from_no_business_endpoint_is_refused(string? publishedBy)
    {
        var (message, refusal) = ProcessedMessageReceipt.ReadAuditCopy(CopyHeaders(), [], publishedBy, 1024, ReceivedAt);

        Assert.Multiple(() =>
        {
            Assert.That(message, Is.Null);
            Assert.That(refusal, Does.Contain("broker user"));
        });
    }

    [Test]
    public void A_body_over_the_bound_is_noted_by_its_size_and_not_kept()
    {
        var (message, _) = ProcessedMessageReceipt.ReadAuditCopy(CopyHeaders(), new byte[2048], SystemTopology.Payments.BrokerUser, 1024, ReceivedAt);

        Assert.That((message!.Body, message.BodySize), Is.EqualTo(((byte[]?)null, 2048)));
    }
}

public class ASagaStepShowsWhatItChanged
{
    [Test]
    public void Changed_added_and_removed_fields_are_listed_by_path()
    {
        var changes = StateDiff.Between(
            """{"status":"Placed","lines":[{"sku":"MUG"}],"refundId":null,"gone":1}""",
            """{"status":"Confirmed","lines":[{"sku":"MUG"},{"sku":"BOOK"}],"refundId":null}""");

        Assert.That(changes, Is.EqualTo(new[]
        {
            new StateChange("gone", "1", null),
            new StateChange("lines[1].sku", null, "\"BOOK\""),
            new StateChange("status", "\"Placed\"", "\"Confirmed\""),
        }));
    }

    [Test]
    public void The_first_step_adds_every_field_and_an_unchanged_step_changes_none()
    {
        Assert.Multiple(() =>
        {
            Assert.That(StateDiff.Between(null, """{"status":"Placed"}"""), Is.EqualTo(new[] { new StateChange("status", null, "\"Placed\"") }));
            Assert.That(StateDiff.Between("""{"status":"Placed"}""", """{"status":"Placed"}"""), Is.Empty);
        });
    }
}
