from __future__ import annotations

from atrium.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed


class ServiceNotFound(NotFound):
    """No such service, or not one the viewer may see (the same answer, so hidden keys cannot be probed)."""

    code = "service-not-found"
    title = "No such service"


class ProposalNotFound(NotFound):
    code = "proposal-not-found"
    title = "No such proposal"


class InvalidRule(ValidationFailed):
    """An audience rule that does not parse; `path` names the bad part (e.g. "audience.all[1].op")."""

    code = "invalid-audience-rule"
    title = "The audience rule is not valid"


class InvalidDefinition(ValidationFailed):
    """A service definition with a bad field; `field` names it."""

    code = "invalid-service-definition"
    title = "The service definition is not valid"


class SelfApproval(Forbidden):
    """Maker-checker: the operator who proposed a change cannot also approve it."""

    code = "self-approval"
    title = "A proposal needs a second operator's approval"


class StaleProposal(Conflict):
    """The service changed after the proposal was written: it would overwrite a change its maker never saw."""

    code = "stale-proposal"
    title = "The service changed since this proposal was made"


class ProposalClosed(Conflict):
    code = "proposal-closed"
    title = "The proposal was already decided"


class ServiceExists(Conflict):
    code = "service-exists"
    title = "A service with that key already exists"
