using Conveyor.Topology;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Topology;

/// <summary>
/// The repository's tracked text files as the topology tests read them: without Topology/, without the files
/// generated from it, and with the generated regions of hand-written files cut out.
/// </summary>
internal static class TrackedFiles
{
    public static async Task<IReadOnlyList<(string Path, string Text)>> HandWrittenAsync()
    {
        var generated = GeneratedFiles.Files().Keys.Append(RealmAddresses.Path).ToHashSet();
        var regions = GeneratedRegions.All.ToLookup(r => r.Path);
        var tracked = await Command.RunAsync("git", ["ls-files", "-z"]);
        Assert.That(tracked.ExitCode, Is.Zero, tracked.ToString());

        var files = new List<(string, string)>();
        foreach (var path in tracked.Output.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            if (path.StartsWith("Topology/", StringComparison.Ordinal) || generated.Contains(path)) continue;
            var file = Path.Combine(Repository.Root, path);
            if (!File.Exists(file) || IsBinary(file)) continue;
            files.Add((path, regions[path].Aggregate(File.ReadAllText(file), (current, region) => region.Without(current))));
        }

        return files;
    }

    /// <summary>Every line of <paramref name="files"/> that <paramref name="matches"/>, as <c>path:line: text</c>.</summary>
    public static IReadOnlyList<string> Lines(IEnumerable<(string Path, string Text)> files, Func<string, bool> matches) =>
        [.. files.SelectMany(f => f.Text.Split('\n').Select((line, index) => (line, index)).Where(l => matches(l.line)).Select(l => $"{f.Path}:{l.index + 1}: {l.line.Trim()}"))];

    private static bool IsBinary(string file)
    {
        var head = new byte[Math.Min(8000, new FileInfo(file).Length)];
        using var stream = File.OpenRead(file);
        stream.ReadExactly(head);
        return head.Contains((byte)0);
    }
}
