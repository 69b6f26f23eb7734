using Conveyor.Hosting;
using Wolverine;

namespace Handlers.Tests.Hosting;

/// <summary>A copy whose headers did not fit one AMQP frame would be refused by the broker every time it is sent.</summary>
public class AnAuditCopyFitsOneFrame
{
    [Test]
    public void The_original_headers_are_cut_to_their_bounds_and_say_so()
    {
        var envelope = new Envelope { Headers = { ["huge"] = new string('h', 100_000) } };
        for (var i = 0; i < 300; i++) envelope.Headers[$"header-{i}"] = new string('v', 500);

        var headers = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(Auditing.OriginalHeaders(envelope))!;

        Assert.Multiple(() =>
        {
            Assert.That(Auditing.OriginalHeaders(envelope), Has.Length.LessThan(AuditHeaders.MaxOriginalHeadersLength + 4 * 1024));
            Assert.That(headers["huge"], Does.StartWith(new string('h', AuditHeaders.MaxOriginalHeaderLength)).And.EndWith("(100000 characters)"));
            Assert.That(headers["(cut)"], Does.EndWith("more headers not kept"));
        });
    }

    [Test]
    public void A_handler_that_sent_many_messages_lists_the_first_hundred()
    {
        var sent = Enumerable.Range(0, 1000).Select(_ => new Envelope { MessageType = "Tests.Many" });

        Assert.That(System.Text.Json.JsonDocument.Parse(Auditing.Outgoing(sent)).RootElement.GetArrayLength(), Is.EqualTo(AuditHeaders.MaxOutgoingListed));
    }
}
