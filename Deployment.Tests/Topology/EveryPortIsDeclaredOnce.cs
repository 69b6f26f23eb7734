using System.Text.RegularExpressions;
using Conveyor.Topology;

namespace Deployment.Tests.Topology;

/// <summary>
/// A process's port (a local run's, or the tests' beside it) is written in Topology/ and in what is generated from
/// it, nowhere else: code, scripts, deployment files, tests and docs all derive it. Moving a port is a one-line change.
/// </summary>
public class EveryPortIsDeclaredOnce
{
    [Test]
    public async Task No_tracked_file_outside_the_topology_and_its_generated_files_names_a_process_port()
    {
        var ports = SystemTopology.Processes.SelectMany(p => new[] { p.Port, p.TestPort }).ToList();
        var pattern = new Regex($@"(?<![\d.]){string.Join('|', ports.Select(p => $"(?:{p})"))}(?!\d)");

        var found = TrackedFiles.Lines(await TrackedFiles.HandWrittenAsync(), pattern.IsMatch);

        Assert.That(found, Is.Empty, () => "take the port from Conveyor.Topology (C#), deploy/topology.json (build.ps1) or a generated region:\n" + string.Join('\n', found));
    }
}
