"""The demo customers' identity data: a phone each (sign-in and step-up codes go to the development
outbox at /dev/sms), KYC details that pass the real validators (sealed at rest like a real customer's),
and a company operator identity and a merchant identity for the featured customers, so switching identity
has something to show: the company is made up; the merchant is one of the demo's merchants (`MERCHANT`),
whose settlement account the six months of history have paid into.

Everything is made up: phone numbers in one +86 139 block, resident ID numbers built with the real check
character over real region codes of the demo cities, addresses on invented road names.
"""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy.orm import Session

from atrium.demo.people import Person
from atrium.identity import identities, kyc
from atrium.identity.service import Customer
from atrium.payments.merchants import service as merchants

REGION = {"上海": "310101", "北京": "110101", "深圳": "440305", "杭州": "330106", "成都": "510104",
          "武汉": "420102", "南京": "320102", "西安": "610102", "广州": "440103", "苏州": "320505"}
ROADS = ["梧桐路", "银杏路", "青禾路", "望江路", "云栖路", "海棠路", "长乐路", "和平路"]
COMPANY = ("上海青禾贸易有限公司", "91310000MA1FL0001X", "finance")
MERCHANT = ("社区菜市场", "owner")  # a demo merchant (atrium.demo.merchants) the featured customers run


def phone_of(person: Person) -> str:
    return f"+86139{person.index:08d}"


def id_number_of(person: Person, rng: random.Random) -> str:
    born = date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28))
    first17 = REGION.get(person.city, "310101") + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return first17 + kyc.id_check_character(first17)


def give_kyc(customer: Customer, person: Person) -> None:
    """Seal the person's KYC fields onto the new customer row (validated as registration would)."""
    rng = random.Random(f"kyc:{person.index}")
    data, errors = kyc.validate(
        legal_name=person.display_name, id_number=id_number_of(person, rng),
        email=f"{person.username}@example.com",
        address=f"{person.city}市{rng.choice(ROADS)}{rng.randint(1, 999)}号"
        f"{rng.randint(1, 30)}0{rng.randint(1, 4)}室",
    )
    if errors or data is None:
        raise ValueError(f"demo KYC for {person.username} does not validate: {sorted(errors)}")
    kyc.write(customer, data)


def give_company(session: Session, customer_id: str) -> None:
    name, ref, role = COMPANY
    identities.add_identity(
        session, customer_id=customer_id, kind="company_operator", org_name=name, org_ref=ref, role=role
    )


def give_merchant(session: Session, customer_id: str) -> bool:
    """Let the customer act as the owner of the demo merchant `MERCHANT` (its id is the identity's
    reference). False when the demo has no such merchant (a seed without merchants)."""
    name, role = MERCHANT
    cursor: str | None = None
    while True:
        page = merchants.list_merchants(session, cursor=cursor, limit=100)
        found = next((m for m in page.items if m.name == name), None)
        if found is not None:
            identities.add_identity(session, customer_id=customer_id, kind="merchant", org_name=found.name,
                                    org_ref=found.id, role=role)
            return True
        if page.next_cursor is None:
            return False
        cursor = page.next_cursor
