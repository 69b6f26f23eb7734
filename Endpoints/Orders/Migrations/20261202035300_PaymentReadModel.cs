using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conveyor.Orders.Migrations
{
    /// <inheritdoc />
    public partial class PaymentReadModel : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "payment_decline_reason",
                table: "orders",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "payment_reference",
                table: "orders",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "payment_state",
                table: "orders",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "Pending");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "payment_updated_at",
                table: "orders",
                type: "timestamp with time zone",
                nullable: true);

            // Orders placed before the read model: what their state says of their payment.
            migrationBuilder.Sql("""
                UPDATE orders SET payment_state = CASE
                    WHEN refund_id IS NOT NULL THEN 'Refunded'
                    WHEN status = 'Confirmed' THEN 'Authorized'
                    WHEN status = 'Cancelled' AND cancellation_reason = 0 THEN 'Declined'
                    ELSE 'Pending' END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "payment_decline_reason",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "payment_reference",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "payment_state",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "payment_updated_at",
                table: "orders");
        }
    }
}
