using System.Globalization;
using System.Net;
using System.Text;

namespace Conveyor.ServiceControl.Audit;

/// <summary>
/// A conversation drawn as SVG on the server: its flow (who caused what) and its sequence (which endpoint handled
/// what, when). Server-rendered rather than laid out by a JavaScript graph library: a conversation's causation is a
/// tree (every message has one cause), so its layout is a depth-first walk, and the pages work offline with nothing
/// fetched at build time. Every text is HTML-encoded: types and ids come from message headers.
/// </summary>
public static class Diagrams
{
    private const int RowHeight = 64;
    private const int NodeHeight = 50;
    private const int NodeWidth = 420;
    private const int Indent = 36;
    private const int Margin = 12;

    /// <summary>One node of the flow: a handled (or failed) message, or one sent and not handled yet.</summary>
    public sealed record FlowNode(string Key, string? ParentKey, string Type, string Kind, string Outcome, string? SentBy, string? HandledBy, DateTimeOffset? At, double? Milliseconds, Guid? RecordId, string MessageId);

    /// <summary>
    /// The nodes of a conversation in causation order: each under the handling that sent it (the record of its
    /// cause at its sending endpoint), what was sent but not handled after its sender.
    /// </summary>
    public static IReadOnlyList<(FlowNode Node, int Depth)> FlowTree(Conversation conversation)
    {
        var nodes = conversation.Messages.Select(m => new FlowNode(
                m.Id.ToString(), null, m.ShortType, m.Kind, m.Outcome.ToString(), m.SendingEndpoint, m.ProcessingEndpoint,
                m.ProcessingStarted ?? m.TimeSent, m.ProcessingMilliseconds, m.Id, m.MessageId))
            .ToList();
        var byMessage = conversation.Messages.ToLookup(m => m.MessageId);
        for (var i = 0; i < nodes.Count; i++)
        {
            var message = conversation.Messages[i];
            if (message.RelatedTo is null) continue;
            var causes = byMessage[message.RelatedTo].ToList();
            var cause = causes.FirstOrDefault(c => c.ProcessingEndpoint == message.SendingEndpoint) ?? causes.FirstOrDefault();
            if (cause is not null && cause.Id != message.Id) nodes[i] = nodes[i] with { ParentKey = cause.Id.ToString() };
        }

        var sentBy = conversation.Messages.ToDictionary(m => m.Id);
        nodes.AddRange(conversation.Pending.Select(p => new FlowNode(
            $"pending:{p.Message.Id}", p.SentBy.ToString(), p.Message.ShortType, ProcessedMessage.KindOf(p.Message.Intent), "Pending",
            sentBy.TryGetValue(p.SentBy, out var sender) ? sender.ProcessingEndpoint : null, null, p.Message.DueAt, null, null, p.Message.Id)));

        var children = nodes.Where(n => n.ParentKey is not null && nodes.Any(p => p.Key == n.ParentKey)).ToLookup(n => n.ParentKey!);
        var roots = nodes.Where(n => n.ParentKey is null || nodes.All(p => p.Key != n.ParentKey));
        var ordered = new List<(FlowNode, int)>();
        void Walk(FlowNode node, int depth)
        {
            ordered.Add((node, depth));
            foreach (var child in children[node.Key].OrderBy(c => c.At ?? DateTimeOffset.MaxValue)) Walk(child, depth + 1);
        }

        foreach (var root in roots.OrderBy(r => r.At ?? DateTimeOffset.MaxValue)) Walk(root, 0);
        return ordered;
    }

