from atrium.kit.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed


class InvalidPasskey(Unauthenticated):
    """Any refused passkey response: unknown credential, wrong origin or RP, a challenge that is unknown,
    used, expired or bound to another action, no user verification, a bad signature, a counter that went
    backwards (a cloned authenticator). The detail says which, for the log and the tests."""

    code = "invalid-passkey"
    title = "The passkey could not be verified"


class PasskeyNotFound(NotFound):
    code = "passkey-not-found"
    title = "No such passkey"


class PasskeyExists(Conflict):
    code = "passkey-exists"
    title = "That passkey is already registered"


class NoPasskey(Conflict):
    code = "no-passkey"
    title = "No passkey is registered"


class TooManyPasskeys(Conflict):
    code = "too-many-passkeys"
    title = "The most passkeys one customer may register is reached"


class InvalidPasskeyName(ValidationFailed):
    code = "invalid-passkey-name"
    title = "Name the passkey (1 to 64 characters)"


class RelyingPartyRefused(Forbidden):
    code = "relying-party-refused"
    title = "Passkeys are not offered at this address"

