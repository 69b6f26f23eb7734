using System.Net.Sockets;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Conveyor.Hosting;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;

namespace Integration.Tests.System;

/// <summary>
/// Every process of the topology (the endpoints, ServiceControl, the identity provider) as OS processes: the real executables, started
/// with test ports, databases and vhost, stopped (and their output kept) at the end.
/// </summary>
public sealed class RunningSystem : IAsyncDisposable
{
    public static readonly Uri OrdersApi = ApiOf(SystemTopology.Orders.Name);
    public static readonly Uri ServiceControlApi = ApiOf(SystemTopology.ServiceControl.Name);
    public static readonly Uri PaymentsApi = ApiOf(SystemTopology.Payments.Name);

    /// <summary>A process of the topology as the tests run it: its test port, its test database, its build output.</summary>
    private sealed record Executable(ProcessTopology Process)
    {
        public string Name => Process.Name;

        public string Project => Process.Project;

        public int Port => Process.TestPort;

        /// <summary>Instance 2 and later of an endpoint: the same queue and database, a port of its own.</summary>
        public int PortOf(int instance) => Port + 100 * (instance - 1);

        public static string ProcessName(string name, int instance) => instance == 1 ? name : $"{name}-{instance}";

    }

    private static readonly Executable[] Endpoints = [.. SystemTopology.Processes.Select(p => new Executable(p))];

    /// <summary>The processes Prometheus scrapes: every endpoint and ServiceControl.</summary>
    public static IEnumerable<(string Endpoint, int Port)> ScrapeTargets => SystemTopology.Endpoints.Select(e => (e.Name, e.TestPort));

    /// <summary>The HTTP address of an endpoint's instance (1 for the first).</summary>
    public static Uri ApiOf(string name, int instance = 1) => new($"http://127.0.0.1:{SystemTopology.Processes.Single(e => e.Name == name).TestPort + 100 * (instance - 1)}");

    public static readonly Uri Authority = new($"{ApiOf(SystemTopology.IdentityProvider.Name)}realms/{LocalDevelopment.Realm}");

    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> _endpointSettings;

    private RunningSystem(IReadOnlyDictionary<string, string> settings, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> endpointSettings)
    {
        _settings = settings;
        _endpointSettings = endpointSettings;
    }

    private readonly List<(string Name, Process Process, string Log)> _processes = [];

    // Where this system's output begins in each log file (earlier fixtures' processes wrote before it).
    private readonly Dictionary<string, long> _outputStarts = [];
    private readonly HashSet<Process> _stopped = [];

    /// <summary>The endpoints' processes (the identity provider aside).</summary>
    public IReadOnlyList<Process> Processes => _processes.Where(p => p.Name != SystemTopology.IdentityProvider.Name && !p.Process.HasExited).Select(p => p.Process).ToList();

    /// <summary>The name a process was started under (<c>payments</c>, <c>payments-2</c>).</summary>
    public string NameOf(Process process) => _processes.First(p => p.Process == process).Name;

    /// <summary>The running process of one instance of an endpoint (<c>payments</c>, <c>payments-2</c>).</summary>
    public Process ProcessOf(string processName) => _processes.Last(p => p.Name == processName && !p.Process.HasExited).Process;

    public static string OrdersDatabase => SystemDatabases.ConnectionTo(SystemTopology.Orders);
    public static string PaymentsDatabase => SystemDatabases.ConnectionTo(SystemTopology.Payments);
    public static string NotificationsDatabase => SystemDatabases.ConnectionTo(SystemTopology.Notifications);
    public static string ServiceControlDatabase => SystemDatabases.ConnectionTo(SystemTopology.ServiceControl);

