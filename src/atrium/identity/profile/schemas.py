from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atrium.identity.identities import IdentityRead
from atrium.identity.kyc import CustomerProfile
from atrium.identity.profile.domain import UI_MODES, UiMode

__all__ = [
    "UI_MODES", "CustomerProfile", "DisplayModeRead", "DisplayModeUpdate", "IdentityRead",
    "RegistrationCodeSent", "RegistrationCreate", "RegistrationRead", "RegistrationStart",
    "RegistrationTicket", "RegistrationVerify", "RevealRead", "RevealRequest", "UiMode",
]

KycField = Literal["legal_name", "id_number", "phone", "email", "address"]


class RegistrationStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=5, max_length=32, description="A mainland China mobile number, any common "
                       "format: 13812345678, +86 138 1234 5678")
    locale: Literal["zh", "en"] = "zh"


class RegistrationCodeSent(BaseModel):
    """The same answer whether or not the number is registered (a registered one is told by SMS instead)."""

    sent: bool = True
    expires_in: int = 300
    resend_after: int = 60


class RegistrationVerify(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=5, max_length=32)
    code: str = Field(pattern=r"^[0-9]{6}$")


class RegistrationTicket(BaseModel):
    ticket: str = Field(description="Proof of the phone for POST /auth/registration")
    expires_in: int


class RegistrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: str = Field(min_length=1, max_length=2000)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    legal_name: str = Field(min_length=1, max_length=80)
    id_number: str = Field(min_length=1, max_length=32)
    email: str = Field(min_length=1, max_length=254)
    address: str = Field(min_length=1, max_length=200)
    display_name: str = Field(default="", max_length=40, description="How the app greets you (default: "
                              "the username)")
    locale: Literal["zh", "en"] = "zh"


class RegistrationRead(BaseModel):
    """The new customer, signed in (SMS code + password: level of assurance 2). Their first CNY current
    account is opened by the bank right after registration (it then appears in GET /accounts)."""

    customer_id: str
    identity_id: str
    username: str
    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    loa: int
    acr: str


class RevealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: KycField


class RevealRead(BaseModel):
    field: KycField
    value: str


class DisplayModeRead(BaseModel):
    """The customer's display mode. `chosen` is false while they have never picked one (the app then
    follows the browser's own choice, and "standard" by default)."""

    ui_mode: UiMode
    chosen: bool


class DisplayModeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ui_mode: UiMode
