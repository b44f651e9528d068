"""The installable-app parts, static files, security headers and the vendor-assets module."""

from __future__ import annotations

import re

import pytest

from atrium.web import assets


def test_manifest_describes_an_installable_app(client, db):
    r = client.get("/manifest.webmanifest", headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/manifest+json")
    body = r.json()
    assert body["start_url"] == "/" and body["scope"] == "/" and body["display"] == "standalone"
    assert body["name"] == "Atrium Bank Mobile"
    sizes = {i["sizes"] for i in body["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    assert any(i.get("purpose") == "maskable" for i in body["icons"])
    for icon in body["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200, icon["src"]
        assert got.headers["content-type"] == icon["type"]


def test_service_worker_precaches_a_shell_that_exists(client, db):
    r = client.get("/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["service-worker-allowed"] == "/"
    assert r.headers["cache-control"] == "no-cache"
    shell = re.search(r"const SHELL = (\[.*?\]);", r.text).group(1)
    urls = re.findall(r'"([^"]+)"', shell)
    assert "/offline" in urls
    for url in urls:
        assert client.get(url).status_code == 200, url


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
