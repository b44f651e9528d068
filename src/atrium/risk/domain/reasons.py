"""Reason codes and their texts: plain and non-revealing for the customer, precise for the analyst.

Invariants:
- A `Reason` is a code plus a few parameters: scores, thresholds, feature names and values, rule keys and
  versions, list entry ids. Never personal data or an entity key — `Reason` refuses free text and long
  digit strings (card or phone numbers) in its parameters.
- Customer texts show no parameter (no score, threshold, rule or list); the one parameter they read is
  the model reason's top feature, which picks the plain sentence ("unlike your usual ones", "a new
  device"). Analyst texts show them all.
- Every code has a text in zh and en; an unknown code falls back to its family's text, then to a generic
  one, so a new rule's reason always reads as something.

Families: `list.<block|allow|watch>.<subject>`, `rule.<key>` (a rule without a catalogued reason),
`behaviour.*` (catalogued reasons rules may use), `model.high_score`, `score.threshold`, `risk.unavailable`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from atrium.kit.errors import ValidationFailed

CODE_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]*(?:[.-][a-z0-9_]+)*")
PARAM_KEY: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Identifiers only (feature names, rule keys, entry ids, outcomes): no spaces, so no names or addresses.
PARAM_TEXT: Final = re.compile(r"[A-Za-z0-9_.:\-]{0,64}")
LONG_DIGITS: Final = re.compile(r"\d{9,}")
# Atrium's own ids (`kit.ids.new_id`: prefix, "_", 26 Crockford base-32 characters). Their time part is often
# nine digits in a row, which is not a card or phone number.
ATRIUM_ID: Final = re.compile(r"[a-z]{2,8}_[0-9A-HJKMNP-TV-Z]{26}")
MAX_PARAMS: Final = 12
LOCALES: Final = ("zh", "en")
ParamValue = str | int | float | bool


_VALID_CODES: set[str] = set()
_VALID_KEYS: set[str] = set()


class InvalidReason(ValidationFailed):
    code = "invalid-reason"
    title = "The reason is not valid"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    params: Mapping[str, ParamValue] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        code = self.code
        if not isinstance(code, str) or code not in _VALID_CODES:  # a few reasons per decision: check once
            if not isinstance(code, str) or len(code) > 100 or not CODE_PATTERN.fullmatch(code):
                raise InvalidReason(f"reason code {code!r} must be dotted lower-case words")
            if len(_VALID_CODES) < 10_000:
                _VALID_CODES.add(code)
        if len(self.params) > MAX_PARAMS:
            raise InvalidReason(f"a reason carries at most {MAX_PARAMS} parameters")
        for key, value in self.params.items():
            if key not in _VALID_KEYS:
                if not isinstance(key, str) or not PARAM_KEY.fullmatch(key):
                    raise InvalidReason(f"reason parameter name {key!r} is not an identifier")
                if len(_VALID_KEYS) < 1_000:
                    _VALID_KEYS.add(key)
            if isinstance(value, str):
                if not PARAM_TEXT.fullmatch(value) or (
                        LONG_DIGITS.search(value) and not ATRIUM_ID.fullmatch(value)):
                    raise InvalidReason(f"reason parameter {key!r} must be an identifier, not personal data")
            elif not isinstance(value, int | float):
                raise InvalidReason(f"reason parameter {key!r} must be a number, a flag or an identifier")
        object.__setattr__(self, "params", dict(self.params))

    @property
    def family(self) -> str:
        return self.code.split(".", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(str(data["code"]), dict(data.get("params") or {}))


def normalise_locale(locale: str | None) -> str:
    return "zh" if (locale or "zh").lower().startswith("zh") else "en"


# --- customer texts (fixed strings per code) ---------------------------------------------------------------

GENERIC: Final = {"zh": "{this}需要额外的安全确认。", "en": "This {thing} needs an extra security check."}
# What the customer is doing, per channel: (en noun, zh "this …" with its measure word). Texts say
# "{thing}" / "{this}" so a sign-in is not called a payment.
THINGS: Final = {
    "transfer": ("transfer", "这笔转账"), "qr": ("payment", "这笔付款"),
    "card": ("card payment", "这笔刷卡交易"), "login": ("sign-in", "这次登录"),
    "device": ("device change", "这次设备变更"),
    "payee": ("new payee", "这次添加收款方"), "api": ("payment", "这笔交易"),
}
DEFAULT_THING: Final = ("payment", "这笔交易")


def _texts(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


CUSTOMER: Final[dict[str, dict[str, str]]] = {
    "behaviour.unusual_amount": _texts(
        "{this}与您平时的习惯不同。",
        "This {thing} is unlike your usual ones.",
    ),
    "behaviour.new_payee": _texts(
        "这是您第一次向该收款方付款。",
        "This is your first payment to this payee.",
    ),
    "behaviour.new_device": _texts(
        "{this}来自一台您之前未使用过的设备。",
        "This {thing} comes from a device you haven't used with us before.",
    ),
    "behaviour.velocity": _texts(
        "短时间内的交易比平时多。",
        "There have been more payments than usual in a short time.",
    ),
    "behaviour.unusual_time": _texts(
        "{this}的时间与您平时的习惯不同。",
        "This {thing} is at an unusual time for you.",
    ),
    "behaviour.unusual_location": _texts(
        "{this}的地点与您平时的习惯不同。",
        "This {thing} comes from an unusual location.",
    ),
    "behaviour.risky_merchant": _texts(
        "我们近期发现该商户存在异常交易。",
        "We have recently seen unusual activity at this merchant.",
    ),
    "behaviour.account_takeover": _texts(
        "您的账户近期有异常的登录或设备变更。",
        "There were unusual sign-ins or device changes on your account recently.",
    ),
    "model.high_score": _texts(
        "{this}与您平时的习惯不同。",
        "This {thing} is unlike your usual ones.",
    ),
    "score.threshold": GENERIC,
    "risk.unavailable": _texts(
        "我们暂时无法完成安全检查，请稍后再试。",
        "We couldn't complete our security check just now. Please try again later.",
    ),
}
FAMILY_CUSTOMER: Final[dict[str, dict[str, str]]] = {
    "list.block": _texts(
        "为保护您的账户安全，{this}无法完成。如有疑问，请联系客服。",
        "For your security, this {thing} can't be completed. Please contact us with any questions.",
    ),
    "list.allow": _texts(
        "{this}已通过安全检查。",
        "This {thing} passed our security checks.",
    ),
    "list.watch": _texts(
        "我们正在对{this}进行额外的安全检查。",
        "We're giving this {thing} an extra security check.",
    ),
    "rule": _texts(
        "{this}触发了我们的一项安全检查。",
        "This {thing} triggered one of our security checks.",
    ),
}

# --- analyst texts ------------------------------------------------------------------------------------------

# (en, zh): indexed by `zh` (a bool) below.
SUBJECTS: Final = {
    "card": ("card", "银行卡"), "account": ("account", "账户"), "device": ("device", "设备"),
    "ip": ("IP address", "IP 地址"), "payee": ("payee", "收款方"), "merchant": ("merchant", "商户"),
    "customer": ("customer", "客户"), "pair": ("payer–payee pair", "付款方–收款方组合"),
    "terminal": ("terminal", "终端"),
}
BEHAVIOURS: Final = {
    "behaviour.unusual_amount": ("unusual amount for the customer", "金额与客户习惯不符"),
    "behaviour.new_payee": ("first payment to this payee", "首次向该收款方付款"),
    "behaviour.new_device": ("new device for the customer", "客户的新设备"),
    "behaviour.velocity": ("high transaction velocity", "交易频率异常"),
    "behaviour.unusual_time": ("unusual time of day", "交易时间异常"),
    "behaviour.unusual_location": ("unusual location or travel speed", "地点或移动速度异常"),
    "behaviour.risky_merchant": ("merchant with recent fraud", "商户近期有欺诈"),
    "behaviour.account_takeover": ("signs of account takeover", "疑似账户被盗用"),
}
LIST_WORDS: Final = {
    "block": ("Block list", "黑名单"), "allow": ("Allow list", "白名单"), "watch": ("Watch list", "观察名单"),
}
OUTCOME_WORDS: Final = {
    "allow": ("allow", "放行"), "challenge": ("challenge", "验证"), "review": ("review", "人工审核"),
    "deny": ("deny", "拒绝"), "score": ("score", "计分"),
}
WINDOW_UNITS: Final = {
    "m": ("minute", "分钟"), "h": ("hour", "小时"), "d": ("day", "天"), "w": ("week", "周"),
}
CAUSES: Final = {"timeout": ("timeout", "超时"), "error": ("engine error", "引擎错误")}
AMOUNT_LABELS: Final = {
    "amount_sum": ("total", "总额"), "amount_mean": ("mean amount", "平均金额"),
    "amount_max": ("largest amount", "最大金额"), "fraud_count": ("fraud cases", "欺诈笔数"),
}


def customer_text(reason: Reason, locale: str = "zh", *, channel: str | None = None) -> str:
    """What the customer reads: plain, and revealing no score, threshold, rule or list. `channel` names
    what they are doing ("this sign-in", "this transfer"); without it, "this payment"."""
    lang = normalise_locale(locale)
    texts = CUSTOMER.get(reason.code)
    if reason.code == "model.high_score" and isinstance(reason.params.get("feature"), str):
        texts = CUSTOMER.get(behaviour_of(str(reason.params["feature"])), texts)
    if texts is None:
        texts = _family_texts(reason.code) or GENERIC
    thing, this = THINGS.get(channel or "", DEFAULT_THING)
    return texts[lang].replace("{thing}", thing).replace("{this}", this)


def analyst_text(reason: Reason, locale: str = "zh") -> str:
    """What the analyst reads: the precise cause, with scores, rule keys, entry ids and feature values."""
    zh = normalise_locale(locale) == "zh"
    p = reason.params
    code = reason.code
    parts = code.split(".")
    if parts[0] == "list" and len(parts) == 3 and parts[1] in LIST_WORDS:
        words = LIST_WORDS[parts[1]][zh]
        subject = _subject(parts[2], zh)
        entry = f" ({'条目' if zh else 'entry'} {p['entry']})" if "entry" in p else ""
        extra = ""
        if parts[1] == "watch" and "weight" in p:
            extra = f"，分数 {_signed(p['weight'])}" if zh else f", {_signed(p['weight'])} to the score"
        if parts[1] == "allow":
            extra = "；规则和模型不提高结果" if zh else "; rules and model do not raise the outcome"
        return f"{words}：{subject}{entry}{extra}" if zh else f"{words} hit: {subject}{entry}{extra}"
    if code == "model.high_score":
        score = _num(p.get("score"))
        head = f"模型分数 {score}" if zh else f"Model score {score}"
        if "feature" in p:
            factor = feature_text(str(p["feature"]), p.get("value"), locale)
            head += f"；主要因素：{factor}" if zh else f"; top factor: {factor}"
        return head
    if code == "score.threshold":
        outcome = _outcome(p.get("outcome"), zh)
        score, threshold = _num(p.get("score")), _num(p.get("threshold"))
        model, rules, watch = _num(p.get("model")), _signed(p.get("rules", 0)), _signed(p.get("watch", 0))
        if zh:
            return (f"综合分数 {score} 达到{outcome}阈值 {threshold}"
                    f"（模型 {model}，规则 {rules}，名单 {watch}）")
        return (f"Combined score {score} reached the {outcome} threshold {threshold} "
                f"(model {model}, rules {rules}, watch {watch})")
    if code == "risk.unavailable":
        policy = _outcome(p.get("policy"), zh)
        cause = str(p.get("cause", "timeout"))
        cause = CAUSES.get(cause, (cause, cause))[zh]
        if zh:
            return f"风控引擎不可用（{cause}），按渠道策略处理：{policy}"
        return f"Risk engine unavailable ({cause}); the channel's fail policy applied: {policy}"
    if parts[0] == "rule":
        detail = _rule_detail({"rule": code.removeprefix("rule."), **p}, zh)
        return f"规则 {detail} 触发" if zh else f"Rule {detail} fired"
    label = BEHAVIOURS[code][zh] if code in BEHAVIOURS else (f"原因 {code}" if zh else f"Reason {code}")
    label = label if zh else label[:1].upper() + label[1:]
    if "rule" in p:
        return f"{label} — {'规则' if zh else 'rule'} {_rule_detail(p, zh)}"
    return label


def text(code: str, locale: str = "zh", params: Mapping[str, ParamValue] | None = None, *,
         audience: str = "customer", channel: str | None = None) -> str:
    """`customer_text` / `analyst_text` from a code and parameters (as stored in the decision log)."""
    reason = Reason(code, dict(params or {}))
    if audience == "analyst":
        return analyst_text(reason, locale)
    return customer_text(reason, locale, channel=channel)


def is_known(code: str) -> bool:
    """Whether `code` has its own texts (a family match counts): the staff console warns otherwise."""
    return code in CUSTOMER or _family_texts(code) is not None


def behaviour_of(feature: str) -> str:
    """The behaviour code a feature speaks to, for the customer's text of a model reason."""
    if "new_for_customer" in feature:
        if feature.startswith("payee"):
            return "behaviour.new_payee"
        if feature.startswith("device"):
            return "behaviour.new_device"
    if "fraud_share" in feature or feature.startswith(("terminal", "merchant")):
        return "behaviour.risky_merchant"
    if feature.startswith("geo") or "distance" in feature or "speed" in feature:
        return "behaviour.unusual_location"
    if "hour" in feature or "night" in feature or "weekend" in feature:
        return "behaviour.unusual_time"
    if "_count_" in feature:
        return "behaviour.velocity"
    return "behaviour.unusual_amount"