    /// <summary>
    /// The timings the system runs with in tests: the same mechanisms as in production, on a shorter clock,
    /// so a payment deadline or a retry schedule is seconds, not minutes.
    /// </summary>
    public static class Timings
    {
        // Comfortably longer than a failing OrderPlaced's whole retry schedule (a cold first delivery, then
        // 0.5 s + 1 s + 2 s of delayed retries, each after a scheduled-job poll): once the deadline voids the
        // payment, the next retry of that OrderPlaced rightly finds nothing to charge and succeeds, so a
        // shorter deadline would race the tok_down message out of the error queue.
        public static readonly TimeSpan PaymentDeadline = TimeSpan.FromSeconds(10);
        // Longer than the deadline: tok_slow's charge must still be running when the cancellation arrives.
        public static readonly TimeSpan SlowProviderResponse = TimeSpan.FromSeconds(13);
        public const int ImmediateRetries = 2;
        public const string DelayedRetries = "00:00:00.500,00:00:01,00:00:02";
        public const int TotalAttempts = 1 + ImmediateRetries + 3;
        public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);
        public static readonly TimeSpan HeartbeatGracePeriod = TimeSpan.FromSeconds(4);
    }

    private static readonly Dictionary<string, string> Settings = new()
    {
        // Plain HTTP on loopback: no HTTPS redirection (production hosts redirect and send HSTS).
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        // The tests poll the APIs hard; the edge's rate limit is tested in a fixture of its own.
        ["Conveyor__Edge__RequestsPerWindow"] = "100000",
        ["Conveyor__Edge__AddressRequestsPerWindow"] = "100000",
        ["Orders__PaymentDeadline"] = Timings.PaymentDeadline.ToString("c"),
        ["PaymentProvider__SlowResponse"] = Timings.SlowProviderResponse.ToString("c"),
        ["Conveyor__Recoverability__ImmediateRetries"] = Timings.ImmediateRetries.ToString(),
        ["Conveyor__Recoverability__DelayedRetries"] = Timings.DelayedRetries,
        ["Conveyor__Heartbeats__Interval"] = Timings.HeartbeatInterval.ToString("c"),
        ["ServiceControl__HeartbeatGracePeriod"] = Timings.HeartbeatGracePeriod.ToString("c"),
        ["ServiceControl__QueueLengthPollInterval"] = "00:00:01",
        ["Authentication__Authority"] = Authority.ToString(),
        ["Authentication__RequireHttpsMetadata"] = "false",
        // One second, so a test can see a token expire without waiting out production's 30 s.
        ["Authentication__ClockSkew"] = "00:00:01",
        // The realm with the test's own clients added (read by the identity provider only).
        ["Realm__File"] = TestRealm.File,
    };

    /// <summary>
    /// Starts every process of the topology; <paramref name="overrides"/> replace or add settings (environment variable
    /// names) for all of them, <paramref name="endpointOverrides"/> for one endpoint (by name).
    /// </summary>
    public static async Task<RunningSystem> StartAsync(
        IReadOnlyDictionary<string, string>? overrides = null,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? endpointOverrides = null)
    {
        var settings = new Dictionary<string, string>(Settings);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) settings[key] = value;
        var system = new RunningSystem(settings, endpointOverrides ?? new Dictionary<string, IReadOnlyDictionary<string, string>>());
        try
        {
            // A process of an earlier fixture still holding a port would answer for ours (and its twin
            // would join the same Wolverine cluster, taking work it then drops): start on free ports only.
            foreach (var endpoint in Endpoints) await WaitUntilPortIsFreeAsync(endpoint.Name, endpoint.Port);
            await ForgetWhatServiceControlKnowsAsync();
            await ForgetWhatWasInFlightAsync();
            foreach (var endpoint in Endpoints) system.Start(endpoint, instance: 1);
            foreach (var endpoint in Endpoints) await system.WaitUntilReadyAsync(endpoint.Name, endpoint.Port);
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Each fixture's ServiceControl starts empty (failed messages, redirects, endpoint instances), so a group
    /// or a count holds only what that fixture caused. The endpoints' databases keep their rows: tests find
    /// their own orders by id. The audit log is append-only (no one may empty it): tests find their entries by id.
    /// </summary>
    private static Task ForgetWhatServiceControlKnowsAsync() =>
        TruncateIfPresentAsync(ServiceControlDatabase, "failed_messages", "failed_messages, failures, retry_redirects, endpoint_instances");

    /// <summary>
    /// Nothing an earlier fixture left in flight reaches this one: its messages still in the queues, in an endpoint's
    /// inbox (recovered at start and handled here, which confirmed an earlier fixture's orders under this fixture's
    /// counters) or outbox (Wolverine's tables; a Node.js endpoint's own outbox). The rows those messages caused stay.
    /// </summary>
    private static async Task ForgetWhatWasInFlightAsync()
    {
        foreach (var endpoint in SystemTopology.Endpoints)
        {
            await (endpoint.Runtime == Runtime.DotNet
                ? TruncateIfPresentAsync(SystemDatabases.ConnectionTo(endpoint), "wolverine.wolverine_incoming_envelopes",
                    "wolverine.wolverine_incoming_envelopes, wolverine.wolverine_outgoing_envelopes")
                : TruncateIfPresentAsync(SystemDatabases.ConnectionTo(endpoint), "outbox", "outbox"));
        }

        await using var broker = await Broker.ConnectAsync();
        await broker.PurgeAsync([.. SystemTopology.Endpoints.Select(e => e.Queue), SystemTopology.ErrorQueue, SystemTopology.AuditQueue]);
    }

    /// <summary>Empties <paramref name="tables"/> once their schema exists (<paramref name="probe"/>): a first run has not created it yet.</summary>
    private static Task TruncateIfPresentAsync(string connectionString, string probe, string tables) =>
        Sql.ExecuteAsync(connectionString, $"""
            DO $$ BEGIN
                IF to_regclass('{probe}') IS NOT NULL THEN TRUNCATE {tables}; END IF;
            END $$;
            """);

    /// <summary>Stops one endpoint (every instance of it) as an operator would (the others keep running).</summary>
    public async Task StopAsync(string name)
    {
        foreach (var (_, process, _) in _processes.Where(p => p.Name == name && !p.Process.HasExited))
        {
            _stopped.Add(process);
            await StopGracefullyAsync(process);
        }
    }

    /// <summary>
    /// <c>kill -9</c> of one process (<c>payments</c>, or <c>payments-2</c> for a second instance), as an OOM
    /// kill or a lost machine would end it: no shutdown, no drain, its broker connections simply drop.
    /// </summary>
    public async Task KillAsync(string processName)
    {
        var process = ProcessOf(processName);
        _stopped.Add(process);
        TestContext.Progress.WriteLine($"kill -9 {process.Id} ({processName})");
        await SignalAsync(process, "KILL");
        await process.WaitForExitAsync();
    }

    /// <summary>
    /// <c>kill -STOP</c> of one process: frozen until <see cref="ResumeAsync"/>, its connections open, so what the
    /// broker delivers to it waits, as behind a long GC pause or a starved CPU.
    /// </summary>
    public Task PauseAsync(string processName) => SignalAsync(ProcessOf(processName), "STOP");

    /// <summary><c>kill -CONT</c>: a process paused by <see cref="PauseAsync"/> carries on.</summary>
    public Task ResumeAsync(string processName) => SignalAsync(ProcessOf(processName), "CONT");

    private static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString()]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Starts an endpoint stopped or killed before again, and waits until it is ready.</summary>
    public Task StartAgainAsync(string name, int instance = 1) => StartInstanceAsync(name, instance);

    /// <summary>Starts instance <paramref name="instance"/> of an endpoint (a competing consumer of its queue) and waits until it is ready.</summary>
    public async Task StartInstanceAsync(string name, int instance)
    {
        var endpoint = Endpoints.Single(e => e.Name == name);
        var processName = Executable.ProcessName(name, instance);
        await WaitUntilPortIsFreeAsync(processName, endpoint.PortOf(instance));
        Start(endpoint, instance);
        await WaitUntilReadyAsync(processName, endpoint.PortOf(instance));
    }

    /// <summary>
    /// SIGTERM first, as a service manager would: the endpoint drains and gives up its node's ownership of
    /// scheduled work cleanly. A killed node would hold it until its peers eject it as stale (a minute),
    /// delaying the next run's retries and deadlines.
    /// </summary>
    private static async Task StopGracefullyAsync(Process process)
    {
        TestContext.Progress.WriteLine($"Stopping pid {process.Id} ({process.StartInfo.Arguments})");
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString()])) await term.WaitForExitAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try { await process.WaitForExitAsync(patience.Token); }
        catch (OperationCanceledException)
        {
            TestContext.Progress.WriteLine($"pid {process.Id} did not stop within 20 s of SIGTERM: killing it");
            using (var kill = Process.Start("kill", ["-KILL", process.Id.ToString()])) await kill.WaitForExitAsync();
            await process.WaitForExitAsync();
        }
    }

    private static Task WaitUntilPortIsFreeAsync(string name, int port) =>
        TestEnvironment.Eventually(() =>
        {
            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", port);
                return Task.FromResult(false);
            }
            catch (SocketException)
            {
                return Task.FromResult(true);
            }
        }, free => free, $"port {port} of {name} to be free (an earlier endpoint process is still running)", TimeSpan.FromSeconds(30));

    private async Task WaitUntilReadyAsync(string name, int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        await TestEnvironment.Eventually(async () =>
        {
            ThrowIfExited();
            try { return (await http.GetAsync($"http://127.0.0.1:{port}/health/ready")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
            catch (TaskCanceledException) { return false; }
        }, ready => ready, $"{name} to answer /health/ready", TimeSpan.FromSeconds(90));
    }

    private void Start(Executable endpoint, int instance)
    {
        var start = StartInfoOf(endpoint.Process);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["Urls"] = $"http://127.0.0.1:{endpoint.PortOf(instance)}";
        if (endpoint.Process is EndpointTopology messaging)
        {
            // Its own test database and its own broker user, with that user's own rights: the suite passes under least privilege.
            start.Environment["ConnectionStrings__Database"] = $"{SystemDatabases.ConnectionTo(messaging)};Maximum Pool Size={LocalDevelopment.MaximumPoolSize}";
            start.Environment["ConnectionStrings__RabbitMq"] = TestEnvironment.RabbitMqFor(messaging);
        }

        start.Environment["Smtp__Port"] = TestEnvironment.SmtpPort.ToString();
        foreach (var (key, value) in _settings) start.Environment[key] = value;
        if (_endpointSettings.TryGetValue(endpoint.Name, out var own))
        {
            foreach (var (key, value) in own) start.Environment[key] = value;
        }

        var processName = Executable.ProcessName(endpoint.Name, instance);
        var log = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"systest-{processName}.log");
        _outputStarts.TryAdd(processName, File.Exists(log) ? new FileInfo(log).Length : 0);
        var writer = new StreamWriter(log, append: true) { AutoFlush = true };
        var process = Process.Start(start)!;
        TestContext.Progress.WriteLine($"Started {processName} as pid {process.Id} for {TestContext.CurrentContext.Test.FullName}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add((processName, process, log));
    }

    /// <summary>
    /// How a process of the topology runs: a .NET one as <c>dotnet</c> of its build output (built in the same configuration
    /// as this test assembly), a Node.js one as <c>node</c> of its package's main module, from its package folder.
    /// </summary>
    private static ProcessStartInfo StartInfoOf(ProcessTopology process)
    {
        var root = FindRepositoryRoot();
        if (process.Runtime == Runtime.Node)
        {
            var package = Path.Combine(root, Path.GetDirectoryName(process.Project)!);
            if (!Directory.Exists(Path.Combine(package, "node_modules"))) Assert.Fail($"{package} has no node_modules; install its packages first (./build.sh build runs npm ci).");
            var main = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, process.Project))).RootElement.GetProperty("main").GetString()!;
            return new ProcessStartInfo("node", [main]) { WorkingDirectory = package };
        }

        var (output, dll) = BuildOutputOf(process);
        return new ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = output };
    }

    /// <summary>Where a .NET process of the topology is built, in the same configuration as this test assembly.</summary>
    public static (string Folder, string Dll) BuildOutputOf(ProcessTopology process)
    {
        var configuration = typeof(RunningSystem).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var output = Path.Combine(FindRepositoryRoot(), Path.GetDirectoryName(process.Project)!, "bin", configuration, "net10.0");
        var dll = Path.Combine(output, $"{Path.GetFileNameWithoutExtension(process.Project)}.dll");
        if (!File.Exists(dll)) Assert.Fail($"{dll} is not built; build the solution first (./build.sh build).");
        return (output, dll);
    }

    /// <summary>What this system's <paramref name="name"/> has written to stdout and stderr so far (its log, one JSON object per line).</summary>
    public IReadOnlyList<string> OutputOf(string name)
    {
        var log = _processes.First(p => p.Name == name).Log;
        // The process's writer holds the file open: read it shared.
        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(_outputStarts[name], SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines;
    }

    private void ThrowIfExited()
    {
        foreach (var (name, process, log) in _processes)
        {
            if (process.HasExited && !_stopped.Contains(process))
            {
                Assert.Fail($"{name} exited with code {process.ExitCode} during start-up:\n{string.Join('\n', File.ReadLines(log).TakeLast(20))}");
            }
        }
    }

    internal static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Conveyor.slnx"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Conveyor.slnx not found above " + AppContext.BaseDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        var attached = new HashSet<string>();
        foreach (var (name, process, log) in _processes)
        {
            // Every process is stopped, whatever happens to the one before it.
            try
            {
                if (!process.HasExited) await StopGracefullyAsync(process);
            }
            catch (Exception ex)
            {
                TestContext.Progress.WriteLine($"Stopping {name} (pid {process.Id}) failed: {ex.Message}");
            }

            if (attached.Add(log)) TestContext.AddTestAttachment(log, $"output of {name}");
            process.Dispose();
        }
    }
}
