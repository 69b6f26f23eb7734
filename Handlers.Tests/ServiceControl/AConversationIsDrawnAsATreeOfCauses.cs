using Conveyor.ServiceControl.Audit;
using Conveyor.Topology;

namespace Handlers.Tests.ServiceControl;

public class AConversationIsDrawnAsATreeOfCauses
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly string Orders = SystemTopology.Orders.Name;
    private static readonly string Payments = SystemTopology.Payments.Name;
    private static readonly string Notifications = SystemTopology.Notifications.Name;

    private static MessageSummary Record(string messageId, string type, string intent, string endpoint, string? sentBy, string? relatedTo, int atMs, MessageOutcome outcome = MessageOutcome.Processed)
    {
        var kind = ProcessedMessage.KindOf(intent);
        return new MessageSummary(Guid.NewGuid(), messageId, $"Conveyor.Messages.{type}", type, kind, intent, outcome, endpoint, sentBy, "order-1", "order-1", relatedTo,
            Start.AddMilliseconds(atMs), Start.AddMilliseconds(atMs), Start.AddMilliseconds(atMs + 5), 5, 10, null, null, null, null);
    }

    [Test]
    public void Each_message_sits_under_the_handling_that_sent_it_and_what_is_pending_under_its_sender()
    {
        var request = Record("r", "PlaceOrder", "http", Orders, null, null, 0);
        var atPayments = Record("p", "OrderPlaced", "publish", Payments, Orders, "r", 10);
        var atNotifications = Record("p", "OrderPlaced", "publish", Notifications, Orders, "r", 11);
        var authorized = Record("a", "PaymentAuthorized", "publish", Orders, Payments, "p", 20);
        var confirmedMail = Record("c", "OrderConfirmed", "publish", Notifications, Orders, "a", 30, MessageOutcome.Failed);
        var deadline = new OutgoingMessage("d", "Conveyor.Orders.PaymentDeadlinePassed", "scheduled", "local://durable/", Start.AddSeconds(30));
        var conversation = new Conversation("order-1", [request, atPayments, atNotifications, authorized, confirmedMail], [new PendingMessage(deadline, request.Id)], false);

        var tree = Diagrams.FlowTree(conversation).Select(t => $"{new string(' ', t.Depth)}{t.Node.Type}@{t.Node.HandledBy ?? "-"}:{t.Node.Kind}:{t.Node.Outcome}").ToList();

        Assert.That(tree, Is.EqualTo(new[]
        {
            $"PlaceOrder@{Orders}:http:Processed",
            $" OrderPlaced@{Payments}:event:Processed",
            $"  PaymentAuthorized@{Orders}:event:Processed",
            $"   OrderConfirmed@{Notifications}:event:Failed",
            $" OrderPlaced@{Notifications}:event:Processed",
            " PaymentDeadlinePassed@-:timeout:Pending",
        }), "PaymentAuthorized came from Payments' handling of OrderPlaced, not Notifications'");
    }

    [Test]
    public void Text_from_headers_is_encoded_in_the_drawing()
    {
        var hostile = Record("x", "<script>alert(1)</script>", "publish", Orders, Payments + "\"><img>", null, 0);
        var svg = Diagrams.Flow(new Conversation("order-1", [hostile], [], false), null, id => $"/message/{id}") + Diagrams.Sequence(new Conversation("order-1", [hostile], [], false), null, id => $"/message/{id}");

        Assert.That(svg, Does.Not.Contain("<script>").And.Not.Contain("<img>").And.Contain("&lt;script&gt;"));
    }
}
