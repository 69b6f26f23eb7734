using System.Security.Cryptography;

namespace Conveyor.Messages;

/// <summary>
/// Payment and refund ids derived from the order id (RFC 9562 name-based UUIDs, version 5): part of the contract.
/// Every attempt to charge or refund an order therefore carries the same idempotency key to the provider — even an
/// attempt whose transaction rolled back, or that ran twice in two processes — so money moves once; and Orders knows
/// which payment id a <see cref="PaymentAuthorized"/> for its order must carry. Written by hand: .NET has no
/// name-based UUID generator.
/// </summary>
public static class PaymentIds
{
    private static readonly Guid PaymentNamespace = Guid.Parse("6f1e1c8a-4a55-4c8e-9d0e-5b7e2a3c9f01");
    private static readonly Guid RefundNamespace = Guid.Parse("0c2d6b7e-9f3a-4e21-8b5d-2e4f6a8c1d03");

    public static Guid PaymentFor(Guid orderId) => NameBased(PaymentNamespace, orderId);

    public static Guid RefundFor(Guid paymentId) => NameBased(RefundNamespace, paymentId);

    private static Guid NameBased(Guid @namespace, Guid name)
    {
        Span<byte> input = stackalloc byte[32];
        @namespace.TryWriteBytes(input[..16], bigEndian: true, out _);
        name.TryWriteBytes(input[16..], bigEndian: true, out _);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(hash[..16], bigEndian: true);
    }
}
