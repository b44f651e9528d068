"""A model-based test of the inbox: after any sequence of sends (repeated dedup keys, marketing with and
without consent), reads, "read all", deletions and another customer's attempts on the same ids, the unread
count equals the number of unread rows the inbox lists, per category too, and matches a plain model."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.kit.ids import new_id
from atrium.messages import service as messages
from atrium.messages.errors import MessageNotFound
from atrium.messages.schemas import PreferencesUpdate

CATEGORY = st.sampled_from(["transaction", "security", "service", "marketing"])


class InboxMachine(RuleBasedStateMachine):
    db: Database

    def __init__(self) -> None:
        super().__init__()
        with self.db.unit_of_work() as s:
            self.me = identity.create_customer(s, username=new_id("u")[-20:].lower(),
                                               password="pw password 1", display_name="Me").id
            self.other = identity.create_customer(s, username=new_id("o")[-20:].lower(),
                                                  password="pw password 1", display_name="Other").id
        self.consent = False
        self.keys: list[str] = []
        self.model: dict[str, dict[str, object]] = {}  # message id → {category, read, deleted}
        self.by_key: dict[str, str] = {}

    @rule(category=CATEGORY, reuse=st.booleans(), pick=st.integers(min_value=0, max_value=50))
    def send(self, category: str, reuse: bool, pick: int) -> None:
        key = self.keys[pick % len(self.keys)] if reuse and self.keys else new_id("k")
        with self.db.unit_of_work() as s:
            sent = messages.deliver(s, customer_id=self.me, category=category, title="t", body="b", link=None,
                                    locale="zh", dedup_key=key, source="event", channels=("push", "sms"))
        if key in self.by_key:
            assert sent is not None and sent.id == self.by_key[key]  # the first message, nothing new
            return
        if category == "marketing" and not self.consent:
            assert sent is None
            return
        assert sent is not None
        self.keys.append(key)
        self.by_key[key] = sent.id
        self.model[sent.id] = {"category": category, "read": False, "deleted": False}

    @rule()
    def toggle_consent(self) -> None:
        self.consent = not self.consent
        with self.db.unit_of_work() as s:
            messages.update_preferences(s, self.me, PreferencesUpdate(marketing_opt_in=self.consent))

    def _pick(self, pick: int) -> str | None:
        ids = sorted(self.model)
        return ids[pick % len(ids)] if ids else None

    @rule(pick=st.integers(min_value=0, max_value=50))
    def read_one(self, pick: int) -> None:
        mid = self._pick(pick)
        if mid is None:
            return
        try:
            with self.db.unit_of_work() as s:
                messages.mark_read(s, self.me, mid)
        except MessageNotFound:
            assert self.model[mid]["deleted"]
            return
        assert not self.model[mid]["deleted"]
        self.model[mid]["read"] = True

    @rule(category=st.none() | CATEGORY)
    def read_all(self, category: str | None) -> None:
        with self.db.unit_of_work() as s:
            marked = messages.mark_all_read(s, self.me, category=category)
        hit = [m for m in self.model.values()
               if not m["read"] and not m["deleted"] and (category is None or m["category"] == category)]
        assert marked.marked == len(hit)
        for m in hit:
            m["read"] = True

    @rule(pick=st.integers(min_value=0, max_value=50))
    def delete(self, pick: int) -> None:
        mid = self._pick(pick)
        if mid is None:
            return
        with self.db.unit_of_work() as s:
            messages.delete_message(s, self.me, mid)  # again is fine
        self.model[mid]["deleted"] = True

    @rule(pick=st.integers(min_value=0, max_value=50))
    def another_customer_tries(self, pick: int) -> None:
        mid = self._pick(pick)
        if mid is None:
            return
        for attempt in (messages.mark_read, messages.delete_message, messages.get_message):
            with pytest.raises(MessageNotFound), self.db.unit_of_work() as s:
                attempt(s, self.other, mid)

    @invariant()
    def unread_count_equals_unread_rows(self) -> None:
        unread = [m for m in self.model.values() if not m["read"] and not m["deleted"]]
        with self.db.read_session() as s:
            count = messages.unread_count(s, self.me)
            by = messages.unread_counts(s, self.me)
            listed, cursor = [], None
            while True:
                page = messages.list_messages(s, self.me, unread=True, cursor=cursor, limit=7)
                listed += page.items
                cursor = page.next_cursor
                if cursor is None:
                    break
            visible = messages.list_messages(s, self.me, limit=50).items
            assert messages.unread_count(s, self.other) == 0
        assert count == len(unread) == len(listed) == by.unread
        for category in ("transaction", "security", "service", "marketing"):
            assert by.by_category[category] == sum(1 for m in unread if m["category"] == category)
        assert {m.id for m in visible} == {i for i, m in self.model.items() if not m["deleted"]}


def test_the_unread_count_always_equals_the_unread_rows(db: Database) -> None:
    InboxMachine.db = db
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        InboxMachine,
        settings=settings(max_examples=15, stateful_step_count=20, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]),
    )
