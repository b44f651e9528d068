"""The inbox: /messages (category chips, unread marked in words as well as weight, "mark all read", more
messages through htmx), /messages/{id} (opening marks it read; its link as a button; delete) and
/messages/settings (marketing consent, channels per category — security alerts always on).

Writes are form posts with the CSRF token; with htmx, "mark all read" redraws the list and says so in the
live region. Another customer's message id is the 404 page, like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.kit.errors import ValidationFailed
from atrium.messages import domain
from atrium.messages import service as messages
from atrium.messages.schemas import MessagePage, PreferencesUpdate
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import is_htmx, redirect, render, translator

router = APIRouter(route_class=PageRoute)
HOME = "/messages"
PAGE_SIZE = 20
CATEGORY_ICONS = {"transaction": "transfer", "security": "shield", "service": "bell", "marketing": "gift"}
NOTICES = ("read", "deleted")
MessageId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
CategoryQuery = Annotated[str, Query(max_length=16)]


def _category(value: str) -> str | None:
    return value if value in domain.CATEGORIES else None


def _list_url(category: str | None, **extra: str) -> str:
    query = urlencode({k: v for k, v in {"category": category or "", **extra}.items() if v})
    return HOME + (f"?{query}" if query else "")


def _page(
    session: ReadOnlySession, customer_id: str, category: str | None, cursor: str | None
) -> MessagePage:
    try:
        return messages.list_messages(session, customer_id, category=category, cursor=cursor, limit=PAGE_SIZE)
    except ValidationFailed:
        # A tampered or stale cursor: start again from the newest message.
        return messages.list_messages(session, customer_id, category=category, limit=PAGE_SIZE)


def _context(request: Request, page: MessagePage, category: str | None, **extra: object) -> dict[str, object]:
    return {
        "title": translator(request)("messages.title"),
        "back": "/",
        "tab": "home",
        "page": page,
        "category": category,
        "categories": domain.CATEGORIES,
        "icons": CATEGORY_ICONS,
        "more_url": (f"{HOME}/more?{urlencode({'cursor': page.next_cursor, 'category': category or ''})}"
                     if page.next_cursor else None),
        "list_url": _list_url,
        "live": None,
        **extra,
    }


@router.get(HOME)
def inbox(
    request: Request,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    category: CategoryQuery = "",
    done: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    chosen = _category(category)
    page = _page(session, customer.id, chosen, None)
    return render(request, "pages/messages/index.html",
                  **_context(request, page, chosen, notice=done if done in NOTICES else None, older=False))


@router.get(HOME + "/more")
def more(
    request: Request,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    cursor: Annotated[str, Query(max_length=2048)],
    category: CategoryQuery = "",
) -> Response:
    """The next messages as list items (htmx replaces the "more" item with them); without htmx, a page of
    older messages."""
    chosen = _category(category)
    page = _page(session, customer.id, chosen, cursor)
    template = "pages/messages/_items.html" if is_htmx(request) else "pages/messages/index.html"
    return render(request, template,
                  **_context(request, page, chosen, notice=None, older=True, announce=is_htmx(request)))


@router.post(HOME + "/read-all", dependencies=[Depends(csrf.verify)])
def read_all(
    request: Request, customer: CurrentCustomer, category: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    chosen = _category(category)
    marked = get_db().run(lambda s: messages.mark_all_read(s, customer.id, category=chosen))
    if not is_htmx(request):
        return redirect(request, _list_url(chosen, done="read"))
    with get_db().read_session() as s:
        page = _page(s, customer.id, chosen, None)
    t = translator(request)
    return render(request, "pages/messages/_list.html",
                  **_context(request, page, chosen, older=False, notice=None,
                             live=t("messages.marked", count=marked.marked)))


@router.get(HOME + "/settings")
def settings_page(
    request: Request,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    saved: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    t = translator(request)
    return render(
        request, "pages/messages/settings.html", title=t("messages.settings.title"), back=HOME, tab="me",
        prefs=messages.get_preferences(session, customer.id), rules=domain.RULES,
        categories=domain.CATEGORIES, channels=domain.CHANNELS, icons=CATEGORY_ICONS, saved=saved == "1",
        push=messages.push_key(),
    )


Box = Annotated[str, Form(max_length=3)]


@router.post(HOME + "/settings", dependencies=[Depends(csrf.verify)])
def save_settings(
    request: Request,
    customer: CurrentCustomer,
    marketing_opt_in: Box = "",
    transaction_sms: Annotated[str, Form(alias="transaction.sms", max_length=3)] = "",
    transaction_push: Annotated[str, Form(alias="transaction.push", max_length=3)] = "",
    service_push: Annotated[str, Form(alias="service.push", max_length=3)] = "",
    marketing_push: Annotated[str, Form(alias="marketing.push", max_length=3)] = "",
) -> Response:
    """Unchecked boxes are not sent: every channel the customer may change is set from the form (the
    locked security channels are not on it; the domain refuses switching them off anyway)."""
    update = PreferencesUpdate(
        marketing_opt_in=marketing_opt_in == "on",
        channels={
            "transaction": {"sms": transaction_sms == "on", "push": transaction_push == "on"},
            "service": {"push": service_push == "on"},
            "marketing": {"push": marketing_push == "on"},
        },
    )
    get_db().run(lambda s: messages.update_preferences(s, customer.id, update))
    return redirect(request, f"{HOME}/settings?saved=1")


@router.get(HOME + "/{message_id}")
def message_page(request: Request, message_id: MessageId, customer: CurrentCustomer) -> Response:
    """Opening a message marks it read (a write on GET, but an idempotent one about the reader's own
    message: the same as what the page shows)."""
    message = get_db().run(lambda s: messages.mark_read(s, customer.id, message_id))
    t = translator(request)
    return render(request, "pages/messages/detail.html", title=t("messages.detail.title"), back=HOME,
                  tab="home", message=message, icons=CATEGORY_ICONS)


@router.post(HOME + "/{message_id}/delete", dependencies=[Depends(csrf.verify)])
def delete(request: Request, message_id: MessageId, customer: CurrentCustomer) -> Response:
    get_db().run(lambda s: messages.delete_message(s, customer.id, message_id))
    return redirect(request, _list_url(None, done="deleted"))
