"""Integration events through a transactional outbox.

A producer calls `outbox.record(session, SomethingHappened(...))` inside the same database transaction as
the state change, so an event exists if and only if its change committed. A relay publishes outbox rows
to a bus (in-process by default, NATS JetStream when ATRIUM_NATS_URL is set) at least once; consumers
deduplicate by event id through the inbox table, so each consumer acts on each event exactly once.
"""
