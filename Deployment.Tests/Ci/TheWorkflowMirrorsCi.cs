using Deployment.Tests.Docker;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Ci;

/// <summary>.github/workflows/ci.yml cannot run here; what it must do is asserted instead.</summary>
public class TheWorkflowMirrorsCi
{
    private readonly Dictionary<object, object?> _workflow = Yaml.Parse(Repository.Read(".github", "workflows", "ci.yml"));

    private Dictionary<object, object?> Job(string name) => _workflow.Map("jobs").Map(name);

    private IEnumerable<Dictionary<object, object?>> Steps(string job) => Job(job).List("steps").Cast<Dictionary<object, object?>>();

    [Test]
    public void The_test_job_runs_what_ci_runs()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Steps("test").Select(s => s.Find("run")?.ToString()), Has.Some.EqualTo("bash .ci/run"));
            Assert.That(Repository.Read(".ci", "run"), Does.Contain("exec ./build.sh test"));
            Assert.That(Job("test").Text("runs-on"), Is.EqualTo("ubuntu-latest"));
            // build.ps1 installs and starts its services as root on Debian.
            Assert.That(Job("test").Text("container"), Does.Match(@"^debian:\d+\.\d+$"));
        });
    }

    [Test]
    public void The_images_job_builds_every_Dockerfile_with_the_repository_as_context()
    {
        var built = Job("images").Map("strategy").Map("matrix").List("include").Select(entry => entry.Text("dockerfile"));
        var run = Steps("images").Select(s => s.Find("run")?.ToString()).Single(r => r is not null)!;
        Assert.Multiple(() =>
        {
            Assert.That(built, Is.EquivalentTo(Dockerfile.All()));
            Assert.That(run, Does.StartWith("docker build --file \"${{ matrix.dockerfile }}\"").And.EndWith(" ."));
        });
    }

    [Test]
    public void Every_action_is_pinned_to_a_release()
    {
        var uses = _workflow.Map("jobs").Values.SelectMany(job => job.List("steps")).Select(step => step.Find("uses")?.ToString()).OfType<string>().ToList();
        Assert.That(uses, Is.Not.Empty);
        Assert.That(uses, Is.All.Match(@"^[\w-]+/[\w-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$"));
    }
}
