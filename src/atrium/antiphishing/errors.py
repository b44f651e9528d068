from __future__ import annotations

from atrium.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed


class ChannelNotFound(NotFound):
    code = "phishing-channel-not-found"
    title = "No such registered channel"


class InvalidChannel(ValidationFailed):
    """A value that is not a domain, phone number or sender id of the kind given."""

    code = "invalid-phishing-channel"
    title = "The channel is not valid"


class ChannelAlreadyRegistered(Conflict):
    code = "phishing-channel-exists"
    title = "The channel is already registered"


class ChannelAlreadyRetired(Conflict):
    code = "phishing-channel-retired"
    title = "The channel is already retired"


class NotAllowedToManageChannels(Forbidden):
    code = "phishing-forbidden"
    title = "Only operators and administrators manage the bank's registered channels"
