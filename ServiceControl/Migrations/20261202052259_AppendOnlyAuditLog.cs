using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conveyor.ServiceControl.Migrations
{
    /// <inheritdoc />
    public partial class AppendOnlyAuditLog : Migration
    {
        /// <inheritdoc />
        /// <summary>
        /// The audit log is append-only for everyone who uses this database, ServiceControl's own role included: a
        /// trigger refuses every UPDATE, DELETE and TRUNCATE (SQLSTATE 42501), so no bug, no SQL injection and no
        /// operator with the application's credentials can rewrite what was done.
        /// </summary>
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
                END
                $$;
                CREATE TRIGGER audit_log_rows_are_kept BEFORE UPDATE OR DELETE ON audit_log
                    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
                CREATE TRIGGER audit_log_is_never_emptied BEFORE TRUNCATE ON audit_log
                    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER audit_log_is_never_emptied ON audit_log;
                DROP TRIGGER audit_log_rows_are_kept ON audit_log;
                DROP FUNCTION audit_log_is_append_only();
                """);
        }
    }
}
