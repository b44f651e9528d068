"""PostgreSQL objects the models cannot declare: the ledger's database-side guarantees.

1. `ledger_legs_balanced`: a DEFERRABLE INITIALLY DEFERRED constraint trigger. At COMMIT it checks, for
   every journal that received a leg in the transaction, that debits equal credits in each currency and
   that each leg's currency is its account's currency. Raw SQL cannot commit an unbalanced journal.
2. `ledger_append_only`: journals and legs refuse UPDATE and DELETE (corrections are reversals).

SQLite gets neither (it has no deferred constraint triggers); there the domain code and `check()` hold
the line. Every function is idempotent, so migrations and the test schema can run it again.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_BALANCED_FN = """
CREATE OR REPLACE FUNCTION ledger_check_journal_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT l.currency, SUM(CASE WHEN l.side = 'debit' THEN l.amount_minor ELSE -l.amount_minor END) AS net
    INTO bad
    FROM ledger_legs l
   WHERE l.journal_id = NEW.journal_id
   GROUP BY l.currency
  HAVING SUM(CASE WHEN l.side = 'debit' THEN l.amount_minor ELSE -l.amount_minor END) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal % does not balance in %: debits - credits = %',
      NEW.journal_id, bad.currency, bad.net
      USING ERRCODE = '23514', CONSTRAINT = 'ledger_legs_balanced';
  END IF;
  IF EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = NEW.account_id AND a.currency <> NEW.currency)
  THEN
    RAISE EXCEPTION 'leg % of journal % is not in its account''s currency', NEW.id, NEW.journal_id
      USING ERRCODE = '23514', CONSTRAINT = 'ledger_legs_balanced';
  END IF;
  RETURN NULL;
END
$$;
"""

_BALANCED_TRIGGER = """
CREATE CONSTRAINT TRIGGER ledger_legs_balanced
  AFTER INSERT ON ledger_legs
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ledger_check_journal_balanced();
"""

_APPEND_ONLY_FN = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused (post a reversal instead)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = '55000';
END
$$;
"""

APPEND_ONLY_TABLES = ("ledger_journals", "ledger_legs")


def install_balanced_journal_trigger(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text(_BALANCED_FN))  # text(): psycopg would read the '%' as placeholders
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS ledger_legs_balanced ON ledger_legs")
    conn.exec_driver_sql(_BALANCED_TRIGGER)


def install_append_only_triggers(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text(_APPEND_ONLY_FN))
    for table in APPEND_ONLY_TABLES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )


def install(conn: Connection) -> None:
    """Everything above; `atrium.schema.install_extras` calls this."""
    install_balanced_journal_trigger(conn)
    install_append_only_triggers(conn)


def uninstall(conn: Connection) -> None:
    """For a migration's downgrade."""
    if conn.dialect.name != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS ledger_legs_balanced ON ledger_legs")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS ledger_refuse_change()")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS ledger_check_journal_balanced()")
