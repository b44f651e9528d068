"""A user agent string summarised into a name people recognise ("Chrome on Android", "WeChat on iOS").

Deliberately coarse: the session list and login history need "which of my devices is this", not versions
(and fewer details shown means less to fingerprint). Order matters: in-app browsers and Edge announce
themselves *and* Chrome/Safari, so the specific names are tried first.
"""

from __future__ import annotations

import re

from atrium.identity.protection.schemas import DeviceRead

_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("Atrium app", r"\bAtrium(?:App)?/"),
        ("WeChat", r"\bMicroMessenger/"),
        ("Alipay", r"\bAlipayClient/"),
        ("Edge", r"\bEdg(?:e|A|iOS)?/"),
        ("Opera", r"\bOPR/|\bOpera\b"),
        ("Samsung Internet", r"\bSamsungBrowser/"),
        ("UC Browser", r"\bUCBrowser/"),
        ("Firefox", r"\bFirefox/|\bFxiOS/"),
        ("Chrome", r"\bChrome/|\bCriOS/|\bChromium/|HeadlessChrome/"),
        ("Safari", r"\bVersion/[\d.]+.*\bSafari/|\bMobile/\w+ Safari"),
        ("curl", r"^curl/"),
        ("Python", r"python-requests|python-httpx|\bhttpx/|\bPython-urllib"),
    )
)
_SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("HarmonyOS", r"\bHarmonyOS\b|\bOpenHarmony\b"),
        ("iPadOS", r"\biPad\b"),
        ("iOS", r"\biPhone\b|\biPod\b|\biOS\b"),
        ("Android", r"\bAndroid\b"),
        ("Windows", r"\bWindows\b"),
        ("ChromeOS", r"\bCrOS\b"),
        ("macOS", r"\bMacintosh\b|\bMac OS X\b"),
        ("Linux", r"\bLinux\b|\bX11\b"),
    )
)


def _first(table: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> str | None:
    return next((name for name, pattern in table if pattern.search(text)), None)


def summarise(user_agent: str, *, client: str = "mobile") -> DeviceRead:
    text = (user_agent or "")[:400]
    browser, system = _first(_BROWSERS, text), _first(_SYSTEMS, text)
    if browser and system:
        name = f"{browser} on {system}"
    elif browser or system:
        name = browser or system or ""
    elif client == "api":
        name = "API client"
    else:
        name = "Unknown device"
    return DeviceRead(browser=browser, os=system, name=name)
