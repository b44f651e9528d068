"""PostgreSQL objects the models cannot declare: the access audit is append-only in the database too.

UPDATE and DELETE on `staff_access_audit` are refused by a trigger, so not even raw SQL from the
application can rewrite who looked at what. (TRUNCATE, an administrator's tool, is not a row change.)
SQLite gets no trigger; there the service, which only inserts, holds the line. Idempotent.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_REFUSE_FN = """
CREATE OR REPLACE FUNCTION staff_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'staff_access_audit is append-only: % refused', TG_OP USING ERRCODE = '55000';
END
$$;
"""

_TRIGGER = """
CREATE TRIGGER staff_access_audit_append_only
  BEFORE UPDATE OR DELETE ON staff_access_audit
  FOR EACH ROW EXECUTE FUNCTION staff_audit_refuse_change();
"""


def install(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text(_REFUSE_FN))  # text(): psycopg would read the '%' as placeholders
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS staff_access_audit_append_only ON staff_access_audit")
    conn.exec_driver_sql(_TRIGGER)


def uninstall(conn: Connection) -> None:
    """For a migration's downgrade."""
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS staff_access_audit_append_only ON staff_access_audit")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS staff_audit_refuse_change()")
