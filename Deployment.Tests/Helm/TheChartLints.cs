namespace Deployment.Tests.Helm;

/// <summary>`helm lint --strict` passes with the defaults and the production example, and the values schema
/// turns wrong values into lint failures.</summary>
public class TheChartLints
{
    [Test]
    public async Task With_the_default_values()
    {
        var result = await Chart.LintAsync();
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
    }

    [Test]
    public async Task With_the_production_example()
    {
        var result = await Chart.LintAsync("-f", Chart.ProductionValues);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
    }

    [TestCase("processes.orders.replicas=two", "/processes/orders/replicas", TestName = "A string for replicas fails lint")]
    [TestCase("processes.orders.replicaz=2", "replicaz", TestName = "A misspelt key fails lint")]
    [TestCase("rabbitmq.port=amqp", "/rabbitmq/port", TestName = "A port that is no number fails lint")]
    [TestCase("image.tag=latest", "/image/tag", TestName = "The latest tag fails lint")]
    [TestCase("podSecurityContext.runAsNonRoot=false", "/podSecurityContext/runAsNonRoot", TestName = "Running as root fails lint")]
    [TestCase("processes.servicecontrol.replicas=2", "/processes/servicecontrol/replicas", TestName = "A second ServiceControl fails lint")]
    [TestCase("keycloak.authority=https://id.example.com", "/keycloak/authority", TestName = "An authority without a realm fails lint")]
    [TestCase("processes.orders.resources.limits=null", "/processes/orders/resources", TestName = "No resource limits fails lint")]
    public async Task With_wrong_values_it_fails(string setting, string named)
    {
        var result = await Chart.LintAsync("--set", setting);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
            Assert.That(result.Output + result.Errors, Does.Contain(named));
        });
    }
}
