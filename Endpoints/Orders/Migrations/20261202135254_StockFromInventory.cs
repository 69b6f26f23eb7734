using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conveyor.Orders.Migrations
{
    /// <inheritdoc />
    public partial class StockFromInventory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Orders placed before Inventory existed never get its answer: they count as reserved, so one still waiting
            // for its payment is confirmed by it. Every new order is stored with its own state (Pending).
            migrationBuilder.AddColumn<string>(
                name: "stock_state",
                table: "orders",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "Reserved");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "stock_state",
                table: "orders");
        }
    }
}
