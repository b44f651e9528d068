"""/api/v1/risk: the decision API's routes (parse → authorise → call the service → render).

POST /risk/decisions is also served by the fast path (`fast.py`) when the app installs it; both call
`decide` and `wire.render_decision`, so they answer alike. A client reads and labels only its own
decisions: another client's decision id is a 404, exactly like an id that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response
from sqlalchemy.orm import Session

from atrium.risk import service as risk
from atrium.risk.channel_clients import ChannelClient
from atrium.risk.endpoints import decider, log
from atrium.risk.endpoints.auth import CurrentChannel, Decider, Labeller, require
from atrium.risk.endpoints.wire import (
    ChannelClientRead,
    DecisionRequest,
    DecisionResponse,
    LabelRequest,
    LabelResponse,
    negotiate,
    render_decision,
    response_of,
)
from atrium.risk.errors import DecisionNotFound
from atrium.risk.schemas import DecisionRead
from atrium.web.deps import ReadOnlySession, WriteSession

router = APIRouter(prefix="/risk", tags=["risk"])
DECISIONS_PATH = "/api/v1/risk/decisions"
LABEL_SOURCE = "chargeback"  # what a channel reports: the network's chargebacks and fraud reports
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language", max_length=200)]
DecisionId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
PROBLEMS = {401: {"description": "No channel key, or an unknown or revoked one"},
            403: {"description": "A person's credential, or a key without this scope or channel"}}


async def decide(client: ChannelClient, body: DecisionRequest) -> DecisionRead:
    """The decision for `body`, decided and committed (or the first one, for a retry)."""
    require(client, "risk:decide", body.channel)
    event = body.event(client)
    read = await decider.screen(event)  # the server's decider process, when it has one
    return read if read is not None else await log.current().screen(event)


@router.post("/decisions", status_code=201, response_model=DecisionResponse,
             responses={**PROBLEMS, 200: {"model": DecisionResponse,
                                          "description": "A retry: the transaction's first decision"},
                        409: {"description": "This transaction id was decided before with other details"}})
async def post_decision(body: DecisionRequest, client: Decider,
                        accept_language: AcceptLanguage = None) -> Response:
    """Decide one transaction of an external channel (a card authorisation): allow, challenge, review or
    deny, with reason codes and texts (Accept-Language: zh or en). The decision is logged before the answer
    is sent. The same (channel, transaction_id) always gets its first decision back (200,
    `Idempotent-Replayed: true`); the same id with other details is a 409. If the engine does not answer
    within the channel's time budget, the channel's fail policy decides (`fallback: true`)."""
    status, payload, headers = render_decision(await decide(client, body), client,
                                               negotiate(accept_language))
    return Response(payload, status_code=status, headers={k.decode(): v.decode() for k, v in headers})


def _own(client: ChannelClient, session: Session, decision_id: str) -> DecisionRead:
    try:
        read = risk.get_decision(session, decision_id)
    except DecisionNotFound:
        read = None
    if read is None or not client.owns(read.subject_ref):
        raise DecisionNotFound(f"no risk decision {decision_id}")
    return read


@router.get("/decisions/{decision_id}", response_model=DecisionResponse, responses=PROBLEMS)
def get_decision(decision_id: DecisionId, client: Decider, session: ReadOnlySession, response: Response,
                 accept_language: AcceptLanguage = None) -> DecisionResponse:
    """One of this client's decisions (another client's, or none: 404)."""
    locale = negotiate(accept_language)
    response.headers["Content-Language"] = locale
    response.headers["Vary"] = "Accept-Language"
    return response_of(_own(client, session, decision_id), client, locale)


@router.post("/labels", status_code=201, response_model=LabelResponse, responses=PROBLEMS)
def post_label(body: LabelRequest, client: Labeller, session: WriteSession) -> LabelResponse:
    """Report what a decided transaction turned out to be: a chargeback or fraud report (`fraud: true`), or
    a dispute resolved as genuine (`fraud: false`). Labels arrive late by nature; the model's next training
    set uses a label only from its arrival on, and the latest label of a decision is its truth."""
    if body.decision_id is not None:
        read = _own(client, session, body.decision_id)
    else:
        assert body.channel is not None and body.transaction_id is not None  # the schema checked it
        found = risk.decision_for_subject(session, body.channel, client.namespace(body.transaction_id))
        if found is None:
            raise DecisionNotFound(f"no {body.channel} decision for transaction {body.transaction_id}")
        read = found
    label = risk.label(session, read.id, body.fraud, LABEL_SOURCE)
    return LabelResponse(id=label.id, decision_id=read.id, fraud=label.fraud, arrived_at=label.arrived_at,
                         transaction_id=client.transaction_id(read.subject_ref))


@router.get("/channel", response_model=ChannelClientRead, responses=PROBLEMS)
async def whoami(client: CurrentChannel) -> ChannelClientRead:
    """Which channel client this key belongs to, and what it may do (a cheap credential check)."""
    return ChannelClientRead(id=client.id, name=client.name, channels=sorted(client.channels),
                             scopes=sorted(client.scopes))
