using System.Net;
using System.Net.Sockets;

namespace Integration.Tests.Infrastructure;

/// <summary>
/// An HTTP client whose connections come from a loopback address of its choosing (all of 127.0.0.0/8 is this
/// machine): a second "host" for the tests, e.g. a trusted proxy at 127.0.0.2 and an untrusted client at 127.0.0.3.
/// It follows no redirects and keeps no cookies, so a test sees exactly what the server answered.
/// </summary>
public static class LoopbackClient
{
    public static HttpClient From(string sourceAddress, Uri baseAddress)
    {
        var source = IPAddress.Parse(sourceAddress);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectCallback = async (context, cancellation) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellation);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress };
    }
}
