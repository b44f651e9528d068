"""The bank's channels as shipped, and its names. All fictional: Atrium Bank is a demo bank.

`service.ensure_defaults` writes the channels out once; after that staff own them (a default staff
retired stays retired).
"""

from __future__ import annotations

from typing import NamedTuple


class DefaultChannel(NamedTuple):
    kind: str
    value: str  # as people write it; stored in normal form
    label: str
    include_subdomains: bool = False


DEFAULT_CHANNELS: tuple[DefaultChannel, ...] = (
    DefaultChannel("web", "atrium.bank", "中庭银行官网 · Atrium Bank website", include_subdomains=True),
    DefaultChannel("web", "m.atrium.bank", "手机银行 · Mobile banking"),
    DefaultChannel("email", "atrium.bank", "中庭银行邮件 · Atrium Bank e-mail"),
    DefaultChannel("phone", "400-820-2026", "客服热线 · Customer service line"),
    DefaultChannel("sms", "1069 2026 2026", "短信服务号 · SMS short code"),
)

# The names a message or domain uses to pass for the bank ("Atrium", 中庭银行, its pinyin).
BRAND_NAMES: tuple[str, ...] = ("atrium", "中庭银行", "zhongting")
