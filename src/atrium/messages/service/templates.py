"""Message templates: the built-ins (from `definitions.json`) and staff's edits, as versions.

Invariants: a version is never changed (an edit adds one, `current_version` moves); an edit may only use
the placeholders the template's sender fills; a link is a path on this site; only the roles in
`MANAGER_ROLES` change templates (the console's `messages.manage` grants the same), and each version says
which staff member wrote it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.messages import definitions, domain
from atrium.messages import repository as repo
from atrium.messages.errors import (
    InvalidTemplate,
    NotMessageManager,
    StaleTemplate,
    TemplateExists,
    TemplateNotFound,
)
from atrium.messages.models import MessageTemplate, TemplateVersion
from atrium.messages.schemas import TemplateEdit, TemplateRead, TemplateVersionRead

MANAGER_ROLES = frozenset({"administrator", "operator"})
SYSTEM = "system"
# Templates staff create themselves are sent to many customers at once: notices and marketing.
STAFF_CATEGORIES = ("service", "marketing")


def require_manager(staff_role: str | None) -> None:
    if staff_role not in MANAGER_ROLES:
        raise NotMessageManager(f"the role {staff_role!r} may not manage messages")


def allowed_placeholders(key: str) -> frozenset[str]:
    found = definitions.builtin().templates.get(key)
    return found.placeholders if found is not None else frozenset()


def _first_version(d: definitions.Definition) -> TemplateVersion:
    return TemplateVersion(
        template_key=d.key, version=1, channels=list(d.channels),
        title_zh=d.texts["zh"].title, body_zh=d.texts["zh"].body,
        title_en=d.texts["en"].title, body_en=d.texts["en"].body,
        link=d.link, note="built-in", created_by=SYSTEM, created_at=clock.now(),
    )


def _insert_builtin(session: Session, d: definitions.Definition) -> bool:
    now = clock.now()
    row = MessageTemplate(key=d.key, category=d.category, builtin=True, current_version=1, created_at=now,
                          updated_at=now)
    return repo.add_template(session, row, _first_version(d))


def ensure_builtin_templates(session: Session) -> int:
    """Write every built-in template that is missing (insert-only: staff edits stay); returns how many."""
    return sum(
        1 for key, d in sorted(definitions.builtin().templates.items())
        if repo.template(session, key) is None and _insert_builtin(session, d)
    )


def current(session: Session, key: str) -> tuple[MessageTemplate, TemplateVersion]:
    """The template and its current version; a built-in missing from the database is written first."""
    row = repo.template(session, key)
    if row is None:
        d = definitions.builtin().templates.get(key)
        if d is None:
            raise TemplateNotFound("no such template", key=key)
        _insert_builtin(session, d)
        row = repo.template(session, key)
        assert row is not None
    ver = repo.version(session, key, row.current_version)
    assert ver is not None, f"template {key} lost version {row.current_version}"
    return row, ver


def pinned(session: Session, key: str, number: int) -> tuple[MessageTemplate, TemplateVersion]:
    row = repo.template(session, key)
    ver = repo.version(session, key, number) if row is not None else None
    if row is None or ver is None:
        raise TemplateNotFound("no such template version", key=key, version=number)
    return row, ver


def _read(session: Session, row: MessageTemplate) -> TemplateRead:
    ver = repo.version(session, row.key, row.current_version)
    return TemplateRead(
        key=row.key, category=row.category, builtin=row.builtin, current_version=row.current_version,
        updated_at=row.updated_at, placeholders=sorted(allowed_placeholders(row.key)),
        current=TemplateVersionRead.model_validate(ver),
    )


def list_templates(session: Session) -> list[TemplateRead]:
    return [_read(session, row) for row in repo.templates(session)]


def get_template(session: Session, key: str) -> TemplateRead:
    row = repo.template(session, key)
    if row is None:
        raise TemplateNotFound("no such template", key=key)
    return _read(session, row)


def template_versions(session: Session, key: str) -> list[TemplateVersionRead]:
    if repo.template(session, key) is None:
        raise TemplateNotFound("no such template", key=key)
    return [TemplateVersionRead.model_validate(v) for v in repo.versions(session, key)]


def _checked(data: TemplateEdit, category: str, allowed: frozenset[str]) -> dict[str, object]:
    rule = domain.RULES[category]
    channels = [ch for ch in domain.CHANNELS if ch in data.channels]
    if not set(channels) <= rule.allowed:
        raise InvalidTemplate(f"{category} messages cannot go by {sorted(set(channels) - rule.allowed)}",
                              field="channels")
    out: dict[str, object] = {"channels": channels}
    for locale in domain.LOCALES:
        title, body = getattr(data, f"title_{locale}"), getattr(data, f"body_{locale}")
        out[f"title_{locale}"] = domain.check_text(title, allowed, limit=domain.TITLE_MAX,
                                                   field=f"title_{locale}")
        out[f"body_{locale}"] = domain.check_text(body, allowed, limit=domain.BODY_MAX,
                                                  field=f"body_{locale}")
    link = domain.safe_link(data.link)
    if link is not None:
        domain.check_text(link, allowed, limit=domain.LINK_MAX, field="link")
    out["link"] = link
    return out


def _same(ver: TemplateVersion, fields: dict[str, object]) -> bool:
    return all(getattr(ver, name) == value for name, value in fields.items())


def edit_template(
    session: Session, *, staff_id: str, staff_role: str | None, key: str, data: TemplateEdit,
    base_version: int,
) -> TemplateRead:
    """Save new words as the next version. `base_version` is the version the editor started from: if
    someone saved since, StaleTemplate (409) rather than silently overwriting them. Saving exactly the
    current words again adds nothing (a double submit)."""
    require_manager(staff_role)
    if repo.template(session, key) is None:
        current(session, key)  # a built-in not yet written is written first; anything else: not found
    row = repo.template(session, key, lock=True)
    assert row is not None
    fields = _checked(data, row.category, allowed_placeholders(key))
    ver = repo.version(session, key, row.current_version)
    assert ver is not None
    if _same(ver, fields):
        return _read(session, row)
    if base_version != row.current_version:
        raise StaleTemplate("the template changed since it was opened", current_version=row.current_version)
    now = clock.now()
    repo.add_version(session, TemplateVersion(
        template_key=key, version=row.current_version + 1, note=data.note.strip()[:200], created_by=staff_id,
        created_at=now, **fields,
    ))
    row.current_version += 1
    row.updated_at = now
    session.flush()
    return _read(session, row)


def restore_version(
    session: Session, *, staff_id: str, staff_role: str | None, key: str, version: int, base_version: int
) -> TemplateRead:
    """Make an earlier version's words current again (as a new version: history is never rewritten)."""
    require_manager(staff_role)
    _, old = pinned(session, key, version)
    data = TemplateEdit(
        channels=list(old.channels), title_zh=old.title_zh, body_zh=old.body_zh, title_en=old.title_en,  # type: ignore[arg-type]
        body_en=old.body_en, link=old.link, note=f"restored version {version}",
    )
    return edit_template(session, staff_id=staff_id, staff_role=staff_role, key=key, data=data,
                         base_version=base_version)


