"""NATS JetStream adapter: the relay publishes here when ATRIUM_NATS_URL is set; durable consumers read.

Publishing: each event goes to `<subject_prefix>.<EventType>` with the header `Nats-Msg-Id: <event id>`,
and `publish` returns only after JetStream's PubAck (the event is stored). A relay that retries after a
lost PubAck or a crash publishes the same id again; JetStream drops it within the stream's duplicate
window (two minutes), and the consumers' inboxes drop anything older.

Consuming: one durable pull consumer per registered consumer name. A fetched message is handed to
`consumers.deliver` (inbox row + effect in one commit) and acknowledged only after that commit, so a crash
before the commit redelivers the message (after `ack_wait`) and a crash between commit and ack redelivers
a message the inbox then skips. A handler that raises gets the message back later (`nak` with backoff).

nats-py is asyncio-only while the relay and the handlers are synchronous database code, so the client
lives on a private event loop in one thread, and the synchronous methods submit coroutines to it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, PubAck
from nats.js.errors import NotFoundError

from atrium.config import EventSettings
from atrium.db.session import Database
from atrium.events import consumers
from atrium.events.bus import Envelope
from atrium.events.consumers import Consumer, Registry
from atrium.logs import get_logger

log = get_logger("atrium.events.nats")

T = TypeVar("T")

DUPLICATE_WINDOW_S = 120.0
STREAM_MAX_AGE_S = 7 * 24 * 3600.0  # retention: how far back a new consumer starts, and the disk bound


class NatsBus:
    name = "nats"

    def __init__(
        self,
        settings: EventSettings,
        db: Database | None = None,
        registry: Registry | None = None,
        *,
        ack_wait_s: float = 30.0,
        publish_timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
        fetch_batch: int = 20,
        fetch_timeout_s: float = 1.0,
    ) -> None:
        if not settings.nats_url:
            raise ValueError("NatsBus needs events.nats_url")
        self.url = settings.nats_url
        self.stream = settings.stream
        self.subject_prefix = settings.subject_prefix
        self.db = db
        self.registry = registry if registry is not None else consumers.registry
        self.ack_wait_s = ack_wait_s
        self.publish_timeout_s = publish_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.fetch_batch = fetch_batch
        self.fetch_timeout_s = fetch_timeout_s
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._generation = 0  # bumped on every new connection, so consumers re-subscribe
        self._connect_lock: asyncio.Lock | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-bus", daemon=True)
        self._thread.start()

    # --- the synchronous face -----------------------------------------------------------------------

    def subject(self, event_type: str) -> str:
        return f"{self.subject_prefix}.{event_type}"

    def publish(self, envelope: Envelope) -> None:
        self.publish_acked(envelope)

    def publish_acked(self, envelope: Envelope) -> PubAck:
        """Publish and return JetStream's PubAck (`duplicate` is true when the id was seen already)."""
        return self._call(self._publish(envelope), self.publish_timeout_s + 3 * self.connect_timeout_s + 5)

    def start_consumers(self) -> None:
        """Start one fetch loop per registered consumer (they connect, and reconnect, on their own)."""
        if self.db is None:
            raise ValueError("NatsBus needs a database to run consumers")
        self._call(self._start_consumers(), 5)

    def close(self) -> None:
        """Let in-flight handlers finish and ack, stop the fetch loops, drain the connection."""
        if self._closed:
            return
        self._closed = True
        try:
            self._call(self._shutdown(), self.ack_wait_s + self.fetch_timeout_s + 10)
        except Exception as exc:
            log.warning("nats_close_failed", error=type(exc).__name__)
            with contextlib.suppress(Exception):
                self._call(self._cancel_all(), 5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        if self._closed and not self._loop.is_running():
            coro.close()
            raise RuntimeError("the NATS bus is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"NATS did not answer within {timeout:.0f}s") from None

    # --- on the bus's event loop ----------------------------------------------------------------------

    async def _jetstream(self) -> JetStreamContext:
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self._nc is None or self._nc.is_closed or self._js is None:
                nc = await nats.connect(
                    self.url,
                    name="atrium",
                    connect_timeout=self.connect_timeout_s,
                    # A few quick reconnects; past them the client closes and the next call connects anew,
                    # so an outage surfaces as failed publishes (the relay backs off) rather than a hang.
                    max_reconnect_attempts=3,
                    reconnect_time_wait=1,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                js = nc.jetstream()
                try:
                    await self._ensure_stream(js)
                except BaseException:
                    await nc.close()
                    raise
                self._nc, self._js = nc, js
                self._generation += 1
            return self._js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        wanted = f"{self.subject_prefix}.>"
        try:
            info = await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                name=self.stream,
                subjects=[wanted],
                duplicate_window=DUPLICATE_WINDOW_S,
                max_age=STREAM_MAX_AGE_S,
            )
            log.info("nats_stream_created", stream=self.stream)
            return
        subjects = list(info.config.subjects or [])
        if wanted not in subjects:
            info.config.subjects = [*subjects, wanted]
            await js.update_stream(info.config)

    async def _publish(self, envelope: Envelope) -> PubAck:
        js = await self._jetstream()
        return await js.publish(
            self.subject(envelope.type),
            envelope.to_json(),
            timeout=self.publish_timeout_s,
            stream=self.stream,
            headers={"Nats-Msg-Id": envelope.id, "Atrium-Event-Type": envelope.type},
        )

    async def _start_consumers(self) -> None:
        for consumer in self.registry.all():
            self._tasks.append(asyncio.create_task(self._consume(consumer), name=f"nats:{consumer.name}"))

    async def _consume(self, consumer: Consumer) -> None:
        psub: JetStreamContext.PullSubscription | None = None
        generation = -1
        failures = 0
        while not self._closing:
            try:
                if psub is None or generation != self._generation or self._nc is None or self._nc.is_closed:
                    js = await self._jetstream()
                    generation = self._generation
                    psub = await js.pull_subscribe(
                        # All of the prefix: NATS before 2.10 filters on one subject only, and a consumer
                        # usually wants several types. Other types are acknowledged without work.
                        f"{self.subject_prefix}.>",
                        durable=consumer.durable_name,
                        stream=self.stream,
                        config=ConsumerConfig(
                            ack_wait=self.ack_wait_s,
                            deliver_policy=DeliverPolicy.ALL,
                            max_ack_pending=1000,
                        ),
                    )
                try:
                    msgs = await psub.fetch(self.fetch_batch, timeout=self.fetch_timeout_s)
                except nats.errors.TimeoutError:
                    continue
                for msg in msgs:
                    await self._handle(consumer, msg)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost, consumer deleted, …: resubscribe after a pause
                failures += 1
                log.warning("nats_consumer_error", consumer=consumer.name, error=type(exc).__name__)
                psub = None
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))

    async def _handle(self, consumer: Consumer, msg: Msg) -> None:
        try:
            envelope = Envelope.from_json(msg.data)
        except (ValueError, KeyError, TypeError):
            log.error("nats_malformed_message", consumer=consumer.name, subject=msg.subject)
            await msg.term()  # never deliverable: redelivering it would only loop
            return
        if not consumer.wants(envelope.type):
            await msg.ack()
            return
        assert self.db is not None
        try:
            await asyncio.to_thread(consumers.deliver, self.db, consumer, envelope)
        except Exception as exc:
            delivered = msg.metadata.num_delivered
            log.warning(
                "consumer_failed",
                consumer=consumer.name,
                event_id=envelope.id,
                event_type=envelope.type,
                delivered=delivered,
                error=type(exc).__name__,
                exc_info=True,
            )
            await msg.nak(delay=min(60.0, 0.5 * 2 ** min(delivered, 7)))
            return
        # Only now, after the commit: a crash before this line redelivers, and the inbox skips the repeat.
        await msg.ack_sync(timeout=self.publish_timeout_s)

    async def _shutdown(self) -> None:
        self._closing = True
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.fetch_timeout_s + self.ack_wait_s)
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Every publish awaited its PubAck and every handled message its ack, so nothing is in flight:
        # close rather than drain (draining a pull subscription waits out its pending fetch).
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        await self._loop.shutdown_default_executor()

    async def _cancel_all(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _on_error(self, exc: Exception) -> None:
        log.warning("nats_error", error=type(exc).__name__)

    async def _on_disconnected(self) -> None:
        if not self._closing:
            log.warning("nats_disconnected")

    async def _on_reconnected(self) -> None:
        log.info("nats_reconnected")
