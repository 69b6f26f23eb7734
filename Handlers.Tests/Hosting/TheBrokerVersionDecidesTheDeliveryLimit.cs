using Conveyor.Hosting;

namespace Handlers.Tests.Hosting;

public class TheBrokerVersionDecidesTheDeliveryLimit
{
    [TestCase("3.10.8")]
    [TestCase("3.13.7")]
    public void RabbitMQ_3_gets_no_limit_argument_which_there_means_no_limit(string version) =>
        Assert.That(BrokerDeliveryLimit.For(version), Is.Null);

    [TestCase("4.0.5")]
    [TestCase("4.1.0")]
    public void RabbitMQ_4_gets_minus_one_which_there_means_no_limit(string version) =>
        Assert.That(BrokerDeliveryLimit.For(version), Is.EqualTo(-1));

    [Test]
    public void An_unknown_version_is_treated_as_the_older_broker() =>
        Assert.That(BrokerDeliveryLimit.For("unknown"), Is.Null);
}
