"""The words of a one-time-code text message, per purpose and language. Each says what the code is for and
that nobody — the bank included — will ever ask for it."""

from __future__ import annotations

PURPOSES = ("register", "login", "login-2fa", "step-up", "password-reset")
SUMMARY_MAX = 80

_ZH_WARNING = "请勿将验证码告诉任何人，银行工作人员不会向您索取。"
_EN_WARNING = "Never tell anyone this code; the bank will never ask you for it."

_ZH = {
    "register": "【Atrium】您正在注册 Atrium，验证码 {code}，{minutes}分钟内有效。",
    "login": "【Atrium】您的登录验证码为 {code}，{minutes}分钟内有效。",
    "login-2fa": "【Atrium】您正在登录 Atrium，验证码 {code}，{minutes}分钟内有效。",
    "step-up": "【Atrium】您正在确认“{summary}”，验证码 {code}，{minutes}分钟内有效。",
    "password-reset": "【Atrium】您正在重置登录密码，验证码 {code}，{minutes}分钟内有效。",
}
_EN = {
    "register": "Atrium: {code} is your code to register with Atrium, valid for {minutes} minutes.",
    "login": "Atrium: {code} is your sign-in code, valid for {minutes} minutes.",
    "login-2fa": "Atrium: {code} is your code to finish signing in, valid for {minutes} minutes.",
    "step-up": 'Atrium: {code} is your code to confirm "{summary}", valid for {minutes} minutes.',
    "password-reset": "Atrium: {code} is your code to reset your password, valid for {minutes} minutes.",
}


def clean_summary(summary: str) -> str:
    """One line, bounded: the summary is shown inside a text message."""
    line = " ".join((summary or "").split())
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1] + "…"


def sms_text(purpose: str, *, code: str, summary: str, locale: str, minutes: int) -> str:
    zh = locale == "zh"
    table = _ZH if zh else _EN
    template = table[purpose]
    if purpose == "step-up" and not summary:
        summary = "操作" if zh else "this action"
    text = template.format(code=code, summary=clean_summary(summary), minutes=minutes)
    return text + (_ZH_WARNING if zh else " " + _EN_WARNING)
