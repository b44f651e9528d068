from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DeviceProof(BaseModel):
    """The device key offered with a sign-in: a bound device proves itself by signing a fresh nonce
    (GET /auth/device-nonce); a new one offers its public key, bound after the second factor."""

    model_config = ConfigDict(extra="forbid")
    device_id: str | None = Field(default=None, max_length=40)
    nonce: str | None = Field(default=None, max_length=600)
    signature: str | None = Field(default=None, max_length=200)
    public_key: str | None = Field(default=None, max_length=400)


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    kind: Literal["customer", "staff"] = "customer"
    device: DeviceProof | None = None


class SessionRead(BaseModel):
    """A sign-in's answer: a session (`status` "signed-in"), or a ticket for the second factor."""

    status: Literal["signed-in", "second-factor-required"] = "signed-in"
    token: str | None = None
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int | None = None
    subject_kind: Literal["customer", "staff"] | None = None
    subject_id: str | None = None
    loa: int | None = None
    acr: str | None = None
    device_id: str | None = None
    ticket: str | None = None
    methods: list[str] | None = None
    phone_masked: str | None = None


class TicketRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: str = Field(min_length=1, max_length=2000)


class SecondFactorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: str = Field(min_length=1, max_length=2000)
    method: Literal["sms", "otp"]
    code: str = Field(pattern=r"^[0-9]{6}$")


class PhoneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164, e.g. +8613812345678")


class SmsLoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")
    code: str = Field(pattern=r"^[0-9]{6}$")
    device: DeviceProof | None = None


class CodeSent(BaseModel):
    sent: bool = True
    expires_in: int | None = None
    resend_after: int | None = None


class StepUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    challenge: str = Field(min_length=1, max_length=4000)


class StepUpCompletion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    challenge: str = Field(min_length=1, max_length=4000)
    method: Literal["sms", "otp", "passkey"]
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    credential: dict[str, Any] | None = None


class StepUpDone(BaseModel):
    completed: bool = True
    action: str
    level: int
    challenge: str = Field(description="Send it back with the action, in the Atrium-Step-Up header")


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    username: str
    display_name: str
    locale: str


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    username: str
    display_name: str
    role: str
