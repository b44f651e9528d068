"""/api/v1/auth/devices: the customer's bound devices (list, rename, remove) and /auth/device-nonce, the
public sign-in nonce a device signs to prove itself. A customer only ever sees their own devices: another
customer's device id answers 404, as an unknown one does. Removing a device is a sensitive change and needs
a step-up grant (`Atrium-Step-Up` header) for action "device.change" bound to the device id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path

from atrium.identity import sessions, stepup
from atrium.identity.devices import service
from atrium.identity.devices.schemas import DeviceNonceRead, DeviceRead, DeviceRename
from atrium.web.deps import CurrentCustomer, ReadOnlySession, WriteSession

router = APIRouter(prefix="/auth", tags=["devices"])

DeviceId = Annotated[str, Path(min_length=4, max_length=40, pattern=r"^dev_[0-9A-Z]+$")]
STEP_UP_HEADER = "Atrium-Step-Up"


@router.get("/device-nonce", response_model=DeviceNonceRead)
def device_nonce() -> DeviceNonceRead:
    """A fresh nonce for a device to sign at sign-in (public; signed by the server, short-lived, single
    use)."""
    return DeviceNonceRead(nonce=service.login_nonce(), expires_in=service.settings().nonce_ttl_s)


@router.get("/devices", response_model=list[DeviceRead])
def list_devices(customer: CurrentCustomer, session: ReadOnlySession) -> list[DeviceRead]:
    """The customer's bound devices, most recently seen first; `current` marks this session's device."""
    return [
        d.model_copy(update={"current": d.id == customer.device_id})
        for d in service.list_devices(session, customer.id)
    ]


@router.patch("/devices/{device_id}", response_model=DeviceRead)
def rename_device(
    device_id: DeviceId, body: DeviceRename, customer: CurrentCustomer, session: WriteSession
) -> DeviceRead:
    device = service.rename(session, customer_id=customer.id, device_id=device_id, name=body.name)
    return device.model_copy(update={"current": device.id == customer.device_id})


@router.delete("/devices/{device_id}", response_model=DeviceRead)
def revoke_device(
    device_id: DeviceId, customer: CurrentCustomer, session: WriteSession,
    step_up: Annotated[str | None, Header(alias=STEP_UP_HEADER, max_length=2000)] = None,
) -> DeviceRead:
    """Remove a device: it no longer vouches for sign-ins nor signs payments. Needs a step-up."""
    service.get_device(session, customer.id, device_id)  # 404 before asking for a step-up
    stepup.require(session, customer, action="device.change", elements={"device": device_id}, token=step_up)
    device = service.revoke(session, customer_id=customer.id, device_id=device_id)
    sessions.revoke_for_device(session, customer.id, device_id, except_sid=customer.sid)
    return device.model_copy(update={"current": device.id == customer.device_id})