# --- feature descriptions (analyst) ---------------------------------------------------------------------

_ENTITY_FEATURE: Final = re.compile(
    r"(?P<entity>[a-z]+)_(?P<what>count|amount_sum|amount_mean|amount_ratio|amount_max|fraud_share|fraud_count)"
    r"_(?P<n>\d+)(?P<unit>[mhdw])"
)


def feature_text(feature: str, value: Any, locale: str = "zh") -> str:
    """A feature and its value in words, e.g. "amount 6.2× the customer's 30-day mean"."""
    zh = normalise_locale(locale) == "zh"
    v = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    shown = "?" if v is None else f"{v:.4g}"
    m = _ENTITY_FEATURE.fullmatch(feature)
    if m and v is not None:
        entity = _subject(m["entity"], zh)
        n = int(m["n"])
        unit_en, unit_zh = WINDOW_UNITS[m["unit"]]
        window = f"{n}{unit_zh}" if zh else f"{n}-{unit_en}"
        span = f"{n}{unit_zh}" if zh else f"{n} {unit_en}{'s' if n != 1 else ''}"
        what = m["what"]
        if what == "amount_ratio":
            return (f"金额为该{entity}{window}均值的 {v:.1f} 倍" if zh
                    else f"amount {v:.1f}× the {entity}'s {window} mean")
        if what == "count":
            if zh:
                return f"该{entity}{span}内 {v:g} 笔交易"
            return f"{v:g} transactions of the {entity} in {span}"
        if what == "fraud_share":
            return (f"该{entity}{window}欺诈占比 {v:.1%}" if zh
                    else f"{v:.1%} of the {entity}'s {window} transactions were fraud")
        label = AMOUNT_LABELS[what][zh]
        return f"该{entity}{window}{label} {v:,.2f}" if zh else f"the {entity}'s {window} {label} {v:,.2f}"
    if feature.endswith("_new_for_customer"):
        subject = _subject(feature.removesuffix("_new_for_customer"), zh)
        new = bool(v)
        if zh:
            return f"客户{'首次使用该' if new else '已用过该'}{subject}"
        return f"{'new' if new else 'known'} {subject} for the customer"
    if feature == "amount" and v is not None:
        return f"金额 {v:,.2f}" if zh else f"amount {v:,.2f}"
    if feature == "hour_of_day":
        return f"交易时段 {shown} 时" if zh else f"hour of day {shown}"
    if feature == "is_night":
        return ("夜间交易" if v else "日间交易") if zh else ("night-time" if v else "daytime")
    if feature == "geo_speed_kmh" and v is not None:
        if zh:
            return f"与上笔交易间的移动速度 {v:,.0f} km/h"
        return f"travel speed {v:,.0f} km/h since the previous event"
    return f"{feature} = {shown}"


