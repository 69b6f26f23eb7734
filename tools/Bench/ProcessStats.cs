using System.Globalization;

namespace Conveyor.Bench;

/// <summary>CPU time and peak memory of a group of processes (an endpoint's, RabbitMQ's, PostgreSQL's), read from /proc.</summary>
public sealed record ProcessGroup(string Name, IReadOnlyList<int> Pids)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>The bench's own process: the client (load and SMTP sink), and for the baseline its pipeline too.</summary>
    public const string BenchProcess = "bench (load, SMTP sink)";

    /// <summary>A baseline's processes: the bench's own (its pipeline runs there) and what both sides share, the broker, the database and the identity provider.</summary>
    public static IReadOnlyList<ProcessGroup> OfBaseline() =>
        Discover(Path.Combine(".artifacts", "run")).Where(g => g.Name is BenchProcess or "rabbitmq" or "postgresql" || g.Name == Topology.SystemTopology.IdentityProvider.Name).ToList();

    /// <summary>The endpoints `up` recorded, and RabbitMQ and PostgreSQL found by their process names.</summary>
    public static IReadOnlyList<ProcessGroup> Discover(string runDirectory)
    {
        var groups = new List<ProcessGroup>();
        // Every process's parent, read once for all the groups.
        var parents = AllPids().ToDictionary(pid => pid, ParentOf);
        foreach (var pidFile in Directory.GetFiles(runDirectory, "*.pid").Order())
        {
            var name = Path.GetFileNameWithoutExtension(pidFile);
            // The observability tools are not part of the system under load, nor is the development mail catcher (the
            // bench's mail goes to its own sink); the identity provider is (it issues the tokens the edge checks).
            if (name is "dashboard" or "prometheus" or "smtp4dev") continue;
            // With its children: `dotnet tool run smtp4dev` (the recorded PID) runs the catcher as a child process.
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && Directory.Exists($"/proc/{pid}")) groups.Add(new ProcessGroup(name, WithDescendants(pid, parents)));
        }

        groups.Add(new ProcessGroup(BenchProcess, [Environment.ProcessId]));
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
    public double PeakMemoryMb() => StatusMb("VmHWM:");

    /// <summary>
    /// Memory now, summed over the group, in MB: each process's proportional set size (PSS, from smaps_rollup), so
    /// pages shared by PostgreSQL's processes count once in all and not once per process as VmRSS would.
    /// </summary>
    public double ResidentMemoryMb() => Pids.Sum(pid =>
        ReadOrEmpty($"/proc/{pid}/smaps_rollup").Split('\n').FirstOrDefault(l => l.StartsWith("Pss:", StringComparison.Ordinal)) is { } line
            ? double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024
            : 0);

    private double StatusMb(string field) => Pids.Sum(pid =>
        ReadOrEmpty($"/proc/{pid}/status").Split('\n').FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal)) is { } line
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

/// <summary>The whole machine over a run, from /proc/stat: busy (steal included) and stolen CPU, in % of all its cores.</summary>
public sealed record MachineUsage(int Cores, double BusyCpuSeconds, double BusyPercent, double StealPercent)
{
    /// <summary>(busy, steal, total) jiffies of every CPU so far.</summary>
    public static (double Busy, double Steal, double Total) Read()
    {
        // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var idle = fields[3] + fields[4];
        var total = fields.Sum();
        return (total - idle, fields[7], total);
    }
}

public sealed record Usage(IReadOnlyList<ProcessUsage> Processes, MachineUsage Machine);

public static class ProcessUsageMeter
{
    public static Func<TimeSpan, Usage> Start(IReadOnlyList<ProcessGroup> groups)
    {
        var before = groups.ToDictionary(g => g.Name, g => g.CpuSeconds());
        var machine = MachineUsage.Read();
        return elapsed =>
        {
            var processes = groups.Select(g =>
            {
                var cpu = g.CpuSeconds() - before[g.Name];
                return new ProcessUsage(g.Name, Math.Round(cpu, 2), Math.Round(100 * cpu / elapsed.TotalSeconds, 1), Math.Round(g.PeakMemoryMb(), 1));
            }).ToList();
            var now = MachineUsage.Read();
            var total = Math.Max(1, now.Total - machine.Total);
            return new Usage(processes, new MachineUsage(Environment.ProcessorCount, Math.Round((now.Busy - machine.Busy) / 100, 2),
                Math.Round(100 * (now.Busy - machine.Busy) / total, 1), Math.Round(100 * (now.Steal - machine.Steal) / total, 1)));
        };
    }
}
