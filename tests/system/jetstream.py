"""Read a JetStream stream back, message by message, to count what the relay stored (and delete it)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import nats
from nats.js.errors import NotFoundError


def stored_event_ids(url: str, stream: str, subject: str) -> Counter[str]:
    """How many messages on `subject` carry each event id (`Nats-Msg-Id`, checked against the body)."""

    async def read() -> Counter[str]:
        nc = await nats.connect(url, connect_timeout=5)
        try:
            js = nc.jetstream()
            state = (await js.stream_info(stream)).state
            ids: Counter[str] = Counter()
            for seq in range(state.first_seq, state.last_seq + 1):
                try:
                    msg = await js.get_msg(stream, seq)
                except NotFoundError:  # a gap left by a deleted message
                    continue
                if msg.subject != subject:
                    continue
                msg_id = (msg.headers or {}).get("Nats-Msg-Id", "")
                body_id = json.loads(msg.data or b"{}").get("id")
                ids[msg_id if msg_id == body_id else f"mismatch:{msg_id}:{body_id}"] += 1
            return ids
        finally:
            await nc.close()

    return asyncio.run(read())


def delete_stream(url: str, stream: str) -> None:
    async def delete() -> None:
        nc = await nats.connect(url, connect_timeout=5)
        try:
            await nc.jetstream().delete_stream(stream)
        except NotFoundError:
            pass
        finally:
            await nc.close()

    asyncio.run(delete())
