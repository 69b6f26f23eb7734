using System.Text.Json;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Docker;

internal sealed record Instruction(string Keyword, string Arguments);

internal sealed record Stage(string Image, string? Name, IReadOnlyList<Instruction> Instructions)
{
    public IEnumerable<Instruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    public Instruction? Last(string keyword) => All(keyword).LastOrDefault();
}

/// <summary>A Dockerfile read into stages and instructions: continuation lines joined, comments dropped.</summary>
internal sealed class Dockerfile
{
    private Dockerfile(string path, IReadOnlyList<Stage> stages)
    {
        Path = path;
        Stages = stages;
    }

    /// <summary>The file, relative to the repository root (the build context).</summary>
    public string Path { get; }

    public IReadOnlyList<Stage> Stages { get; }

    public Stage Final => Stages[^1];

    /// <summary>The final stage's ENTRYPOINT, in exec form.</summary>
    public string[] EntryPoint => ExecForm(Final.Last("ENTRYPOINT")?.Arguments ?? "[]");

    /// <summary>The final stage's HEALTHCHECK command, in exec form (after CMD).</summary>
    public string[] HealthCheck
    {
        get
        {
            var arguments = Final.Last("HEALTHCHECK")?.Arguments ?? "";
            var cmd = arguments.IndexOf("CMD ", StringComparison.Ordinal);
            return cmd < 0 ? [] : ExecForm(arguments[(cmd + 4)..]);
        }
    }

    /// <summary>The Dockerfiles of the processes the topology says are Node.js packages (Inventory); every other one builds .NET.</summary>
    public static IEnumerable<string> Node() =>
        Conveyor.Topology.SystemTopology.Processes.Where(p => p.Runtime == Conveyor.Topology.Runtime.Node)
            .Select(p => $"{System.IO.Path.GetDirectoryName(p.Project)!.Replace('\\', '/')}/Dockerfile").Order(StringComparer.Ordinal);

    public static IEnumerable<string> DotNet() => All().Except(Node());

    /// <summary>Every Dockerfile in the repository (outside build output and tool folders).</summary>
    public static IEnumerable<string> All() =>
        Directory.EnumerateFiles(Repository.Root, "Dockerfile", SearchOption.AllDirectories)
            .Select(file => System.IO.Path.GetRelativePath(Repository.Root, file))
            .Where(file => !file.Split('/').Any(part => part is "bin" or "obj" or ".artifacts" or ".git" or "node_modules"))
            .Order(StringComparer.Ordinal);

    public static Dockerfile Read(string path)
    {
        var stages = new List<Stage>();
        List<Instruction>? instructions = null;
        foreach (var line in LogicalLines(File.ReadAllLines(Repository.PathTo(path))))
        {
            var space = line.IndexOf(' ');
            var instruction = new Instruction(line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
            if (instruction.Keyword == "FROM")
            {
                var words = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                instructions = [instruction];
                stages.Add(new Stage(words[0], words.Length == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null, instructions));
            }
            else
            {
                (instructions ?? throw new InvalidOperationException($"{path}: {instruction.Keyword} before FROM")).Add(instruction);
            }
        }

        return new Dockerfile(path, stages);
    }

    private static IEnumerable<string> LogicalLines(IEnumerable<string> lines)
    {
        var current = "";
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || line.Length == 0) continue;
            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            yield return current + line;
            current = "";
        }

        if (current.Length > 0) yield return current.Trim();
    }

    private static string[] ExecForm(string json) => JsonSerializer.Deserialize<string[]>(json) ?? [];
}
