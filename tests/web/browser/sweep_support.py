"""How the accessibility sweep (test_accessibility_sweep.py) visits a page: one browser context per mode ×
language with axe-core loaded into every page, and per page axe's findings, the targets smaller than the
mode's size, whether the page is wider than the viewport, and a screenshot."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Error as PlaywrightError

from atrium.web.mobile.i18n import LOCALE_COOKIE
from tests.web.browser_support import PHONE, SCREENSHOTS, axe_violations, load_axe_in_every_page

BLOCKING = ("serious", "critical")


class Sweep:
    """Visits pages in one context and keeps axe's findings and elder mode's small targets per page."""

    def __init__(self, page, label: str, *, min_target: int) -> None:  # type: ignore[no-untyped-def]
        self.page, self.label, self.min_target = page, label, min_target
        self.found: dict[str, list[dict]] = {}
        self.small: dict[str, list[str]] = {}
        self.small_in_text: dict[str, list[str]] = {}  # links inside running text that are small too
        self.overflow: dict[str, int] = {}
        self.failures: list[str] = []

    def visit(self, name: str, url: str, *, status: int = 200, signed_in: bool) -> None:
        try:
            response = self.page.goto(url)
        except PlaywrightError as exc:  # a download, say: not a page — it belongs in an exclusion list
            self.failures.append(f"{name}: {url} is not a page ({str(exc).splitlines()[0]})")
            return
        self.page.wait_for_load_state("load")
        if response is None or response.status != status:
            self.failures.append(f"{name}: {url} answered {response.status if response else 'nothing'}")
            return
        if signed_in and "/login" in self.page.url and not url.startswith("/login"):
            self.failures.append(f"{name}: {url} sent the signed-in customer to {self.page.url}")
            return
        self.audit(name)

    def audit(self, name: str) -> None:
        self.found[name] = axe_violations(self.page)
        small = self.page.evaluate(SMALL_TARGETS, self.min_target)
        self.small[name] = [element for element, in_text in small if not in_text]
        self.small_in_text[name] = [element for element, in_text in small if in_text]
        wider = self.page.evaluate("(d => d.scrollWidth - d.clientWidth)(document.documentElement)")
        if wider > 1:
            self.overflow[name] = wider
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "home"
        self.page.screenshot(path=str(SCREENSHOTS / f"sweep-{self.label}-{slug}.png"))

    def blocking(self) -> dict[str, list[dict]]:
        out = {n: [v for v in f if v["impact"] in BLOCKING] for n, f in self.found.items()}
        return {n: f for n, f in out.items() if f}

    def save(self) -> None:
        data = {"violations": self.found, "small_targets": self.small, "wider_than_the_page": self.overflow,
                "failures": self.failures}
        (SCREENSHOTS / f"sweep-{self.label}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1))


# Interactive elements smaller than the mode's target size (a radio or checkbox is measured by its label,
# which is the target), each with whether it is a link inside running text (WCAG 2.5.8 exempts those).
SMALL_TARGETS = """(min) => {
  const out = [];
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
    if (el.classList.contains('skip-link')) continue;
    const inText = el.tagName === 'A' && style.display === 'inline' && !!el.closest('p, li, dd, td');
    const choice = el.type === 'radio' || el.type === 'checkbox';
    const box = choice ? (el.closest('label') || el).getBoundingClientRect() : r;
    if (box.width < min || box.height < min) {
      out.push([el.outerHTML.slice(0, 90) + ` ${Math.round(box.width)}x${Math.round(box.height)}`, inText]);
    }
  }
  return out;
}"""


def sweep_context(browser, base: str, lang: str, *, viewport=PHONE):  # type: ignore[no-untyped-def]
    # axe is injected as a script, which the app's CSP (rightly) forbids: this context bypasses the CSP.
    context = browser.new_context(viewport=viewport, locale="zh-CN" if lang == "zh" else "en-US",
                                  base_url=base, bypass_csp=True)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": LOCALE_COOKIE, "value": lang, "url": base}])
    load_axe_in_every_page(context)
    return context
