"""Block / allow / watch lists: lookups per subject kind, the payer–payee pair, and expiry."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atrium.risk.domain.events import RiskEvent
from atrium.risk.domain.lists import (
    LIST_KINDS,
    SUBJECT_KINDS,
    InvalidListEntry,
    ListEntry,
    ListHit,
    ListIndex,
    pair_value,
    subject_value,
)

pytestmark = pytest.mark.database_independent

NOW = 1_700_000_000.0
EVENT = RiskEvent("t1", at=NOW, channel="transfer", amount_minor=10_000, customer="c1", card="k1",
                  account="a1", device="d1", payee="p1", terminal="m1", ip="i1")


def test_each_subject_kind_matches_its_event_field() -> None:
    values = {"card": "k1", "account": "a1", "device": "d1", "ip": "i1", "payee": "p1", "merchant": "m1",
              "customer": "c1", "pair": "c1|p1"}
    index = ListIndex(ListEntry("watch", kind, value, None, f"e_{kind}") for kind, value in values.items())
    hits = index.match(EVENT, NOW)
    assert [hit.subject_kind for hit in hits] == list(SUBJECT_KINDS)
    assert [hit.entry_id for hit in hits] == [f"e_{kind}" for kind in SUBJECT_KINDS]


def test_merchant_entries_match_the_terminal_not_other_fields() -> None:
    index = ListIndex([ListEntry("block", "merchant", "k1", None, "e1")])  # a card's key as a merchant
    assert index.match(EVENT, NOW) == []
    index = ListIndex([ListEntry("block", "merchant", "m1", None, "e2")])
    assert [hit.entry_id for hit in index.match(EVENT, NOW)] == ["e2"]


def test_a_pair_needs_both_the_payer_and_the_payee() -> None:
    index = ListIndex([ListEntry("allow", "pair", pair_value("c1", "p1"), None, "e1")])
    assert [hit.subject_kind for hit in index.match(EVENT, NOW)] == ["pair"]
    other_payee = RiskEvent("t2", at=NOW, channel="transfer", customer="c1", payee="p2")
    assert index.match(other_payee, NOW) == []
    no_customer = RiskEvent("t3", at=NOW, channel="card", payee="p1", card="k1")
    assert subject_value(no_customer, "pair") is None
    assert index.match(no_customer, NOW) == []


def test_an_entry_matches_until_its_expiry_instant_and_not_at_it() -> None:
    index = ListIndex([ListEntry("block", "card", "k1", expires_at=NOW, entry_id="e1")])
    assert len(index.match(EVENT, NOW - 1)) == 1
    assert index.match(EVENT, NOW) == []
    assert index.match(EVENT, NOW + 1) == []
    forever = ListIndex([ListEntry("block", "card", "k1", None, "e2")])
    assert len(forever.match(EVENT, 1e12)) == 1
    assert forever.active_entries(1e12) == list(forever.entries)
    assert index.active_entries(NOW) == []


def test_hits_come_block_then_allow_then_watch() -> None:
    index = ListIndex([
        ListEntry("watch", "card", "k1", None, "w"),
        ListEntry("allow", "pair", "c1|p1", None, "a"),
        ListEntry("block", "device", "d1", None, "b"),
        ListEntry("watch", "ip", "i1", None, "w2"),
    ])
    hits = index.match(EVENT, NOW)
    assert [(hit.list_kind, hit.entry_id) for hit in hits] == [("block", "b"), ("allow", "a"), ("watch", "w"),
                                                               ("watch", "w2")]
    assert hits[0] == ListHit("block", "device", "b", "d1", None)
    assert hits[0].to_dict() == {"list_kind": "block", "subject_kind": "device", "entry_id": "b",
                                 "value": "d1", "expires_at": None}


def test_an_empty_index_matches_nothing() -> None:
    assert ListIndex().match(EVENT, NOW) == []
    assert len(ListIndex()) == 0


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"list_kind": "deny"}, "list kind"),
        ({"subject_kind": "phone"}, "subject kind"),
        ({"value": ""}, "value"),
        ({"value": "x" * 300}, "value"),
        ({"subject_kind": "pair", "value": "c1"}, "<customer>|<payee>"),
        ({"subject_kind": "pair", "value": "|p1"}, "<customer>|<payee>"),
        ({"expires_at": math.nan}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
    ],
)
def test_entries_are_validated(fields: dict[str, object], fragment: str) -> None:
    base: dict[str, object] = {"list_kind": "block", "subject_kind": "card", "value": "k1",
                               "expires_at": None, "entry_id": "e"}
    with pytest.raises(InvalidListEntry) as caught:
        ListEntry(**{**base, **fields})  # type: ignore[arg-type]
    assert fragment in caught.value.detail


keys = st.sampled_from(["x", "y", "z"])
entries = st.builds(
    ListEntry,
    list_kind=st.sampled_from(LIST_KINDS),
    subject_kind=st.sampled_from([kind for kind in SUBJECT_KINDS if kind != "pair"]),
    value=keys,
    expires_at=st.one_of(st.none(), st.integers(0, 20).map(float)),
    entry_id=st.text(alphabet="abc", min_size=1, max_size=3),
) | st.builds(ListEntry, list_kind=st.sampled_from(LIST_KINDS), subject_kind=st.just("pair"),
              value=st.tuples(keys, keys).map("|".join),
              expires_at=st.one_of(st.none(), st.integers(0, 20).map(float)), entry_id=st.just("p"))
maybe = st.none() | keys
events = st.builds(RiskEvent, event_id=st.just("e"), at=st.just(0.0), channel=st.just("transfer"),
                   customer=maybe, card=maybe, account=maybe, device=maybe, payee=maybe, terminal=maybe,
                   ip=maybe)


@settings(max_examples=300)
@given(entries=st.lists(entries, max_size=12), event=events, now=st.integers(0, 21).map(float))
def test_match_is_the_brute_force_filter(entries: list[ListEntry], event: RiskEvent, now: float) -> None:
    expected = [
        ListHit.of(entry) for entry in entries
        if (entry.expires_at is None or now < entry.expires_at)
        and subject_value(event, entry.subject_kind) == entry.value
    ]
    got = ListIndex(entries).match(event, now)
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    ranks = [LIST_KINDS.index(hit.list_kind) for hit in got]
    assert ranks == sorted(ranks)
