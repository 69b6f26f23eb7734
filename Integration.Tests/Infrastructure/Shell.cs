using System.Diagnostics;

namespace Integration.Tests.Infrastructure;

/// <summary>A command run to its end, as an operator would type it; it must succeed.</summary>
public static class Shell
{
    public static Task<string> RunAsync(string command, params string[] arguments) => RunAsync(new ProcessStartInfo(command, arguments));

    public static async Task<string> RunAsync(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, $"{start.FileName} {string.Join(' ', start.ArgumentList)}: {await errors}{await output}");
        return await output;
    }
}
