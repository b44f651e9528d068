"""Engine, sessions, unit of work and the declarative base.

Rules: services flush, the edge (request or job) commits. A read session (`ReadSession`) refuses to flush,
so a GET cannot write. Write transactions on SQLite begin IMMEDIATE (one writer, no upgrade deadlocks);
on PostgreSQL they run at READ COMMITTED with explicit row locks taken in id order.
"""
