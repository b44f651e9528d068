"""A service is shown exactly to those its rules select — checked against many generated customers.

The oracle below is written from the rule language's specification (atrium.catalog.domain's docstring),
independently of the domain's evaluator: it shares no code with it. Three levels:
1. pure: `domain.evaluate` agrees with the oracle for generated rules and attribute dicts;
2. pure: `domain.visible` (switch, window, channel, identity kind, role, rule) agrees with the oracle;
3. database: real customers (ID numbers giving their ages, sign-up dates, company and merchant
   identities) and real services published through maker-checker — `visible_services` for every identity
   of every customer is exactly what the oracle selects from the test's own record of who they are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atrium.catalog import domain
from atrium.catalog import service as catalog
from atrium.kit.ids import new_id
from tests.catalog.factories import definition, make_customer, publish, staff, viewer

# --- the oracle ---------------------------------------------------------------------------------------


def _is_number(x: Any) -> bool:
    return type(x) in (int, float)


def _equal(x: Any, y: Any) -> bool:
    if type(x) is bool or type(y) is bool:
        return type(x) is bool and type(y) is bool and x == y
    if _is_number(x) and _is_number(y):
        return x == y
    if type(x) is str and type(y) is str:
        return x == y
    return False


def _comparable(x: Any, y: Any) -> bool:
    return (_is_number(x) and _is_number(y)) or (type(x) is str and type(y) is str)


def oracle(rule: dict | None, attrs: dict[str, Any]) -> bool:
    if rule is None:
        return True
    if list(rule) == ["all"]:
        return all(oracle(r, attrs) for r in rule["all"])
    if list(rule) == ["any"]:
        return any(oracle(r, attrs) for r in rule["any"])
    if list(rule) == ["not"]:
        return not oracle(rule["not"], attrs)
    op = rule["op"]
    if rule["attr"] not in attrs:
        return False  # whatever the operator, a missing attribute does not match
    if op == "exists":
        return True
    a, v = attrs[rule["attr"]], rule["value"]
    elements = a if type(a) is list else [a]
    table = {
        "eq": lambda: _equal(a, v),
        "ne": lambda: not _equal(a, v),
        "in": lambda: any(_equal(e, w) for e in elements for w in v),
        "not_in": lambda: not any(_equal(e, w) for e in elements for w in v),
        "contains": lambda: (any(_equal(e, v) for e in a) if type(a) is list
                             else type(a) is str and type(v) is str and v in a),
        "gt": lambda: _comparable(a, v) and a > v,
        "gte": lambda: _comparable(a, v) and a >= v,
        "lt": lambda: _comparable(a, v) and a < v,
        "lte": lambda: _comparable(a, v) and a <= v,
    }
    return table[op]()


# --- strategies ---------------------------------------------------------------------------------------

NAMES = ["age", "tenure_days", "locale", "kyc", "tags", "score", "ui_mode"]
scalars = st.one_of(
    st.integers(min_value=-5, max_value=100), st.floats(min_value=-5, max_value=100, allow_nan=False),
    st.sampled_from(["zh", "en", "elder", "standard", "vip", "v", ""]), st.booleans(),
)
attribute_values = st.one_of(scalars, st.lists(st.sampled_from(["vip", "new", "zh", "1"]), max_size=3))
attribute_dicts = st.dictionaries(st.sampled_from(NAMES), attribute_values, max_size=len(NAMES))


def _leaf(attr: str, op: str, value: Any) -> dict:
    return {"attr": attr, "op": op} if op == "exists" else {"attr": attr, "op": op, "value": value}


leaves = st.one_of(
    st.builds(_leaf, st.sampled_from(NAMES), st.sampled_from(["eq", "ne", "contains"]), scalars),
    st.builds(_leaf, st.sampled_from(NAMES), st.sampled_from(["in", "not_in"]),
              st.lists(scalars, min_size=1, max_size=4)),
    st.builds(_leaf, st.sampled_from(NAMES), st.sampled_from(["gt", "gte", "lt", "lte"]),
              st.one_of(st.integers(-5, 100), st.floats(-5, 100, allow_nan=False),
                        st.sampled_from(["m", "zh"]))),
    st.builds(_leaf, st.sampled_from(NAMES), st.just("exists"), st.none()),
)
rules = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda rs: {"all": rs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda rs: {"any": rs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda r: {"not": r}, inner),
    ),
    max_leaves=8,
)


@settings(max_examples=1500, deadline=None)
@given(rule=rules, attrs=attribute_dicts)
def test_the_evaluator_agrees_with_the_oracle(rule: dict, attrs: dict) -> None:
    domain.validate_rule(rule)  # every generated rule is in the language
    assert domain.evaluate(rule, attrs) is oracle(rule, attrs)


T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KINDS = ["person", "company_operator", "merchant"]
ROLES = ["finance", "owner", "clerk", ""]


@st.composite
def entries(draw: st.DrawFn) -> tuple[domain.Entry, dict]:
    spec = {
        "enabled": draw(st.booleans()),
        "start": draw(st.none() | st.integers(-48, 48)),
        "length": draw(st.none() | st.integers(1, 96)),
        "channels": draw(st.sets(st.sampled_from(["app", "life", "partner"]), min_size=1)),
        "kinds": draw(st.sets(st.sampled_from(KINDS), min_size=1)),
        "permissions": draw(st.sets(st.sampled_from(["finance", "owner"]))),
        "rule": draw(st.none() | rules),
    }
    starts = None if spec["start"] is None else T0 + timedelta(hours=spec["start"])
    ends = None if spec["length"] is None else (starts or T0) + timedelta(hours=spec["length"])
    spec["starts"], spec["ends"] = starts, ends
    return domain.Entry(key="retail.x", enabled=spec["enabled"], starts_at=starts, ends_at=ends,
                        channels=frozenset(spec["channels"]), identity_kinds=frozenset(spec["kinds"]),
                        permissions=frozenset(spec["permissions"]), audience=spec["rule"]), spec


def visible_oracle(spec: dict, channel: str, kind: str, role: str, attrs: dict, now: datetime) -> bool:
    if not spec["enabled"]:
        return False
    if spec["starts"] is not None and now < spec["starts"]:
        return False
    if spec["ends"] is not None and now >= spec["ends"]:
        return False
    if channel not in spec["channels"] or kind not in spec["kinds"]:
        return False
    if kind != "person" and spec["permissions"] and role not in spec["permissions"]:
        return False
    return oracle(spec["rule"], attrs)


@settings(max_examples=1000, deadline=None)
@given(pair=entries(), channel=st.sampled_from(["app", "life", "partner"]), kind=st.sampled_from(KINDS),
       role=st.sampled_from(ROLES), attrs=attribute_dicts, hours=st.integers(-60, 150))
def test_visibility_agrees_with_the_oracle(pair, channel, kind, role, attrs, hours) -> None:  # type: ignore[no-untyped-def]
    entry, spec = pair
    now = T0 + timedelta(hours=hours)
    got = domain.visible(entry, channel=channel, identity_kind=kind, identity_role=role, attributes=attrs,
                         now=now)
    assert got is visible_oracle(spec, channel, kind, role, attrs, now)


# --- on the database ----------------------------------------------------------------------------------

DB_NAMES = ["age", "tenure_days", "locale", "kyc", "ui_mode", "identity_role", "identity_kind"]
db_values = {
    # Boundaries the generated customers sit on, so off-by-one errors show.
    "age": st.sampled_from([18, 30, 60, 61]), "tenure_days": st.sampled_from([0, 10, 30, 400]),
    "locale": st.sampled_from(["zh", "en"]),
    "kyc": st.booleans(), "ui_mode": st.sampled_from(["standard", "elder"]),
    "identity_role": st.sampled_from(["finance", "owner", "clerk"]),
    "identity_kind": st.sampled_from(KINDS),
}


@st.composite
def db_leaf(draw: st.DrawFn) -> dict:
    attr = draw(st.sampled_from(DB_NAMES))
    if attr in ("age", "tenure_days"):
        op = draw(st.sampled_from(["gte", "lt", "gt", "lte", "eq", "exists"]))
    else:
        op = draw(st.sampled_from(["eq", "ne", "in", "not_in", "exists"]))
    if op in ("in", "not_in"):
        return _leaf(attr, op, draw(st.lists(db_values[attr], min_size=1, max_size=3)))
    return _leaf(attr, op, None if op == "exists" else draw(db_values[attr]))


db_rules = st.recursive(
    db_leaf(),
    lambda inner: st.one_of(
        st.builds(lambda rs: {"all": rs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda rs: {"any": rs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda r: {"not": r}, inner),
    ),
    max_leaves=5,
)
people = st.lists(
    st.fixed_dictionaries({
        "age": st.sampled_from([None, 17, 18, 30, 59, 60, 61, 85]), "locale": st.sampled_from(["zh", "en"]),
        "tenure_days": st.sampled_from([0, 10, 400]), "company_role": st.none() | st.sampled_from(ROLES[:3]),
        "merchant": st.booleans(), "ui_mode": st.sampled_from(["standard", "elder"]),
    }),
    min_size=1, max_size=8,
)
services = st.lists(
    st.fixed_dictionaries({
        "kinds": st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True),
        "permissions": st.lists(st.sampled_from(["finance", "owner"]), max_size=2, unique=True),
        "rule": st.none() | db_rules,
    }),
    min_size=1, max_size=5,
)


def recorded_attributes(p: dict, person, kind: str) -> dict:  # type: ignore[no-untyped-def]
    """What the test itself knows about the customer in one identity (not what the service computes)."""
    attrs: dict[str, Any] = {"customer_id": person.customer_id, "identity_kind": kind, "channel": "app",
                             "ui_mode": p["ui_mode"], "locale": p["locale"], "tenure_days": p["tenure_days"],
                             "kyc": p["age"] is not None}
    if p["age"] is not None:
        attrs["age"] = p["age"]
    identity = person.identities[kind]
    if identity.role:
        attrs["identity_role"] = identity.role
    if identity.org_ref:
        attrs["org_ref"] = identity.org_ref
    return attrs


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(crowd=people, offered=services)
def test_visible_services_shows_each_service_exactly_to_those_its_rule_selects(db, crowd, offered) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        try:
            maker, checker = staff(s, new_id("mk").lower()), staff(s, new_id("ck").lower())
            specs = {}
            for i, o in enumerate(offered):
                key = f"wealth.s{i}"
                specs[key] = o
                publish(s, maker, checker, definition(key, identity_kinds=o["kinds"],
                                                      permissions=o["permissions"], audience=o["rule"]))
            for p in crowd:
                person = make_customer(s, age=p["age"], locale=p["locale"], tenure_days=p["tenure_days"],
                                       company_role=p["company_role"], merchant=p["merchant"])
                for kind, identity in person.identities.items():
                    attrs = recorded_attributes(p, person, kind)
                    expected = {
                        key for key, o in specs.items()
                        if kind in o["kinds"]
                        and not (kind != "person" and o["permissions"]
                                 and identity.role not in o["permissions"])
                        and oracle(o["rule"], attrs)
                    }
                    who = viewer(s, person, kind, ui_mode=p["ui_mode"])
                    seen = {v.key for v in catalog.visible_services(s, who)}
                    assert seen == expected, (kind, attrs)
        finally:
            s.rollback()
