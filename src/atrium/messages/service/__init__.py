"""Inbox use cases (`atrium.messages.service`): the one door the edge and other domains use.

- inbox: `send_templated`, `deliver`, `list_messages`, `get_message`, `mark_read`, `mark_all_read`,
  `delete_message`, `unread_count`, `unread_counts`;
- preferences: `get_preferences`, `update_preferences`;
- templates (staff): `ensure_builtin_templates`, `list_templates`, `get_template`, `template_versions`,
  `edit_template`, `restore_version`, `create_template`;
- notices and broadcasts: `publish_notice`, `withdraw_notice`, `list_notices`, `current_notices`,
  `start_marketing`, `list_broadcasts`, `run_broadcast_batch`;
- delivery: `claim`, `deliver_one`, `record_failure`, `delivery_log`;
- push: `push_key`, `subscribe`, `unsubscribe`, `subscriptions`.
"""

from __future__ import annotations

from atrium.messages.service.delivery import Due, claim, deliver_one, delivery_log, due, record_failure
from atrium.messages.service.inbox import (
    delete_message,
    deliver,
    get_message,
    list_messages,
    mark_all_read,
    mark_read,
    send_templated,
    unread_count,
    unread_counts,
)
from atrium.messages.service.notices import (
    current_notices,
    list_broadcasts,
    list_notices,
    open_broadcast_ids,
    publish_notice,
    run_broadcast_batch,
    start_marketing,
    withdraw_notice,
)
from atrium.messages.service.preferences import get_preferences, update_preferences
from atrium.messages.service.push import push_key, subscribe, subscriptions, unsubscribe
from atrium.messages.service.templates import (
    MANAGER_ROLES,
    create_template,
    edit_template,
    ensure_builtin_templates,
    get_template,
    list_templates,
    require_manager,
    restore_version,
    template_versions,
)

__all__ = [
    "MANAGER_ROLES", "Due", "claim", "create_template", "current_notices", "delete_message", "deliver",
    "deliver_one", "delivery_log", "due", "edit_template", "ensure_builtin_templates", "get_message",
    "get_preferences", "get_template", "list_broadcasts", "list_messages", "list_notices", "list_templates",
    "mark_all_read", "mark_read", "open_broadcast_ids", "publish_notice", "push_key", "record_failure",
    "require_manager", "restore_version", "run_broadcast_batch", "send_templated", "start_marketing",
    "subscribe", "subscriptions", "template_versions", "unread_count", "unread_counts", "unsubscribe",
    "update_preferences", "withdraw_notice",
]
