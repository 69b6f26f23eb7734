using System;
using Microsoft.EntityFrameworkCore.Migrations;
using NpgsqlTypes;

#nullable disable

namespace Conveyor.ServiceControl.Migrations
{
    /// <inheritdoc />
    public partial class ProcessedMessages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "processed_messages",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    message_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    processing_endpoint = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    outcome = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    failed_message_id = table.Column<Guid>(type: "uuid", nullable: true),
                    message_type = table.Column<string>(type: "text", nullable: true),
                    intent = table.Column<string>(type: "text", nullable: true),
                    conversation_id = table.Column<string>(type: "text", nullable: true),
                    related_to = table.Column<string>(type: "text", nullable: true),
                    correlation_id = table.Column<string>(type: "text", nullable: true),
                    sending_endpoint = table.Column<string>(type: "text", nullable: true),
                    processing_instance = table.Column<string>(type: "text", nullable: true),
                    queue = table.Column<string>(type: "text", nullable: true),
                    time_sent = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    processing_started = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    processing_ended = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    processing_milliseconds = table.Column<double>(type: "double precision", nullable: true),
                    critical_milliseconds = table.Column<double>(type: "double precision", nullable: true),
                    saga_type = table.Column<string>(type: "text", nullable: true),
                    saga_id = table.Column<string>(type: "text", nullable: true),
                    saga_change = table.Column<string>(type: "text", nullable: true),
                    saga_state = table.Column<string>(type: "text", nullable: true),
                    outgoing = table.Column<string>(type: "text", nullable: true),
                    headers = table.Column<string>(type: "jsonb", nullable: false),
                    content_type = table.Column<string>(type: "text", nullable: true),
                    body = table.Column<byte[]>(type: "bytea", nullable: true),
                    body_size = table.Column<int>(type: "integer", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    search_text = table.Column<string>(type: "text", nullable: false),
                    search = table.Column<NpgsqlTsVector>(type: "tsvector", nullable: false)
                        .Annotation("Npgsql:TsVectorConfig", "simple")
                        .Annotation("Npgsql:TsVectorProperties", new[] { "search_text" })
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_processed_messages", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_processed_messages_conversation_id",
                table: "processed_messages",
                column: "conversation_id");

            migrationBuilder.CreateIndex(
                name: "ix_processed_messages_critical_milliseconds",
                table: "processed_messages",
                column: "critical_milliseconds");

            migrationBuilder.CreateIndex(
                name: "ix_processed_messages_message_id_processing_endpoint",
                table: "processed_messages",
                columns: new[] { "message_id", "processing_endpoint" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_processed_messages_processing_milliseconds",
                table: "processed_messages",
                column: "processing_milliseconds");

            migrationBuilder.CreateIndex(
                name: "ix_processed_messages_received_at",
                table: "processed_messages",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "ix_processed_messages_saga_id",
                table: "processed_messages",
                column: "saga_id");

            migrationBuilder.CreateIndex(
                name: "ix_processed_messages_search",
                table: "processed_messages",
                column: "search")
                .Annotation("Npgsql:IndexMethod", "GIN");

            migrationBuilder.CreateIndex(
                name: "ix_processed_messages_time_sent",
                table: "processed_messages",
                column: "time_sent");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "processed_messages");
        }
    }
}
