using System.Diagnostics;

namespace Integration.Tests.Infrastructure;

/// <summary>A command run to its end, as an operator would type it; it must succeed.</summary>
public static class Shell
{
    public static async Task<string> RunAsync(string command, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, $"{command} {string.Join(' ', arguments)}: {await errors}");
        return await output;
    }
}
