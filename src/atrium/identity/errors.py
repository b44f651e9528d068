from atrium.kit.errors import Conflict, Forbidden, Unauthenticated


class InvalidCredentials(Unauthenticated):
    code = "invalid-credentials"
    title = "Wrong username or password"


class SessionExpired(Unauthenticated):
    code = "session-expired"
    title = "The session has ended; sign in again"


class UsernameTaken(Conflict):
    code = "username-taken"
    title = "That username is taken"


class PhoneTaken(Conflict):
    code = "phone-taken"
    title = "That phone number is registered to another customer"


class StepUpRequired(Unauthenticated):
    """The session's assurance is below what the action demands. Carries the challenge (RFC 9470)."""

    code = "step-up-required"
    title = "Confirm this action with a second factor"

    @property
    def headers(self) -> dict[str, str]:
        acr = self.extra.get("acr_values", "")
        return {"WWW-Authenticate": f'Bearer realm="atrium", error="insufficient_user_authentication", '
                                    f'error_description="step-up required", acr_values="{acr}"'}


class StepUpUnavailable(Forbidden):
    code = "second-factor-missing"
    title = "This action needs a second factor, and none is set up"


class ActionRefused(Forbidden):
    """A risk assessor refused a sensitive action (`stepup.RiskOpinion.deny`); `reasons` carries its reason
    codes. No second factor lifts it."""

    code = "action-refused"
    title = "This action was refused for your protection"


class SignInRefused(InvalidCredentials):
    """A sign-in the risk assessor refused (`login.register_sign_in_assessor`). An InvalidCredentials, so
    every sign-in form answers it as it answers a wrong password: a refused attacker learns nothing more."""

    code = "sign-in-refused"
    title = "Sign-in refused"
