using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conveyor.ServiceControl.Migrations
{
    /// <inheritdoc />
    public partial class RetryConfirmationTimeout : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "status_note",
                table: "failed_messages",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "status_note",
                table: "failed_messages");
        }
    }
}
