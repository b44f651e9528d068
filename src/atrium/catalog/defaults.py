"""The app shell's built-in bottom tabs: the places that are not services (the home, the "all services"
page, the person's own settings). A tab layout lists these names or service keys; a service key becomes a tab
that opens the service (shown only to viewers who may see that service)."""

from __future__ import annotations

from atrium.catalog.schemas import TabRead

BUILTIN_TABS: dict[str, TabRead] = {
    tab.key: tab
    for tab in (
        TabRead(key="home", href="/", icon="home", label={"zh": "首页", "en": "Home"}),
        TabRead(key="transfer", href="/transfer", icon="transfer", label={"zh": "转账", "en": "Transfer"}),
        TabRead(key="scan", href="/pay/qr", icon="scan", label={"zh": "扫一扫", "en": "Scan"}),
        TabRead(key="services", href="/services", icon="grid", label={"zh": "全部服务", "en": "Services"}),
        TabRead(key="messages", href="/messages", icon="bell", label={"zh": "消息", "en": "Messages"}),
        TabRead(key="me", href="/settings", icon="user", label={"zh": "我的", "en": "Me"}),
    )
}

# Shown when no stored layout matches the viewer (an empty catalogue, an identity kind without a layout).
FALLBACK_TABS = ("home", "services", "me")
MIN_TABS, MAX_TABS = 3, 5
