"""QR code images of a payload (segno): inline SVG for screens and PNG for print-outs."""

from __future__ import annotations

import io

import segno


def _code(payload: str) -> segno.QRCode:
    # Level M (15 % recovery) survives a scuffed sticker while keeping a ~300-character payload small.
    return segno.make_qr(payload, error="m")


def svg(payload: str, *, scale: int = 4) -> str:
    return _code(payload).svg_inline(scale=scale)


def png(payload: str, *, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _code(payload).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
