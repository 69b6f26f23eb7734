using Microsoft.AspNetCore.Mvc.Rendering;

namespace Conveyor.ServiceControl.Pages;

/// <summary>Small helpers the Pulse pages share.</summary>
public static class Nav
{
    public static string Active(ViewContext context, params string[] pages)
    {
        var page = context.RouteData.Values["page"] as string ?? "";
        var archived = string.Equals(context.HttpContext.Request.Query["status"], "archived", StringComparison.OrdinalIgnoreCase);
        // The archive is the failed-message pages filtered to archived messages: it has its own tab.
        var isArchive = archived && page.StartsWith("/Failed/", StringComparison.Ordinal);
        var matches = pages.Contains("/Archived") ? isArchive : !isArchive && pages.Any(p => page.StartsWith(p, StringComparison.Ordinal));
        return matches ? "active" : "";
    }

    /// <summary>"3 min ago", or "in 2 d" for a time still to come.</summary>
    public static string Ago(DateTimeOffset at, DateTimeOffset now)
    {
        var span = (now - at).Duration();
        if (span < TimeSpan.FromSeconds(1)) return "just now";
        var text = span < TimeSpan.FromMinutes(1) ? $"{(int)span.TotalSeconds} s"
            : span < TimeSpan.FromHours(1) ? $"{(int)span.TotalMinutes} min"
            : span < TimeSpan.FromDays(1) ? $"{(int)span.TotalHours} h"
            : $"{(int)span.TotalDays} d";
        return at <= now ? $"{text} ago" : $"in {text}";
    }

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KB",
        _ => $"{bytes / (1024.0 * 1024):0.#} MB",
    };

    public static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'");

    /// <summary>The last part of a .NET type name, which is what an operator scans for.</summary>
    public static string Short(string? typeName) =>
        string.IsNullOrEmpty(typeName) ? "(unknown)" : typeName[(typeName.LastIndexOf('.') + 1)..];

    /// <summary>A small line chart as inline SVG: the last samples, scaled to their own maximum.</summary>
    public static string Sparkline(IReadOnlyList<double> values, int width = 160, int height = 32)
    {
        if (values.Count == 0) return $"<svg class=\"spark\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"no data yet\"></svg>";
        var max = Math.Max(values.Max(), 1e-9);
        var step = values.Count > 1 ? (double)width / (values.Count - 1) : width;
        var points = string.Join(" ", values.Select((v, i) => FormattableString.Invariant($"{i * step:0.#},{height - 2 - v / max * (height - 4):0.#}")));
        return $"<svg class=\"spark\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"last {values.Count} samples\"><polyline points=\"{points}\" /></svg>";
    }
}
