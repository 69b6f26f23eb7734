using Conveyor.Hosting;
using Npgsql;

namespace Handlers.Tests.Hosting;

/// <summary>Every endpoint's pool prepares what it runs twice; an operator's own setting in the connection string wins.</summary>
public class StatementsArePreparedUnlessSaidOtherwise
{
    [Test]
    public void A_connection_string_without_a_setting_gets_prepared_statements()
    {
        var connection = new NpgsqlConnectionStringBuilder(EndpointPersistence.WithPreparedStatements("Host=db;Database=shop;Username=shop"));

        Assert.Multiple(() =>
        {
            Assert.That(connection.MaxAutoPrepare, Is.EqualTo(32));
            Assert.That(connection.AutoPrepareMinUsages, Is.EqualTo(2));
            Assert.That(connection.Database, Is.EqualTo("shop"));
        });
    }

    [TestCase("Max Auto Prepare=0")]
    [TestCase("MaxAutoPrepare=0")]
    [TestCase("max auto prepare=0")]
    public void An_operator_can_turn_them_off(string setting)
    {
        var connection = new NpgsqlConnectionStringBuilder(EndpointPersistence.WithPreparedStatements($"Host=db;{setting};Auto Prepare Min Usages=5"));

        Assert.Multiple(() =>
        {
            Assert.That(connection.MaxAutoPrepare, Is.Zero);
            Assert.That(connection.AutoPrepareMinUsages, Is.EqualTo(5));
        });
    }
}
