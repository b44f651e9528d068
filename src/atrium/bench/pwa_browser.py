"""One page load in Chromium on a throttled mid-range-phone profile, measured the way Lighthouse does.

The phone: a 412×823 CSS-pixel viewport at device pixel ratio 2.625, touch, a mobile user agent; its CPU
slowed 4× (`Emulation.setCPUThrottlingRate`) and its network shaped like Lighthouse's "Slow 4G"
(`Network.emulateNetworkConditions`: 150 ms added to every request, 1.6 Mbit/s down, 750 kbit/s up).

A load is measured from navigation start until the network has been quiet for `QUIET_MS` after the
`load` event (Lighthouse's own end condition, shortened):
- largest contentful paint — the last `largest-contentful-paint` entry a buffered PerformanceObserver saw,
  with the element that produced it;
- first contentful paint — the `paint` entry;
- time to first byte — from the document's request to its response headers, by CDP's own timing (the
  page's Navigation Timing does not see DevTools' throttling);
- bytes — the sum of `encodedDataLength` (headers and body, as they crossed the wire) of every request
  the page target finished (`Network.loadingFinished`). A response the service worker answered from its
  cache costs no bytes (it is counted as a request). One the worker fetched from the network (a page,
  through navigation preload) is reported with 0 bytes on the page target: its body size from
  `Network.responseReceived` is counted instead (its few hundred bytes of headers are not);
- requests — every request the page made (`Network.requestWillBeSent`, data: URLs excepted), and how
  many of them the service worker answered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

PHONE_VIEWPORT = {"width": 412, "height": 823}
PHONE_DPR = 2.625
# A recent Android phone's Chrome, as Lighthouse's mobile profile announces itself.
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
QUIET_MS = 1000  # the network must be idle this long after `load` for a load to be over
MAX_LOAD_S = 30.0

_OBSERVE = """
window.__bench = {lcp: null, lcpElement: null, lcpSize: null};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const el = e.element;
    window.__bench.lcp = e.startTime;
    window.__bench.lcpSize = e.size;
    window.__bench.lcpElement = el
      ? el.tagName.toLowerCase() + (el.classList.length ? "." + Array.from(el.classList).join(".") : "")
      : (e.url || null);
  }
}).observe({type: "largest-contentful-paint", buffered: true});
"""

_READ = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    lcp: window.__bench ? window.__bench.lcp : null,
    lcpElement: window.__bench ? window.__bench.lcpElement : null,
    lcpSize: window.__bench ? window.__bench.lcpSize : null,
    fcp: fcp ? fcp.startTime : null,
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
    load: nav ? nav.loadEventEnd : null,
    status: nav ? nav.responseStatus : null,
    controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
  };
}"""


@dataclass(frozen=True)
class Throttling:
    latency_ms: float = 150.0
    download_kbps: float = 1638.4
    upload_kbps: float = 750.0
    cpu_slowdown: float = 4.0

    def network(self) -> dict[str, Any]:
        return {
            "offline": False,
            "latency": self.latency_ms,
            "downloadThroughput": self.download_kbps * 1000 / 8,  # bytes per second
            "uploadThroughput": self.upload_kbps * 1000 / 8,
        }


@dataclass
class Resource:
    path: str
    type: str
    bytes: int = 0
    status: int | None = None
    from_service_worker: bool = False
    worker_source: str | None = None  # the worker's answer: "network", "cache-storage", "http-cache"
    from_cache: bool = False
    done: bool = False
    started_s: float | None = None  # CDP monotonic seconds
    headers_s: float | None = None


@dataclass
class Load:
    """What one page load cost and when it painted (times in ms from navigation start)."""

    url: str
    lcp_ms: float | None
    fcp_ms: float | None
    ttfb_ms: float | None
    load_ms: float | None
    lcp_element: str | None
    status: int | None
    controlled: bool
    bytes: int
    requests: int
    from_service_worker: int
    resources: list[Resource] = field(default_factory=list)


