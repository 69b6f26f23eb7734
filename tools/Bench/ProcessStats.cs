using System.Globalization;

namespace Conveyor.Bench;

/// <summary>CPU time and peak memory of a group of processes (an endpoint's, RabbitMQ's, PostgreSQL's), read from /proc.</summary>
public sealed record ProcessGroup(string Name, IReadOnlyList<int> Pids)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>The endpoints `up` recorded, and RabbitMQ and PostgreSQL found by their process names.</summary>
    public static IReadOnlyList<ProcessGroup> Discover(string runDirectory)
    {
        var groups = new List<ProcessGroup>();
        // Every process's parent, read once for all the groups.
        var parents = AllPids().ToDictionary(pid => pid, ParentOf);
        foreach (var pidFile in Directory.GetFiles(runDirectory, "*.pid").Order())
        {
            var name = Path.GetFileNameWithoutExtension(pidFile);
            // The observability tools are not part of the system under load; the SMTP catcher and the identity provider are.
            if (name is "dashboard" or "prometheus") continue;
            // With its children: `dotnet tool run smtp4dev` (the recorded PID) runs the catcher as a child process.
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && Directory.Exists($"/proc/{pid}")) groups.Add(new ProcessGroup(name, WithDescendants(pid, parents)));
        }

        groups.Add(new ProcessGroup("bench (load generator)", [Environment.ProcessId]));
        groups.Add(new ProcessGroup("rabbitmq", ByCommand("beam.smp")));
        groups.Add(new ProcessGroup("postgresql", ByCommand("postgres")));
        return groups;
    }

    private static List<int> WithDescendants(int root, Dictionary<int, int> parents)
    {
        var group = new List<int> { root };
        for (var i = 0; i < group.Count; i++) group.AddRange(parents.Where(p => p.Value == group[i]).Select(p => p.Key));
        return group;
    }

    private static IEnumerable<int> AllPids() =>
        Directory.GetDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0).Where(pid => pid > 0);

    private static int ParentOf(int pid)
    {
        var stat = ReadOrEmpty($"/proc/{pid}/stat");
        // After the command (which may hold spaces): state, then the parent's PID.
        return stat.Length == 0 ? 0 : int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
    }

    private static List<int> ByCommand(string command) =>
        AllPids().Where(pid => ReadOrEmpty($"/proc/{pid}/comm").Trim() == command).ToList();

    /// <summary>User + system CPU seconds of the group's processes so far.</summary>
    public double CpuSeconds() => Pids.Sum(pid =>
    {
        var stat = ReadOrEmpty($"/proc/{pid}/stat");
        if (stat.Length == 0) return 0;
        // Fields after the command (which may hold spaces): utime is the 12th, stime the 13th of those.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    });

    /// <summary>Peak resident memory (VmHWM) summed over the group, in MB.</summary>
    public double PeakMemoryMb() => Pids.Sum(pid =>
        ReadOrEmpty($"/proc/{pid}/status").Split('\n').FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)) is { } line
            ? double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024
            : 0);

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}

public sealed record ProcessUsage(string Name, double CpuSeconds, double CpuPercentOfOneCore, double PeakMemoryMb);

public static class ProcessUsageMeter
{
    public static Func<TimeSpan, IReadOnlyList<ProcessUsage>> Start(IReadOnlyList<ProcessGroup> groups)
    {
        var before = groups.ToDictionary(g => g.Name, g => g.CpuSeconds());
        return elapsed => groups.Select(g =>
        {
            var cpu = g.CpuSeconds() - before[g.Name];
            return new ProcessUsage(g.Name, Math.Round(cpu, 2), Math.Round(100 * cpu / elapsed.TotalSeconds, 1), Math.Round(g.PeakMemoryMb(), 1));
        }).ToList();
    }
}
