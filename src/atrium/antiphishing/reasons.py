"""The words for every reason id of `domain` (Chinese and English), with `{name}` placeholders.

They live beside the rules, not in a web catalogue, because the JSON API answers with them too. Ids are
stable: clients may key on them. A test checks that both languages carry the same ids and placeholders
and that every id the rules produce has words.
"""

from __future__ import annotations

from atrium.antiphishing.domain import Reason

MESSAGES: dict[str, dict[str, str]] = {
    "registered_domain": {
        "zh": "{host} 是本行登记的官方网址（{label}）。",
        "en": "{host} is a registered Atrium Bank address ({label}).",
    },
    "registered_email_domain": {
        "zh": "{host} 是本行登记的官方邮箱域名（{label}）。",
        "en": "{host} is a registered Atrium Bank e-mail domain ({label}).",
    },
    "registered_number": {
        "zh": "{number} 是本行登记的官方号码（{label}）。",
        "en": "{number} is a registered Atrium Bank number ({label}).",
    },
    "registered_sender": {
        "zh": "{number} 是本行登记的短信发送方（{label}）。",
        "en": "{number} is a registered Atrium Bank SMS sender ({label}).",
    },
    "domain_not_registered": {
        "zh": "{host} 不是本行登记的网址，但也未发现它冒充本行。无法确认其安全性。",
        "en": "{host} is not an Atrium Bank address, and it does not imitate one. We cannot vouch for it.",
    },
    "number_not_registered": {
        "zh": "{number} 不是本行登记的号码。",
        "en": "{number} is not a registered Atrium Bank number.",
    },
    "confusable_characters": {
        "zh": "{host} 用形近字符冒充本行网址 {like}。",
        "en": "{host} uses look-alike characters to pass for the bank's address {like}.",
    },
    "lookalike_domain": {
        "zh": "{host} 与本行网址 {like} 只差几个字母，是仿冒网址的常见手法。",
        "en": "{host} is a few letters away from the bank's address {like}: a common phishing trick.",
    },
    "mixed_scripts": {
        "zh": "{host} 混用了拉丁字母与西里尔/希腊字母，看起来像普通英文网址。",
        "en": "{host} mixes Latin letters with Cyrillic or Greek ones that look the same.",
    },
    "brand_in_domain": {
        "zh": "{host} 含有本行名称「{brand}」，但并非本行登记的网址。",
        "en": "{host} carries the bank's name \"{brand}\" but is not a registered Atrium Bank address.",
    },
    "brand_in_subdomain": {
        "zh": "{host} 把本行名称「{brand}」放在别人的域名 {domain} 前面，真正的网站是 {domain}。",
        "en": "{host} puts the bank's name \"{brand}\" before someone else's domain: the site is {domain}.",
    },
    "brand_in_email_name": {
        "zh": "{address} 借用本行名称，但不是本行的邮箱域名。",
        "en": "{address} uses the bank's name but is not an Atrium Bank e-mail domain.",
    },
    "url_shortener": {
        "zh": "{host} 是短链接服务，隐藏了真实网址。本行不会发送短链接。",
        "en": "{host} is a link shortener that hides the real address. The bank never sends short links.",
    },
    "userinfo_disguise": {
        "zh": "链接开头的「{shown}」只是伪装，实际打开的是 {host}。",
        "en": "\"{shown}\" at the start of the link is a disguise: the link really opens {host}.",
    },
    "ip_address_link": {
        "zh": "声称来自本行的消息中出现了数字地址链接 {host}，本行不会这样发送链接。",
        "en": "A message claiming to be the bank links to a bare IP address ({host}); the bank never does.",
    },
    "unregistered_number_claims_bank": {
        "zh": "消息自称来自本行，但 {number} 不是本行登记的号码。",
        "en": "The message claims to be from the bank, but {number} is not a registered Atrium Bank number.",
    },
    "code_issued": {
        "zh": "核验码 {code} 确由本行发出。",
        "en": "The check code {code} was issued by Atrium Bank.",
    },
    "code_not_issued": {
        "zh": "核验码 {code} 并非本行发出，该消息是伪造的。",
        "en": "The check code {code} was never issued by Atrium Bank: the message is forged.",
    },
    "text_matches": {
        "zh": "您粘贴的内容与本行发出的短信完全一致。",
        "en": "The text you pasted is exactly the message the bank sent.",
    },
    "text_not_given": {
        "zh": "只核对了核验码。粘贴完整短信可同时核对内容是否被篡改。",
        "en": "Only the code was checked. Paste the whole message to check its words as well.",
    },
    "text_differs": {
        "zh": "核验码是真的，但内容与本行发出的短信不一致，可能被篡改。",
        "en": "The code is real but the text differs from the message the bank sent: it may be altered.",
    },
    "text_added_link": {
        "zh": "本行原短信中没有链接 {host}。",
        "en": "The bank's message did not contain the link {host}.",
    },
    "text_added_number": {
        "zh": "本行原短信中没有号码 {number}。",
        "en": "The bank's message did not contain the number {number}.",
    },
    "asks_for_secret": {
        "zh": "内容要求您提供验证码、密码或卡号（「{phrase}」）。本行绝不会索要这些信息。",
        "en": "It asks you to hand over a code, password or card number (\"{phrase}\"). The bank never does.",
    },
    "message_authentic": {
        "zh": "这是本行发出的原始短信。",
        "en": "This is the original message sent by Atrium Bank.",
    },
}


def message(reason: Reason, locale: str) -> str:
    """The reason in the locale's words (Chinese for an unknown locale), its parameters filled in."""
    words = MESSAGES[reason.id]
    template = words.get(locale, words["zh"])
    return template.format(**dict(reason.params))
