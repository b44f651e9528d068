"""Services from configuration: the built-in definitions, a business line's own directory (the example),
versions, idempotency, history by "configuration", and bad files refused whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from atrium.catalog import service as catalog
from atrium.catalog.defaults import BUILTIN_TABS
from atrium.catalog.errors import InvalidDefinition, StaleProposal
from atrium.catalog.schemas import ProposalCreate
from atrium.catalog.service import catalogue
from atrium.catalog.service.sync import BUILTIN_DIR
from atrium.config import reset_settings_cache
from tests.catalog.factories import definition, make_customer, staff, viewer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "catalog"
ICONS = ROOT / "src" / "atrium" / "web" / "mobile" / "static" / "icons.svg"

ONE = '''line = "rural"
[[services]]
key = "rural.village"
version = {version}
icon = "bank"
target = "{target}"
name = {{ zh = "乡村金融", en = "Village banking" }}
'''


@pytest.fixture()
def s(db) -> Iterator:  # type: ignore[no-untyped-def, type-arg]
    with db.session() as session:
        yield session
        session.rollback()


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_builtin_definitions_sync_once_and_then_change_nothing(s) -> None:  # type: ignore[no-untyped-def]
    first = catalog.sync_definitions(s)
    assert "retail.transfer" in first.created and "tabs:person.default" in first.created and not first.updated
    stamp = catalogue.load(s).stamp
    history = {x.key: catalog.history(s, x.key) for x in catalog.list_managed(s)}
    again = catalog.sync_definitions(s)
    assert again.created == [] and again.updated == [] and again.unchanged == len(first.created)
    assert catalogue.load(s).stamp == stamp  # no new revision either
    assert {x.key: catalog.history(s, x.key) for x in catalog.list_managed(s)} == history
    entry = catalog.history(s, "retail.transfer")[0]
    assert (entry.proposed_by, entry.approved_by, entry.source) == (
        "configuration", "configuration", "builtin:retail.toml")


def test_a_higher_file_version_updates_and_an_equal_one_keeps_console_changes(s, tmp_path) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, "rural.toml", ONE.format(version=1, target="/limits"))
    assert catalog.sync_definitions(s, [tmp_path]).created == ["rural.village"]
    maker, checker = staff(s, "sync-m"), staff(s, "sync-c")
    changed = definition("rural.village", name={"zh": "乡村金融", "en": "Village banking"},
                         target="/security")
    catalog.approve(s, checker, catalog.propose(s, maker, ProposalCreate(
        kind="update", service_key="rural.village", base_version=1, definition=changed)).id)
    assert catalog.sync_definitions(s, [tmp_path]).unchanged == 1  # same file version: the console's stays
    assert catalog.get_managed(s, "rural.village").definition.target == "/security"
    pending = catalog.propose(s, maker, ProposalCreate(kind="switch", service_key="rural.village",
                                                       base_version=2, enabled=False))
    path = write(tmp_path, "rural.toml", ONE.format(version=2, target="/pay/qr"))
    assert catalog.sync_definitions(s, [tmp_path]).updated == ["rural.village"]
    service = catalog.get_managed(s, "rural.village")
    assert (service.version, service.config_version, service.definition.target) == (3, 2, "/pay/qr")
    latest = catalog.history(s, "rural.village")[0]
    assert (latest.change, latest.proposed_by, latest.source) == ("update", "configuration", str(path)[-200:])
    assert catalog.get_proposal(s, pending.id).status == "superseded"
    with pytest.raises(StaleProposal):
        catalog.approve(s, checker, pending.id)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (ONE.format(version=1, target="/limits").replace('"乡村金融"', '""'), "services[0]: name.zh"),
        (ONE.format(version=1, target="ftp://x"), "services[0]: target"),
        (ONE.format(version=0, target="/limits"), "services[0].version"),
        (ONE.format(version=1, target="/limits").replace('line = "rural"', 'line = "loans"'), "services[0]"),
        (ONE.format(version=1, target="/limits") + 'colour = "red"\n', "services[0].colour"),
        (ONE.format(version=1, target="/limits") + "audience = { attr = 'age', op = 'older', value = 1 }\n",
         "audience.op"),
        ("line = 'rural'\n[[services]\n", "file"),
        ("[[tab_layouts]]\nkey='x'\nversion=1\nidentity_kind='person'\ntabs=['home','nowhere.x','me']\n",
         "'nowhere.x' is neither"),
        ("[[tab_layouts]]\nkey='x'\nversion=1\nidentity_kind='person'\ntabs=['home','me']\n", "tabs"),
    ],
)
def test_a_bad_file_is_refused_whole_naming_file_and_field(s, tmp_path, text, words) -> None:  # type: ignore[no-untyped-def]
    good = ONE.format(version=1, target="/limits").replace("rural.village", "rural.good")
    write(tmp_path, "a-good.toml", good)
    write(tmp_path, "b-bad.toml", text)
    with pytest.raises(InvalidDefinition) as caught:
        catalog.sync_definitions(s, [tmp_path])
    assert "b-bad.toml" in caught.value.detail and words in caught.value.detail
    assert catalog.list_managed(s) == []  # not even the good file's service


def test_a_key_declared_twice_is_refused(s, tmp_path) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, "one.toml", ONE.format(version=1, target="/limits"))
    write(tmp_path, "two.toml", ONE.format(version=1, target="/limits"))
    with pytest.raises(InvalidDefinition, match="declared twice"):
        catalog.sync_definitions(s, [tmp_path])
    with pytest.raises(InvalidDefinition, match="not a directory"):
        catalog.sync_definitions(s, [tmp_path / "missing"])


@pytest.fixture()
def example_settings(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ATRIUM_CATALOG__DIRS", f'["{EXAMPLE}"]')
    reset_settings_cache()
    yield
    monkeypatch.delenv("ATRIUM_CATALOG__DIRS")
    reset_settings_cache()


def test_the_example_plugs_in_by_configuration_for_its_audience_only(s, example_settings) -> None:  # type: ignore[no-untyped-def]
    report = catalog.sync_definitions(s)  # the settings' directories, after the built-in ones
    assert "wealth.pension_safety" in report.created
    senior, young = make_customer(s, age=66), make_customer(s, age=30)
    key = "wealth.pension_safety"
    assert key in {x.key for x in catalog.visible_services(s, viewer(s, senior))}
    assert key in {x.key for x in catalog.home_quick(s, viewer(s, senior), limit=10)}
    assert key not in {x.key for x in catalog.visible_services(s, viewer(s, young))}
    assert catalog.search(s, viewer(s, young), "养老", "zh") == []
    assert key in {x.key for x in catalog.visible_services(s, viewer(s, young, ui_mode="elder"))}
    assert key not in {x.key for x in catalog.visible_services(s, viewer(s, make_customer(s)))}  # age unknown
    assert catalog.history(s, key)[0].source.endswith("examples/catalog/wealth.toml")


def _get_routes() -> set[str]:
    from atrium.app import create_app
    from tests.web.test_routes_auth import endpoints

    return {e.key[1] for e in endpoints(create_app(start_background=False)) if e.key[0] == "GET"}


def test_every_builtin_and_example_service_opens_a_page_that_exists_with_a_known_icon() -> None:
    found = catalog.load_definitions([BUILTIN_DIR, EXAMPLE])
    routes = _get_routes()
    icons = set(re.findall(r'<symbol[^>]*\bid="([^"]+)"', ICONS.read_text(encoding="utf-8")))
    for fs in found.services:
        target = fs.definition["target"]
        assert target in routes, f"{fs.definition['key']} opens {target}, which no page serves"
        assert fs.definition["icon"] in icons, fs.definition["key"]
    for tab in BUILTIN_TABS.values():
        assert tab.href in routes, tab.key
        assert tab.icon in icons, f"tab {tab.key}: icon {tab.icon!r} is not in icons.svg"


def test_a_file_creating_a_key_supersedes_a_pending_console_proposal_for_it(s, tmp_path) -> None:  # type: ignore[no-untyped-def]
    maker, checker = staff(s, "race-m"), staff(s, "race-c")
    body = ProposalCreate(kind="create", service_key="rural.village",
                          definition=definition("rural.village", name={"zh": "乡村", "en": "Village"}))
    pending = catalog.propose(s, maker, body)
    write(tmp_path, "rural.toml", ONE.format(version=1, target="/limits"))
    catalog.sync_definitions(s, [tmp_path])
    assert catalog.get_proposal(s, pending.id).status == "superseded"
    with pytest.raises(StaleProposal):
        catalog.approve(s, checker, pending.id)
    assert catalog.get_managed(s, "rural.village").definition.name["en"] == "Village banking"

