using System.Text.RegularExpressions;
using Conveyor.Topology;
using Deployment.Tests.Infrastructure;

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
        var generated = GeneratedFiles.Files().Keys.Append(RealmAddresses.Path).ToHashSet();
        var regions = GeneratedRegions.All.ToLookup(r => r.Path);

        var tracked = await Command.RunAsync("git", ["ls-files", "-z"]);
        Assert.That(tracked.ExitCode, Is.Zero, tracked.ToString());

        var found = new List<string>();
        foreach (var path in tracked.Output.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            if (path.StartsWith("Topology/", StringComparison.Ordinal) || generated.Contains(path)) continue;
            var file = Path.Combine(Repository.Root, path);
            if (!File.Exists(file) || IsBinary(file)) continue;
            var text = regions[path].Aggregate(File.ReadAllText(file), (current, region) => region.Without(current));
            found.AddRange(text.Split('\n').Select((line, index) => (line, index)).Where(l => pattern.IsMatch(l.line)).Select(l => $"{path}:{l.index + 1}: {l.line.Trim()}"));
        }

        Assert.That(found, Is.Empty, () => "take the port from Conveyor.Topology (C#), deploy/topology.json (build.ps1) or a generated region:\n" + string.Join('\n', found));
    }

    private static bool IsBinary(string file)
    {
        var head = new byte[Math.Min(8000, new FileInfo(file).Length)];
        using var stream = File.OpenRead(file);
        stream.ReadExactly(head);
        return head.Contains((byte)0);
    }
}
