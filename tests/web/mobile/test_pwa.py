"""The installable-app parts, static files, security headers and the vendor-assets module."""

from __future__ import annotations

import json
import re

import pytest

from atrium.web import assets


def test_manifest_describes_an_installable_app(client, db):
    r = client.get("/manifest.webmanifest", headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/manifest+json")
    assert r.headers["vary"] == "Cookie, Accept-Language"
    body = r.json()
    assert body["start_url"] == "/" and body["scope"] == "/" and body["display"] == "standalone"
    assert body["id"] == "/"
    assert body["name"] == "Atrium Bank Mobile" and body["short_name"] == "Atrium Bank"
    assert re.fullmatch(r"#[0-9a-f]{6}", body["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", body["background_color"])
    assert body["prefer_related_applications"] is False
    sizes = {i["sizes"] for i in body["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    assert any(i.get("purpose") == "maskable" for i in body["icons"])
    for icon in body["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200, icon["src"]
        assert got.headers["content-type"] == icon["type"]


@pytest.mark.parametrize(
    ("headers", "cookie", "name", "lang"),
    [
        ({"Accept-Language": "zh-CN,zh;q=0.9"}, None, "中庭银行 · 手机银行", "zh-CN"),
        ({"Accept-Language": "en-GB,en;q=0.8"}, None, "Atrium Bank Mobile", "en"),
        ({"Accept-Language": "zh-CN"}, "en", "Atrium Bank Mobile", "en"),  # the language switch wins
        ({"Accept-Language": "en"}, "zh", "中庭银行 · 手机银行", "zh-CN"),
    ],
)
def test_manifest_speaks_the_persons_language(client, db, headers, cookie, name, lang):
    if cookie:
        client.cookies.set("atrium_locale", cookie)
    body = client.get("/manifest.webmanifest", headers=headers).json()
    assert body["name"] == name and body["lang"] == lang
    assert body["short_name"] and body["short_name"] != body["name"]


def _shell(client) -> list[str]:  # type: ignore[no-untyped-def]
    script = client.get("/sw.js").text
    return json.loads(re.search(r"const SHELL = (\[.*?\]);", script).group(1))


def test_service_worker_precaches_a_shell_that_exists(client, db):
    r = client.get("/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["service-worker-allowed"] == "/"
    assert r.headers["cache-control"] == "no-cache"
    urls = _shell(client)
    assert {"/offline?lang=zh", "/offline?lang=en"} <= set(urls)
    for url in urls:
        assert client.get(url).status_code == 200, url
    # Pages with data are never part of it.
    pages = [u for u in urls if not (u.startswith("/offline?") or re.match(r"/static/.+\?v=[0-9a-f]+$", u))]
    assert not pages


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_shell_holds_everything_the_offline_page_loads(client, db, lang):
    """Offline, the page must draw from the cache alone: its stylesheet, scripts and icon sprite."""
    html = client.get(f"/offline?lang={lang}").text
    loaded = {u.split("#")[0] for u in re.findall(r'(?:src|href)="(/static/[^"]+)"', html)}
    assert loaded, html
    assert loaded <= set(_shell(client)), loaded - set(_shell(client))


def test_the_worker_script_is_the_same_for_everyone(signed_in, db):
    """A script that varied by language or session would look like a new deploy to the browser."""
    first = signed_in.get("/sw.js", headers={"Accept-Language": "zh-CN"}).content
    signed_in.cookies.set("atrium_locale", "en")
    assert signed_in.get("/sw.js", headers={"Accept-Language": "en"}).content == first
    signed_in.cookies.clear()
    assert signed_in.get("/sw.js").content == first


def test_the_worker_knows_both_languages(client, db):
    script = client.get("/sw.js").text
    offline = json.loads(re.search(r"const OFFLINE = (\{.*?\});", script).group(1))
    assert offline == {"zh": "/offline?lang=zh", "en": "/offline?lang=en"}
    names = json.loads(re.search(r"const APP_NAMES = (\{.*?\});", script).group(1))
    assert names == {"zh": "中庭银行", "en": "Atrium Bank"}
    for event in ("install", "activate", "fetch", "push", "notificationclick"):
        assert f'self.addEventListener("{event}"' in script


def test_the_worker_renews_push_subscriptions_at_routes_that_exist(client):
    from atrium.web.mobile.pages import pwa

    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "get" in paths[pwa.PUSH_KEY_URL]
    assert "post" in paths[pwa.PUSH_SUBSCRIPTIONS_URL]
    script = client.get("/sw.js").text
    assert json.dumps(pwa.PUSH_KEY_URL) in script and json.dumps(pwa.PUSH_SUBSCRIPTIONS_URL) in script


def test_a_missing_static_file_is_left_out_of_the_shell(monkeypatch):
    """One failed download fails a worker's whole installation: a missing file must not be listed."""
    from atrium.web.mobile.pages import pwa

    monkeypatch.setattr(pwa, "shell_assets", lambda: (("static", "css/app.css"), ("static", "css/nope.css")))
    urls = pwa.shell_urls()
    assert any(u.startswith("/static/mobile/css/app.css?v=") for u in urls)
    assert not any("nope.css" in u for u in urls)


@pytest.mark.parametrize(
    ("query", "accept", "title"),
    [
        ("?lang=en", "zh-CN", "You are offline"),
        ("?lang=zh", "en", "网络已断开"),
        ("?lang=fr", "en", "You are offline"),  # an unknown hint: the usual negotiation
        ("", "zh-CN", "网络已断开"),
    ],
)
def test_offline_page_in_the_language_asked(client, db, query, accept, title):
    r = client.get(f"/offline{query}", headers={"Accept-Language": accept})
    assert r.status_code == 200
    assert title in r.text
    assert 'name="csrf_token"' not in r.text
    assert r.headers["cache-control"] == "no-cache"


def test_offline_page_refuses_a_malformed_language_without_a_server_error(client, db):
    r = client.get("/offline?lang=" + "x" * 50)
    assert 400 <= r.status_code < 500


def test_offline_page_is_public_and_carries_no_token(client, db):
    r = client.get("/offline")
    assert r.status_code == 200
    assert "网络已断开" in r.text
    assert 'name="csrf_token"' not in r.text


def test_pages_carry_security_headers(signed_in):
    r = signed_in.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_pages_have_no_inline_scripts_or_styles(signed_in, customer):
    """The CSP forbids them; a page that used one would silently break in the browser."""
    for path in ("/", "/transfer", "/limits", "/settings", f"/accounts/{customer.accounts[0].id}"):
        html = signed_in.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html and "<style" not in html, path


def test_static_files_are_served(client, db):
    assert client.get("/static/mobile/css/app.css").status_code == 200
    assert client.get("/static/mobile/js/app.js").status_code == 200


def test_copy_vendor_copies_the_pinned_files(tmp_path):
    node_modules = tmp_path / "node_modules"
    for f in assets.VENDOR_FILES:
        src = node_modules / f.package / f.source
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(f"/* {f.package} */")
    dest = tmp_path / "vendor"
    copied = assets.copy_vendor(node_modules, dest)
    assert sorted(p.name for p in copied) == sorted(f.target for f in assets.VENDOR_FILES)
    assert (dest / "htmx.min.js").read_text() == "/* htmx.org */"


def test_axe_is_never_in_the_served_vendor_folder(tmp_path, client, db):
    node_modules = tmp_path / "node_modules"
    for f in assets.VENDOR_FILES:
        src = node_modules / f.package / f.source
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text("/* */")
    dest = tmp_path / "vendor"
    dest.mkdir()
    (dest / "axe.min.js").write_text("/* left by an older install */")
    assets.copy_vendor(node_modules, dest)
    assert not (dest / "axe.min.js").exists()
    assert client.get("/static/vendor/axe.min.js").status_code == 404


def test_copy_vendor_explains_a_missing_node_modules(tmp_path, capsys):
    with pytest.raises(assets.AssetsError, match="npm ci"):
        assets.copy_vendor(tmp_path / "node_modules", tmp_path / "vendor")
    assert assets.main(["--node-modules", str(tmp_path / "nope"), "--dest", str(tmp_path / "v")]) == 1
    assert "npm ci" in capsys.readouterr().err


def test_copy_vendor_names_a_missing_package(tmp_path):
    (tmp_path / "node_modules" / "htmx.org").mkdir(parents=True)
    with pytest.raises(assets.AssetsError, match="chart.js/dist/chart.umd.js"):
        assets.copy_vendor(tmp_path / "node_modules", tmp_path / "vendor")


def test_package_json_pins_exact_versions():
    import json
    from pathlib import Path

    root = Path(assets.__file__).resolve().parents[3]
    deps = json.loads((root / "package.json").read_text())["dependencies"]
    assert set(deps) == {"htmx.org", "chart.js", "axe-core"}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in deps.values()), deps
    lock = json.loads((root / "package-lock.json").read_text())
    assert all(lock["packages"][f"node_modules/{name}"]["version"] == v for name, v in deps.items())
