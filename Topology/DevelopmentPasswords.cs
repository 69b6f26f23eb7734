namespace Conveyor.Topology;

/// <summary>
/// LOCAL DEVELOPMENT DEFAULTS ONLY: the passwords <c>./build.sh up</c> and the tests give the local broker users and
/// database roles, and compose's defaults. One per endpoint, so even on a laptop no endpoint can sign in as another.
/// A deployment sets its own (compose's variables, the Helm chart's Secrets).
/// </summary>
public static class DevelopmentPasswords
{
    /// <summary>The broker's operator user (management UI, the tests' direct access).</summary>
    public const string Operator = "conveyor-dev-only";

    public static string Of(EndpointTopology endpoint) => $"{endpoint.Name}-dev-only";
}
