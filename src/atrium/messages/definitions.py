"""The built-in message templates and label words (`definitions.json` beside this file).

A built-in template is what the bank sends for an integration event (a transfer completed, a security
change); `atrium migrate` writes any that are missing as version 1 (insert-only: staff edits are kept), and
the inbox writes one on first use if a database was never migrated that way. Its `placeholders` are the
only names staff may use when they edit it: the handler fills exactly those.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from atrium.messages import domain

PATH = Path(__file__).resolve().with_name("definitions.json")


@dataclass(frozen=True)
class Text:
    title: str
    body: str


@dataclass(frozen=True)
class Definition:
    key: str
    category: str
    channels: tuple[str, ...]
    placeholders: frozenset[str]
    link: str | None
    texts: dict[str, Text]  # locale → title and body


@dataclass(frozen=True)
class Definitions:
    templates: dict[str, Definition]
    labels: dict[str, dict[str, str]]  # locale → label key → word


def parse(raw: dict) -> Definitions:
    """Validate as staff edits are validated: a broken built-in fails loudly at start, not at send."""
    templates: dict[str, Definition] = {}
    for key, t in raw["templates"].items():
        if not domain.TEMPLATE_KEY.match(key):
            raise ValueError(f"bad template key {key!r}")
        if t["category"] not in domain.CATEGORIES or not set(t["channels"]) <= set(domain.CHANNELS):
            raise ValueError(f"template {key}: bad category or channels")
        allowed = frozenset(t["placeholders"])
        texts = {}
        for locale in domain.LOCALES:
            title = domain.check_text(t[locale]["title"], allowed, limit=domain.TITLE_MAX, field="title")
            body = domain.check_text(t[locale]["body"], allowed, limit=domain.BODY_MAX, field="body")
            texts[locale] = Text(title, body)
        link = domain.safe_link(t.get("link"))
        if link is not None:
            domain.check_text(link, allowed, limit=domain.LINK_MAX, field="link")
        templates[key] = Definition(key, t["category"], tuple(t["channels"]), allowed, link, texts)
    labels = {locale: dict(raw["labels"][locale]) for locale in domain.LOCALES}
    if set(labels["zh"]) != set(labels["en"]):
        raise ValueError("the label tables of zh and en differ")
    return Definitions(templates, labels)


@lru_cache(maxsize=1)
def builtin() -> Definitions:
    return parse(json.loads(PATH.read_text(encoding="utf-8")))
