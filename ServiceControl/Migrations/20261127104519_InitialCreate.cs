using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conveyor.ServiceControl.Migrations
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "endpoint_instances",
                columns: table => new
                {
                    endpoint = table.Column<string>(type: "text", nullable: false),
                    host = table.Column<string>(type: "text", nullable: false),
                    process_id = table.Column<int>(type: "integer", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    heartbeat_interval = table.Column<TimeSpan>(type: "interval", nullable: false),
                    checks = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_endpoint_instances", x => new { x.endpoint, x.host });
                });

            migrationBuilder.CreateTable(
                name: "failed_messages",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    message_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    message_type = table.Column<string>(type: "text", nullable: true),
                    endpoint = table.Column<string>(type: "text", nullable: true),
                    queue = table.Column<string>(type: "text", nullable: true),
                    correlation_id = table.Column<string>(type: "text", nullable: true),
                    exception_type = table.Column<string>(type: "text", nullable: false),
                    exception_message = table.Column<string>(type: "text", nullable: false),
                    stack_trace = table.Column<string>(type: "text", nullable: false),
                    body = table.Column<byte[]>(type: "bytea", nullable: false),
                    headers = table.Column<string>(type: "jsonb", nullable: false),
                    properties = table.Column<string>(type: "jsonb", nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    first_failed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_failed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status_changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    failure_count = table.Column<int>(type: "integer", nullable: false),
                    retry_count = table.Column<int>(type: "integer", nullable: false),
                    resolution = table.Column<string>(type: "text", nullable: true),
                    edited_as = table.Column<Guid>(type: "uuid", nullable: true),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_failed_messages", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "retry_redirects",
                columns: table => new
                {
                    from_queue = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    to_queue = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_retry_redirects", x => x.from_queue);
                });

            migrationBuilder.CreateTable(
                name: "failures",
                columns: table => new
                {
                    failed_message_id = table.Column<Guid>(type: "uuid", nullable: false),
                    failure_key = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    number = table.Column<int>(type: "integer", nullable: false),
                    failed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    first_failed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    endpoint = table.Column<string>(type: "text", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: true),
                    exception_type = table.Column<string>(type: "text", nullable: false),
                    exception_message = table.Column<string>(type: "text", nullable: false),
                    stack_trace = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_failures", x => new { x.failed_message_id, x.failure_key });
                    table.ForeignKey(
                        name: "fk_failures_failed_messages_failed_message_id",
                        column: x => x.failed_message_id,
                        principalTable: "failed_messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_failed_messages_status_last_failed_at",
                table: "failed_messages",
                columns: new[] { "status", "last_failed_at" });

            migrationBuilder.CreateIndex(
                name: "ix_failed_messages_status_status_changed_at",
                table: "failed_messages",
                columns: new[] { "status", "status_changed_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "endpoint_instances");

            migrationBuilder.DropTable(
                name: "failures");

            migrationBuilder.DropTable(
                name: "retry_redirects");

            migrationBuilder.DropTable(
                name: "failed_messages");
        }
    }
}