    /// <param name="selected">The record to highlight.</param>
    /// <param name="link">Where a node links to, by record id.</param>
    public static string Flow(Conversation conversation, Guid? selected, Func<Guid, string> link)
    {
        var tree = FlowTree(conversation);
        var maxDepth = tree.Count == 0 ? 0 : tree.Max(t => t.Depth);
        var width = Margin * 2 + maxDepth * Indent + NodeWidth;
        var height = Margin * 2 + tree.Count * RowHeight;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg class=\"flow\" data-test=\"flow\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"flow of conversation {E(conversation.Id)}\">"));
        var rows = tree.Select((t, i) => (t.Node, t.Depth, Row: i)).ToDictionary(t => t.Node.Key);

        foreach (var (node, depth, row) in rows.Values)
        {
            if (node.ParentKey is null || !rows.TryGetValue(node.ParentKey, out var parent)) continue;
            var x1 = Margin + parent.Depth * Indent + 14;
            var y1 = Margin + parent.Row * RowHeight + NodeHeight;
            var x2 = Margin + depth * Indent;
            var y2 = Margin + row * RowHeight + NodeHeight / 2;
            svg.Append(Invariant($"<path class=\"edge {node.Kind}\" data-from=\"{E(parent.Node.MessageId)}\" data-to=\"{E(node.MessageId)}\" data-kind=\"{node.Kind}\" d=\"M{x1},{y1} V{y2} H{x2}\" />"));
        }

        foreach (var (node, depth, row) in rows.Values)
        {
            var x = Margin + depth * Indent;
            var y = Margin + row * RowHeight;
            var isSelected = node.RecordId is { } id && id == selected;
            var classes = $"node {node.Kind} {node.Outcome.ToLowerInvariant()}{(isSelected ? " selected" : "")}";
            var open = node.RecordId is { } record ? $"<a href=\"{E(link(record))}\">" : "";
            var close = node.RecordId is not null ? "</a>" : "";
            var route = node.HandledBy is null ? $"{node.SentBy} → (not handled yet)" : node.SentBy is null ? $"→ {node.HandledBy}" : $"{node.SentBy} → {node.HandledBy}";
            var timing = node.Outcome == "Pending"
                ? node.At is { } due ? $"due {due:HH:mm:ss.fff}" : "sent"
                : $"{node.At:HH:mm:ss.fff} · {(node.Milliseconds is { } ms ? Invariant($"{ms:0.#} ms") : "")} · {node.Outcome}";
            svg.Append(Invariant($"<g class=\"{classes}\" data-test=\"flow-node\" data-message-id=\"{E(node.MessageId)}\" data-type=\"{E(node.Type)}\" data-kind=\"{node.Kind}\" data-outcome=\"{node.Outcome}\" data-endpoint=\"{E(node.HandledBy)}\">"));
            svg.Append(open);
            svg.Append(Invariant($"<rect x=\"{x}\" y=\"{y}\" width=\"{NodeWidth}\" height=\"{NodeHeight}\" rx=\"{(node.Kind == "event" ? 10 : node.Kind == "http" ? 25 : 2)}\" />"));
            svg.Append(Invariant($"<text class=\"title\" x=\"{x + 10}\" y=\"{y + 19}\">{Icon(node.Kind)} {E(node.Type)}</text>"));
            svg.Append(Invariant($"<text class=\"meta\" x=\"{x + 10}\" y=\"{y + 38}\">{E(route)} · {E(timing)}</text>"));
            svg.Append(close);
            svg.Append("</g>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>
    /// A lifeline per endpoint (in the order they first appear), a row per handling in time order: the arrow from the
    /// sender's lifeline to the handler's, the activation on the handler's, the time since the conversation began.
    /// </summary>
    public static string Sequence(Conversation conversation, Guid? selected, Func<Guid, string> link)
    {
        const int laneWidth = 190;
        const int top = 48;
        const int row = 44;
        var messages = conversation.Messages.OrderBy(m => m.ProcessingStarted ?? m.TimeSent).ToList();
        var lanes = messages.SelectMany(m => new[] { m.SendingEndpoint ?? (m.Kind == "http" ? "client" : null), m.ProcessingEndpoint })
            .OfType<string>().Distinct().ToList();
        var start = messages.Select(m => m.TimeSent ?? m.ProcessingStarted).Where(t => t is not null).DefaultIfEmpty(null).Min();
        var width = 90 + lanes.Count * laneWidth;
        var height = top + messages.Count * row + 20;
        double Lane(string? name) => 90 + (Math.Max(0, lanes.IndexOf(name ?? "client")) + 0.5) * laneWidth;

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg class=\"sequence\" data-test=\"sequence\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"sequence of conversation {E(conversation.Id)}\">"));
        foreach (var lane in lanes)
        {
            var x = Lane(lane);
            svg.Append(Invariant($"<g class=\"lifeline\" data-test=\"lifeline\" data-endpoint=\"{E(lane)}\"><text x=\"{x}\" y=\"20\" text-anchor=\"middle\">{E(lane)}</text><line x1=\"{x}\" y1=\"28\" x2=\"{x}\" y2=\"{height - 8}\" /></g>"));
        }

        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            var y = top + i * row;
            var from = Lane(m.SendingEndpoint ?? (m.Kind == "http" ? "client" : m.ProcessingEndpoint));
            var to = Lane(m.ProcessingEndpoint);
            var offset = start is { } s && (m.ProcessingStarted ?? m.TimeSent) is { } at ? Invariant($"+{(at - s).TotalMilliseconds:0} ms") : "";
            var selectedClass = m.Id == selected ? " selected" : "";
            svg.Append(Invariant($"<g class=\"step {m.Kind} {m.Outcome.ToString().ToLowerInvariant()}{selectedClass}\" data-test=\"sequence-step\" data-message-id=\"{E(m.MessageId)}\" data-from=\"{E(m.SendingEndpoint)}\" data-to=\"{E(m.ProcessingEndpoint)}\"><a href=\"{E(link(m.Id))}\">"));
            svg.Append(Invariant($"<text class=\"time\" x=\"4\" y=\"{y + 16}\">{E(offset)}</text>"));
            if (Math.Abs(from - to) > 1) svg.Append(Invariant($"<line class=\"arrow {m.Kind}\" x1=\"{from}\" y1=\"{y + 10}\" x2=\"{to - Math.Sign(to - from) * 7}\" y2=\"{y + 10}\" marker-end=\"url(#arrowhead)\" />"));
            else svg.Append(Invariant($"<path class=\"arrow {m.Kind}\" d=\"M{from},{y + 4} h24 v12 h-17\" marker-end=\"url(#arrowhead)\" />"));
            svg.Append(Invariant($"<rect class=\"activation\" x=\"{to - 6}\" y=\"{y + 12}\" width=\"12\" height=\"{row - 16}\" />"));
            var label = $"{Icon(m.Kind)} {m.ShortType}{(m.ProcessingMilliseconds is { } ms ? Invariant($" ({ms:0.#} ms)") : "")}{(m.Outcome == MessageOutcome.Failed ? " failed" : "")}";
            // A message to itself (a timeout) is labelled beside its loop, any other above its arrow.
            svg.Append(Math.Abs(from - to) > 1
                ? Invariant($"<text class=\"label\" x=\"{(from + to) / 2}\" y=\"{y + 4}\" text-anchor=\"middle\">{E(label)}</text>")
                : Invariant($"<text class=\"label\" x=\"{from + 32}\" y=\"{y + 15}\">{E(label)}</text>"));
            svg.Append("</a></g>");
        }

        svg.Append("<defs><marker id=\"arrowhead\" markerWidth=\"8\" markerHeight=\"8\" refX=\"6\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" /></marker></defs>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static string Icon(string kind) => kind switch
    {
        "timeout" => "◔",
        "command" => "▶",
        "http" => "⇢",
        _ => "◆",
    };

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