class _Recorder:
    """The page target's network, from CDP events."""

    def __init__(self, cdp: Any) -> None:
        self.resources: dict[str, Resource] = {}
        self.hops: list[Resource] = []  # redirects answered before the final response
        self.last_activity = time.monotonic()
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)

    def _touch(self) -> None:
        self.last_activity = time.monotonic()

    def _sent(self, e: dict[str, Any]) -> None:
        url = e["request"]["url"]
        if url.startswith("data:"):
            return
        split = urlsplit(url)
        if "redirectResponse" in e and e["requestId"] in self.resources:
            # A redirect reuses the request id: the hop before it is over, and cost its own bytes.
            hop = self.resources.pop(e["requestId"])
            hop.status = e["redirectResponse"].get("status")
            hop.bytes = int(e["redirectResponse"].get("encodedDataLength", 0))
            hop.done = True
            self.hops.append(hop)
        self.resources[e["requestId"]] = Resource(
            split.path + (f"?{split.query}" if split.query else ""), e.get("type", "Other"),
            started_s=e.get("timestamp"),
        )
        self._touch()

    def _response(self, e: dict[str, Any]) -> None:
        r = self.resources.get(e["requestId"])
        if r is not None:
            response = e["response"]
            r.status = response.get("status")
            r.from_service_worker = bool(response.get("fromServiceWorker"))
            r.worker_source = response.get("serviceWorkerResponseSource")
            r.from_cache = bool(response.get("fromDiskCache") or response.get("fromPrefetchCache"))
            timing = response.get("timing")
            if timing:
                r.headers_s = timing["requestTime"] + timing["receiveHeadersEnd"] / 1000
            if r.from_service_worker and r.worker_source == "network":
                r.bytes = int(response.get("encodedDataLength", 0))
        self._touch()

    def _finished(self, e: dict[str, Any]) -> None:
        r = self.resources.get(e["requestId"])
        if r is not None:
            r.bytes = max(r.bytes, int(e.get("encodedDataLength", 0)))
            r.done = True
        self._touch()

    def _failed(self, e: dict[str, Any]) -> None:
        r = self.resources.get(e["requestId"])
        if r is not None:
            r.done = True
        self._touch()

    def in_flight(self) -> int:
        return sum(1 for r in self.resources.values() if not r.done)


def new_phone_context(browser: Any, base_url: str, *, locale: str, cookies: list[dict[str, Any]]) -> Any:
    """A fresh browser context (empty HTTP cache, no service worker) shaped like the phone, signed in."""
    context = browser.new_context(
        base_url=base_url,
        viewport=PHONE_VIEWPORT,
        device_scale_factor=PHONE_DPR,
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_UA,
        locale="zh-CN" if locale == "zh" else "en-US",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9" if locale == "zh" else "en"},
    )
    context.set_default_timeout(MAX_LOAD_S * 1000)
    context.add_init_script(_OBSERVE)
    if cookies:
        context.add_cookies(cookies)
    return context


def measure(page: Any, path: str, throttling: Throttling) -> Load:
    """Navigate `page` to `path` under `throttling` and measure the load (see the module docstring)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", throttling.network())
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttling.cpu_slowdown})
        recorder = _Recorder(cdp)
        page.goto(path, wait_until="load")
        deadline = time.monotonic() + MAX_LOAD_S
        while time.monotonic() < deadline:
            quiet_for = time.monotonic() - recorder.last_activity
            if recorder.in_flight() == 0 and quiet_for * 1000 >= QUIET_MS:
                break
            page.wait_for_timeout(100)  # lets Playwright deliver the CDP events meanwhile
        figures = page.evaluate(_READ)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        cdp.send("Network.emulateNetworkConditions",
                 {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    finally:
        cdp.detach()
    resources = recorder.hops + list(recorder.resources.values())
    document = next((r for r in resources if r.type == "Document"), None)
    ttfb = None
    if document and document.started_s is not None and document.headers_s is not None:
        ttfb = (document.headers_s - document.started_s) * 1000
    return Load(
        url=path,
        lcp_ms=_ms(figures["lcp"]),
        fcp_ms=_ms(figures["fcp"]),
        ttfb_ms=_ms(ttfb),
        load_ms=_ms(figures["load"]),
        lcp_element=figures["lcpElement"],
        status=figures["status"],
        controlled=bool(figures["controlled"]),
        bytes=sum(r.bytes for r in resources),
        requests=len(resources),
        from_service_worker=sum(1 for r in resources if r.from_service_worker),
        resources=sorted(resources, key=lambda r: -r.bytes),
    )


def wait_for_service_worker(page: Any, timeout_s: float = 30.0) -> None:
    """Until the worker has precached the shell, finished activating and controls `page`."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    deadline = time.monotonic() + timeout_s
    controlled = "(navigator.serviceWorker.controller || {}).state === 'activated'"
    while not page.evaluate(controlled):
        if time.monotonic() > deadline:
            raise RuntimeError("the service worker never took control of the page")
        page.wait_for_timeout(100)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)
