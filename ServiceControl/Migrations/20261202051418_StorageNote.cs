using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conveyor.ServiceControl.Migrations
{
    /// <inheritdoc />
    public partial class StorageNote : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "storage_note",
                table: "failed_messages",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "storage_note",
                table: "failed_messages");
        }
    }
}
