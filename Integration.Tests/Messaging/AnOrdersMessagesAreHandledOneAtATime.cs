using Integration.Tests.Infrastructure;

namespace Integration.Tests.Messaging;

/// <summary>
/// The shared wiring handles the messages of one order (one correlation id) one at a time and in turn, while different
/// orders go side by side: an order's payment and its stock answer, arriving together, no longer race for the saga.
/// </summary>
[NonParallelizable]
public class AnOrdersMessagesAreHandledOneAtATime : LedgerFixture
{
    [Test]
    public async Task Messages_of_one_conversation_never_overlap()
    {
        const int visits = 30;
        var conversation = $"order-{Guid.NewGuid()}";
        var reference = Guid.NewGuid();

        await Task.WhenAll(Enumerable.Range(0, visits).Select(_ => SendAsync(new Visit(reference), conversation)));

        await TestEnvironment.Eventually(() => EntriesFor(reference), n => n == visits, $"all {visits} visits handled");
        Assert.That(VisitHandler.MostAtOnceIn(conversation), Is.EqualTo(1), "visits of one conversation handled at the same time");
    }

    [Test]
    public async Task Messages_of_different_conversations_are_all_handled()
    {
        const int conversations = 30;
        var reference = Guid.NewGuid();
        var names = Enumerable.Range(0, conversations).Select(i => $"order-{Guid.NewGuid()}").ToList();

        await Task.WhenAll(names.Select(name => SendAsync(new Visit(reference), name)));

        await TestEnvironment.Eventually(() => EntriesFor(reference), n => n == conversations, $"a visit of each of {conversations} conversations handled");
        Assert.That(names.Select(VisitHandler.MostAtOnceIn), Is.All.EqualTo(1), "each conversation's one visit, handled once");
    }
}
