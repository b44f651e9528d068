"""Coarse places for IP addresses, and user agents summarised into device names."""

from __future__ import annotations

from pathlib import Path

import pytest

from atrium.identity.protection import geo, useragent


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("127.0.0.1", "local"),
        ("::1", "local"),
        ("10.1.2.3", "local"),
        ("172.20.0.5", "local"),
        ("192.168.1.20", "local"),
        ("fe80::1%eth0", "local"),
        ("fd12:3456::1", "local"),
        ("::ffff:192.168.0.9", "local"),
        ("192.0.2.77", "shanghai"),
        ("198.51.100.1", "beijing"),
        ("203.0.113.5", "shenzhen"),
        ("203.0.113.200", "hong-kong"),
        ("::ffff:192.0.2.1", "shanghai"),
        ("2001:db8::42", "hangzhou"),
        ("2001:db8:9000::1", "singapore"),
        ("8.8.8.8", "unknown"),
        ("testclient", "unknown"),
        ("", "unknown"),
    ],
)
def test_places_from_the_sample_table(ip, key):
    assert geo.locate(ip).key == key


def test_places_have_both_languages():
    assert geo.describe("127.0.0.1", "zh") == "本地网络"
    assert geo.describe("127.0.0.1", "en") == "local network"
    assert geo.describe("192.0.2.1", "zh") == "上海" and geo.describe("192.0.2.1", "en") == "Shanghai"
    assert geo.describe("1.1.1.1", "zh") == "未知" and geo.describe("1.1.1.1", "en") == "unknown"


def test_a_configured_table_and_the_longest_prefix(tmp_path: Path):
    table = tmp_path / "places.csv"
    table.write_text(
        "# ours\n100.64.0.0/10,cgnat,运营商网络,Carrier network\n100.64.1.0/24,branch,网点,Branch\n\n",
        encoding="utf-8",
    )
    assert geo.locate("100.64.1.9", table=table).key == "branch"
    assert geo.locate("100.65.0.1", table=table).key == "cgnat"
    assert geo.locate("192.0.2.1", table=table).key == "unknown"  # the sample is not merged in


@pytest.mark.parametrize(
    "line", ["10.0.0.0/8,x,甲", "not-a-net,x,甲,A", "192.0.2.0/24,local,本地,Local", "192.0.2.0/24,,甲,A"]
)
def test_a_malformed_table_is_refused(tmp_path: Path, line: str):
    table = tmp_path / "bad.csv"
    table.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(geo.GeoTableError):
        geo.load_table(table)


IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Mobile Safari/537.36"
)
WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36 Edg/124.0.2478.51"
)
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
HARMONY = (
    "Mozilla/5.0 (Phone; OpenHarmony 4.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 "
    "Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.4.300"
)


@pytest.mark.parametrize(
    ("agent", "browser", "system", "name"),
    [
        (IPHONE_SAFARI, "Safari", "iOS", "Safari on iOS"),
        (ANDROID_CHROME, "Chrome", "Android", "Chrome on Android"),
        (WECHAT, "WeChat", "iOS", "WeChat on iOS"),
        (EDGE, "Edge", "Windows", "Edge on Windows"),
        (MAC_FIREFOX, "Firefox", "macOS", "Firefox on macOS"),
        (HARMONY, "Chrome", "HarmonyOS", "Chrome on HarmonyOS"),
        ("curl/8.5.0", "curl", None, "curl"),
        ("python-httpx/0.27.0", "Python", None, "Python"),
        ("", None, None, "Unknown device"),
    ],
)
def test_user_agents_are_summarised(agent, browser, system, name):
    device = useragent.summarise(agent)
    assert (device.browser, device.os, device.name) == (browser, system, name)


def test_an_api_client_without_an_agent():
    assert useragent.summarise("", client="api").name == "API client"