def create_template(
    session: Session, *, staff_id: str, staff_role: str | None, key: str, category: str, data: TemplateEdit
) -> TemplateRead:
    """A new notice or marketing template (no placeholders: it goes to many customers alike)."""
    require_manager(staff_role)
    key = key.strip().lower()
    if not domain.TEMPLATE_KEY.match(key) or len(key) > 60:
        raise InvalidTemplate("a key is lower-case words joined by dots, like promo.spring", field="key")
    if category not in STAFF_CATEGORIES:
        raise InvalidTemplate("staff templates are service notices or marketing", field="category")
    if key in definitions.builtin().templates:
        raise TemplateExists("that key belongs to a built-in template", key=key)
    fields = _checked(data, category, frozenset())
    now = clock.now()
    row = MessageTemplate(key=key, category=category, builtin=False, current_version=1, created_at=now,
                          updated_at=now)
    first = TemplateVersion(template_key=key, version=1, note=data.note.strip()[:200], created_by=staff_id,
                            created_at=now, **fields)
    if not repo.add_template(session, row, first):
        existing = repo.template(session, key)
        ver = repo.version(session, key, 1)
        if existing is not None and ver is not None and existing.category == category and _same(ver, fields):
            return _read(session, existing)  # the same form posted twice
        raise TemplateExists("a template with that key exists", key=key)
    session.flush()
    return _read(session, row)