def _family_texts(code: str) -> dict[str, str] | None:
    parts = code.split(".")
    if len(parts) >= 2 and f"{parts[0]}.{parts[1]}" in FAMILY_CUSTOMER:
        return FAMILY_CUSTOMER[f"{parts[0]}.{parts[1]}"]
    return FAMILY_CUSTOMER.get(parts[0]) if len(parts) >= 2 else None


def _outcome(value: Any, zh: bool) -> str:
    return OUTCOME_WORDS.get(str(value), (str(value),) * 2)[zh]


def _subject(kind: str, zh: bool) -> str:
    return SUBJECTS.get(kind, (kind, kind))[zh]


def _num(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else "?"


def _signed(value: Any) -> str:
    return f"{value:+.2f}" if isinstance(value, int | float) else "?"


def _rule_detail(p: Mapping[str, Any], zh: bool) -> str:
    """"high_amount v3 (review, weight +0.30)"."""
    bits = []
    if p.get("action"):
        bits.append(_outcome(p["action"], zh))
    if "weight" in p:
        bits.append(f"{'权重' if zh else 'weight'} {_signed(p['weight'])}")
    version = f" v{p['version']}" if "version" in p else ""
    detail = f" ({', '.join(bits)})" if bits else ""
    return f"{p.get('rule', '?')}{version}{detail}"
