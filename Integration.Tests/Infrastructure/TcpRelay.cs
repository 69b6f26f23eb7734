using System.Net;
using System.Net.Sockets;

namespace Integration.Tests.Infrastructure;

/// <summary>
/// A plain TCP relay in front of a real server: counts the connections a client opens and can cut them all,
/// as a server closing idle connections (or a network drop) would; can hold back every answer of the server
/// (a slow server) and can stop taking connections altogether (the server is down). Nothing is simulated beyond
/// that: every byte the client sees is the real server's.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly List<TcpClient> _open = [];
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener _listener;
    private Task _accepting;
    private int _accepted;
    private long _serverDelayTicks;

    public TcpRelay(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync(_listener);
    }

    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>How long each answer of the server is held back before the client gets it (zero by default).</summary>
    public TimeSpan ServerDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _serverDelayTicks));
        set => Interlocked.Exchange(ref _serverDelayTicks, value.Ticks);
    }

    /// <summary>Closes every connection relayed so far, both sides.</summary>
    public void CutAll()
    {
        lock (_open)
        {
            foreach (var client in _open) client.Dispose();
            _open.Clear();
        }
    }

    /// <summary>The server is down: open connections are cut and new ones refused until <see cref="Resume"/>.</summary>
    public async Task RefuseAsync()
    {
        _listener.Stop();
        await _accepting;
        CutAll();
    }

    /// <summary>The server is back, on the same port.</summary>
    public void Resume()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _accepting = AcceptAsync(_listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        try
        {
            while (true)
            {
                var inbound = await listener.AcceptTcpClientAsync(_stopping.Token);
                Interlocked.Increment(ref _accepted);
                var outbound = new TcpClient();
                await outbound.ConnectAsync(_targetHost, _targetPort, _stopping.Token);
                lock (_open) _open.AddRange([inbound, outbound]);
                _ = PumpAsync(inbound, outbound, delayed: false);
                _ = PumpAsync(outbound, inbound, delayed: true);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped: disposed, or refusing connections for a while (InvalidOperationException: stopped while a
            // connection that had just been accepted was being relayed, so the next accept found it not listening).
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool delayed)
    {
        try
        {
            var buffer = new byte[16 * 1024];
            var source = from.GetStream();
            var target = to.GetStream();
            int read;
            while ((read = await source.ReadAsync(buffer, _stopping.Token)) > 0)
            {
                if (delayed && ServerDelay > TimeSpan.Zero) await Task.Delay(ServerDelay, _stopping.Token);
                await target.WriteAsync(buffer.AsMemory(0, read), _stopping.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // Cut, or the other side went away: the other pump ends the same way.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        CutAll();
        _stopping.Dispose();
    }
}
