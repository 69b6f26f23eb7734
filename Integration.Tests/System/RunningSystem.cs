using System.Diagnostics;
using System.Reflection;
using Integration.Tests.Infrastructure;

namespace Integration.Tests.System;

/// <summary>
/// Orders, Payments and Notifications as three OS processes: the real executables built from
/// Endpoints/, started with test ports, databases and vhost, stopped (and their output kept) at the end.
/// </summary>
public sealed class RunningSystem : IAsyncDisposable
{
    public const int OrdersPort = 15080;
    public static readonly Uri OrdersApi = new($"http://127.0.0.1:{OrdersPort}");

    private static readonly (string Name, string Project, int Port, string Database)[] Endpoints =
    [
        ("orders", "Orders", OrdersPort, "orders_systest"),
        ("payments", "Payments", 15081, "payments_systest"),
        ("notifications", "Notifications", 15082, "notifications_systest"),
    ];

    private readonly List<(string Name, Process Process, string Log)> _processes = [];

    public IReadOnlyList<Process> Processes => _processes.Select(p => p.Process).ToList();

    public static string OrdersDatabase => TestEnvironment.Database("orders_systest", "orders");

    public static async Task<RunningSystem> StartAsync()
    {
        var system = new RunningSystem();
        try
        {
            foreach (var endpoint in Endpoints) system.Start(endpoint);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
            foreach (var (name, _, port, _) in Endpoints)
            {
                await TestEnvironment.Eventually(async () =>
                {
                    system.ThrowIfExited();
                    try { return (await http.GetAsync($"http://127.0.0.1:{port}/health/ready")).IsSuccessStatusCode; }
                    catch (HttpRequestException) { return false; }
                    catch (TaskCanceledException) { return false; }
                }, ready => ready, $"{name} to answer /health/ready", TimeSpan.FromSeconds(90));
            }

            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    private void Start((string Name, string Project, int Port, string Database) endpoint)
    {
        // The endpoints were built in the same configuration as this test assembly (Debug or Release).
        var configuration = typeof(RunningSystem).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var root = FindRepositoryRoot();
        var output = Path.Combine(root, "Endpoints", endpoint.Project, "bin", configuration, "net10.0");
        var dll = Path.Combine(output, $"Conveyor.{endpoint.Project}.dll");
        if (!File.Exists(dll)) Assert.Fail($"{dll} is not built; build the solution first (./build.sh build).");

        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = output,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Urls"] = $"http://127.0.0.1:{endpoint.Port}";
        start.Environment["ConnectionStrings__Database"] = TestEnvironment.Database(endpoint.Database, endpoint.Name);
        start.Environment["ConnectionStrings__RabbitMq"] = TestEnvironment.RabbitMq;
        start.Environment["Smtp__Port"] = TestEnvironment.SmtpPort.ToString();

        var log = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"systest-{endpoint.Name}.log");
        var writer = new StreamWriter(log, append: false) { AutoFlush = true };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add((endpoint.Name, process, log));
    }

    private void ThrowIfExited()
    {
        foreach (var (name, process, log) in _processes)
        {
            if (process.HasExited)
            {
                Assert.Fail($"{name} exited with code {process.ExitCode} during start-up:\n{string.Join('\n', File.ReadLines(log).TakeLast(20))}");
            }
        }
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Conveyor.slnx"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Conveyor.slnx not found above " + AppContext.BaseDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (name, process, log) in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            TestContext.AddTestAttachment(log, $"output of {name}");
            process.Dispose();
        }
    }
}
