using Conveyor.Messages;
using Conveyor.Topology;

namespace Deployment.Tests.Topology;

/// <summary>
/// The declaration in Topology/SystemTopology.cs is the whole system: every message type that exists in
/// <c>Messages</c> (found by reflection) has its publisher or sender and its receivers there, and each endpoint has
/// a queue, a port and a broker user of its own.
/// </summary>
public class TheTopologyIsWhole
{
    [Test]
    public void Every_message_type_in_Messages_is_declared_once_with_its_publisher_or_sender()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SystemTopology.Problems(), Is.Empty);
            Assert.That(SystemTopology.MessageTypes, Is.EquivalentTo(MessageJson.MessageTypes));
        });
    }

    [Test]
    public void Every_endpoint_has_its_own_queue_port_database_and_broker_user()
    {
        var endpoints = SystemTopology.Endpoints;
        Assert.Multiple(() =>
        {
            Assert.That(endpoints.Select(e => e.Queue), Is.Unique.And.Not.Contains(SystemTopology.ErrorQueue));
            Assert.That(endpoints.Select(e => e.Port), Is.Unique);
            Assert.That(endpoints.Select(e => e.Database), Is.Unique);
            Assert.That(endpoints.Select(e => e.BrokerUser), Is.Unique.And.Not.Contains(BrokerDefinitions.OperatorUser));
        });
    }
}
