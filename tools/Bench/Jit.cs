using System.Globalization;
using Conveyor.Topology;

namespace Conveyor.Bench;

/// <summary>
/// Methods JIT-compiled so far, to tell a warm system from one still compiling: the .NET endpoints' own count (the
/// runtime's <c>dotnet.jit.compiled_methods</c>, on each one's /metrics, open to loopback), or for the baselines the
/// bench's process's.
/// </summary>
public static class Jit
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static Func<Task<long>> OfThisProcess() => () => Task.FromResult(System.Runtime.JitInfo.GetCompiledMethodCount());

    /// <summary>Every .NET endpoint's instances (instance n on its port + 100 × (n − 1)), summed.</summary>
    public static Func<Task<long>> OfEndpoints(int instances) => async () =>
    {
        long total = 0;
        foreach (var endpoint in SystemTopology.Endpoints.Where(e => e.Runtime == Runtime.DotNet))
        {
            for (var instance = 0; instance < instances; instance++)
            {
                if (instance > 0 && !SystemTopology.BusinessEndpoints.Contains(endpoint)) continue;
                var metrics = await Http.GetStringAsync($"http://127.0.0.1:{endpoint.Port + 100 * instance}/metrics");
                total += metrics.Split('\n').Where(l => l.StartsWith("dotnet_jit_compiled_methods", StringComparison.Ordinal))
                    .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
            }
        }

        return total;
    };
}
