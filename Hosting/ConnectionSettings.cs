using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Conveyor.Hosting;

/// <summary>
/// Where an endpoint's infrastructure lives. Read and validated while the host is being built, so a
/// missing or malformed setting stops start-up with a message naming the setting, not a failure at
/// the first message.
/// </summary>
public sealed class ConnectionSettings
{
    /// <summary>PostgreSQL connection string of the endpoint's own database (<c>ConnectionStrings:Database</c>).</summary>
    [Required(ErrorMessage = "ConnectionStrings:Database is not set: the endpoint's PostgreSQL connection string is required (e.g. Host=127.0.0.1;Database=orders;Username=orders;Password=...).")]
    public string Database { get; init; } = "";

    /// <summary>AMQP URI of the broker (<c>ConnectionStrings:RabbitMq</c>), e.g. amqp://user:pass@host:5672/vhost.</summary>
    [Required(ErrorMessage = "ConnectionStrings:RabbitMq is not set: the broker's AMQP URI is required (e.g. amqp://user:pass@127.0.0.1:5672/conveyor).")]
    public string RabbitMq { get; init; } = "";

    public Uri RabbitMqUri => new(RabbitMq);

    public static ConnectionSettings From(IConfiguration configuration)
    {
        var settings = new ConnectionSettings
        {
            Database = configuration.GetConnectionString("Database") ?? "",
            RabbitMq = configuration.GetConnectionString("RabbitMq") ?? "",
        };

        var errors = new List<ValidationResult>();
        Validator.TryValidateObject(settings, new ValidationContext(settings), errors, validateAllProperties: true);
        if (settings.RabbitMq.Length > 0 && !Uri.TryCreate(settings.RabbitMq, UriKind.Absolute, out _))
        {
            errors.Add(new ValidationResult("ConnectionStrings:RabbitMq is not a valid AMQP URI."));
        }

        if (errors.Count > 0)
        {
            throw new OptionsValidationException(nameof(ConnectionSettings), typeof(ConnectionSettings),
                errors.Select(e => e.ErrorMessage ?? "invalid setting"));
        }

        return settings;
    }
}
