"""How a host name can imitate another: confusable characters, small edits, the bank's name in a foreign
domain. Pure functions over strings; `domain.py` turns their answers into verdicts.

The confusable table is a compact subset of Unicode's UTS #39 confusables: the Cyrillic, Greek and Latin
letters, digits and letter pairs that phishing domains actually use to pass for ASCII names. A host's
*skeleton* maps each of them to the ASCII letter it imitates (after NFKC, lower case, and dropping
accents), so `аtrium.bank` (Cyrillic а) and `atriurn.bank` (r + n for m) both have the skeleton
`atrium.bank`.
"""

from __future__ import annotations

import unicodedata

# One character that looks like one ASCII letter (lower case; accents are dropped separately).
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "ь": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i",
    "ј": "j", "к": "k", "ӏ": "l", "м": "m", "п": "n", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s",
    "т": "t", "у": "y", "ԝ": "w", "х": "x",
    # Greek
    "α": "a", "β": "b", "ϲ": "c", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    # Latin look-alikes and digits
    "ı": "i", "ɩ": "i", "ɑ": "a", "ł": "l", "ǀ": "l", "1": "l", "|": "l", "0": "o", "5": "s", "ß": "b",
    "ɡ": "g",
}
# Letter pairs that read as one letter at a glance.
PAIRS: tuple[tuple[str, str], ...] = (("rn", "m"), ("vv", "w"), ("cl", "d"))

# Scripts whose letters pass for Latin ones: a label mixing Latin with one of them is a spoofing sign
# (browsers show such labels as punycode for the same reason). Latin mixed with Han is ordinary.
_SPOOF_SCRIPTS = ("CYRILLIC", "GREEK")

# Link shorteners hide where a link really goes; a bank does not send them.
SHORTENERS: frozenset[str] = frozenset({
    "bit.ly", "bitly.com", "t.cn", "url.cn", "w.url.cn", "dwz.cn", "tinyurl.com", "goo.gl", "t.co", "is.gd",
    "ow.ly", "suo.im", "suo.nz", "985.so", "rebrand.ly", "cutt.ly", "s.id", "reurl.cc", "t.ly", "shorturl.at",
    "tiny.cc", "rb.gy", "v.gd", "buff.ly", "lnkd.in", "mrw.so", "sohu.gg", "dwz.mk", "u.nu", "x.gd",
})

# Second-level suffixes under which the registrable name is the third label from the right.
_TWO_LEVEL = frozenset({
    "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn", "com.hk", "com.tw", "com.mo", "co.uk",
    "org.uk", "com.au", "co.jp", "co.kr", "com.sg", "com.my", "co.nz", "co.in",
})

# Top-level domains a host written without a scheme must end in to count as a host at all (so "e.g."
# or "report.pdf" are not taken for domains). A link with a scheme may have any top-level domain.
_TLD_WORDS = (
    "com net org cn bank info biz top xyz vip club site online shop store app io co me cc tv ly gl im "
    "us uk hk tw mo jp kr sg ru de fr in au ca nz link click live fun icu work ltd group tech cloud pro "
    "mobi asia loan cyou buzz finance money pay help support services security"
)
_IDN_TLDS = {"中国", "公司", "网络", "在线", "网址", "中文网"}
KNOWN_TLDS: frozenset[str] = frozenset(_TLD_WORDS.split(" ")) | _IDN_TLDS


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def skeleton(text: str) -> str:
    """The ASCII string `text` imitates: NFKC, lower case, confusables mapped, accents and letter pairs
    folded. Two names with the same skeleton look alike to a reader."""
    folded = unicodedata.normalize("NFKC", text).lower()  # not casefold: it spells ß as "ss"
    mapped = "".join(CONFUSABLES.get(c, c) for c in folded)
    out = _strip_accents(mapped)
    for pair, single in PAIRS:
        out = out.replace(pair, single)
    return out


def scripts(label: str) -> set[str]:
    """The scripts of a label's letters, by the first word of their Unicode names (LATIN, CYRILLIC …)."""
    found = set()
    for c in label:
        if c.isalpha():
            name = unicodedata.name(c, "")
            found.add(name.split(" ", 1)[0] if name else "UNKNOWN")
    return found


def mixes_spoofing_scripts(host: str) -> bool:
    """A label mixing Latin letters with Cyrillic or Greek ones (`pаypal`, `atrіum`)."""
    for label in host.split("."):
        found = scripts(label)
        if "LATIN" in found and any(s in found for s in _SPOOF_SCRIPTS):
            return True
    return False


def edit_distance(a: str, b: str, *, cap: int = 3) -> int:
    """Damerau–Levenshtein distance (optimal string alignment: an adjacent swap is one edit), stopping
    early at `cap` (the answer is then `cap`)."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) >= cap:
            return cap
        previous2, previous = previous, current
    return min(previous[-1], cap)


def registrable(host: str) -> str:
    """The name a registrant owns: `login.atrium.bank.evil.com` → `evil.com`, `x.sina.com.cn` →
    `sina.com.cn`. An approximation of the Public Suffix List that knows the common two-level suffixes."""
    labels = host.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def second_level(host: str) -> str:
    """The registrable name's own label (`evil` of `evil.com`, `sina` of `sina.com.cn`)."""
    return registrable(host).split(".")[0]


def subdomain_labels(host: str) -> list[str]:
    reg = registrable(host)
    rest = host[: -len(reg)].rstrip(".")
    return rest.split(".") if rest else []


def is_shortener(host: str) -> bool:
    return host in SHORTENERS or registrable(host) in SHORTENERS


def contains_brand(label: str, brands: tuple[str, ...]) -> str | None:
    """The bank name a label carries, compared by skeleton (`atrium-secure`, `аtrium`, `中庭银行`)."""
    shape = skeleton(label)
    for brand in brands:
        if skeleton(brand) in shape:
            return brand
    return None


def near_brand(label: str, brands: tuple[str, ...]) -> str | None:
    """A label one edit away from a bank name of five letters or more (`atrlum`, `artium`, `atriun`),
    two edits for names of eight or more. Short names are left alone: too many words are that close."""
    shape = skeleton(label)
    parts = {shape, *shape.split("-")}  # "atrlum-secure": each hyphenated word too
    for brand in brands:
        target = skeleton(brand)
        if len(target) < 5 or target in parts:
            continue
        allowed = 2 if len(target) >= 8 else 1
        if any(edit_distance(part, target, cap=allowed + 1) <= allowed for part in parts):
            return brand
    return None
