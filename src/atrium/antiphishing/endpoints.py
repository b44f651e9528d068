"""/api/v1/phishing/check: anyone may ask whether a text, link or number is really the bank's. Public, so
it is rate limited per client address (`service.count_check`, in a transaction of its own first)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from atrium.antiphishing import service
from atrium.antiphishing.schemas import CheckRequest, CheckResult
from atrium.db.runtime import get_db
from atrium.web.deps import ReadOnlySession, client_info

router = APIRouter(prefix="/phishing", tags=["phishing"])


@router.post("/check", response_model=CheckResult, responses={429: {"description": "too many checks"}})
def check(body: CheckRequest, request: Request, response: Response, session: ReadOnlySession) -> CheckResult:
    """Is this really Atrium Bank? Paste an SMS, a link or a phone number (at most 2,000 characters).

    The verdict is `genuine` (a registered domain or number, or a verify code the bank sent — with when,
    to whom (masked) and whether the text is the one sent), `suspicious` (with reasons: a look-alike
    domain, a link shortener, an unregistered number claiming to be the bank, a code the bank never
    issued or a text that differs, wording asking for codes or passwords) or `unknown`. Public.
    """
    ip = client_info(request).ip
    get_db().run(lambda s: service.count_check(s, ip=ip))
    response.headers["Cache-Control"] = "no-store"
    return service.check(session, body.text, locale=body.locale)
