"""PostgreSQL objects the models cannot declare: the risk domain's histories are append-only in the database.

UPDATE and DELETE on `risk_case_actions` (what analysts did on a case), `risk_list_audit` (every change to
the block, allow and watch lists) and `risk_labels` (what a decision turned out to be, and when that was
known) are refused by a trigger, so not even raw SQL from the application can rewrite who did what, or
back-date a label into a training set. A correction is a new row: a later label supersedes an earlier one,
a list entry is removed by a new audit row. (TRUNCATE, an administrator's tool, is not a row change.)
SQLite gets no trigger; there the services, which only insert into these tables, hold the line. Every
function is idempotent, so migrations and the test schema can run it again.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_REFUSE_FN = """
CREATE OR REPLACE FUNCTION risk_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused (add a new row instead)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = '55000';
END
$$;
"""

APPEND_ONLY_TABLES = ("risk_case_actions", "risk_list_audit", "risk_labels")


def install(conn: Connection) -> None:
    """The append-only triggers; `atrium.schema.install_extras` and migration 0005 call this. Tables that
    do not exist yet are skipped: migration 0001 runs `install_extras` long before 0004 creates them."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text(_REFUSE_FN))  # text(): psycopg would read the '%' as placeholders
    for table in APPEND_ONLY_TABLES:
        if conn.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
            continue
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION risk_refuse_change()"
        )


def uninstall(conn: Connection) -> None:
    """For a migration's downgrade."""
    if conn.dialect.name != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS risk_refuse_change()")
