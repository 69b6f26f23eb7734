using Conveyor.Bench;

// ./build.sh bench runs this in phases: `system` (orders through the running endpoints), `baseline` (the same work without the framework), `floor` (the raw transport and database), then `report` (Markdown, JSON and charts from the phases' results).
var options = BenchOptions.Parse(args);
Directory.CreateDirectory(options.Output);
try
{
    return options.Phase switch
    {
        "system" => await SystemRun.RunAsync(options),
        "baseline" => await BaselineRun.RunAsync(options),
        "floor" => await FloorRun.RunAsync(options),
        "idle" => await IdleRun.RunAsync(options),
        "report" => Report.Write(options),
        _ => throw new ArgumentException($"Unknown phase '{options.Phase}': use system, baseline or report."),
    };
}
catch (BenchFailedException ex)
{
    Console.Error.WriteLine($"BENCH FAILED: {ex.Message}");
    return 2;
}
