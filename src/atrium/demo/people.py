"""Names, employers, landlords and cities for demo customers (data, not rules)."""

from __future__ import annotations

import random
from dataclasses import dataclass

# (hanzi, pinyin) — common Chinese surnames and given-name syllables.
SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("罗", "luo"), ("高", "gao"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
]
GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("军", "jun"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"), ("晨", "chen"), ("欣怡", "xinyi"),
    ("子涵", "zihan"), ("浩然", "haoran"), ("雨桐", "yutong"), ("思远", "siyuan"),
]
EMPLOYERS = [
    "华腾科技有限公司", "东方制造集团", "长江物流股份", "明远教育", "蓝海医疗器械", "星辰软件",
    "城市建设投资集团", "瑞丰食品", "金桥贸易", "新禾农业合作社", "远航航空服务", "安和保险代理",
]
LANDLORDS = ["链家租赁 张先生", "自如寓 李女士", "万科泊寓", "房东 陈先生", "房东 刘女士"]
CITIES = ["上海", "北京", "深圳", "杭州", "成都", "武汉", "南京", "西安", "广州", "苏州"]


@dataclass(frozen=True)
class Person:
    index: int
    username: str
    display_name: str
    city: str
    employer: str
    salary_minor: int  # monthly, CNY
    rent_minor: int  # 0 = owns a home
    spend_level: float  # 0.6 (thrifty) .. 1.6 (spends freely)
    has_savings: bool
    has_usd: bool
    locale: str


def make_person(rng: random.Random, index: int) -> Person:
    s_han, s_py = rng.choice(SURNAMES)
    g_han, g_py = rng.choice(GIVEN)
    # Log-normal-ish monthly salary: median ~9,000 CNY, long right tail, floored at 3,500.
    salary = max(3_500, int(rng.lognormvariate(9.1, 0.45)))
    salary_minor = round(salary, -1) * 100
    renter = rng.random() < 0.6
    rent_minor = int(round(salary * rng.uniform(0.2, 0.35), -2)) * 100 if renter else 0
    return Person(
        index=index,
        username=f"{g_py}.{s_py}{index:04d}",
        display_name=s_han + g_han,
        city=rng.choice(CITIES),
        employer=rng.choice(EMPLOYERS),
        salary_minor=salary_minor,
        rent_minor=rent_minor,
        spend_level=rng.uniform(0.6, 1.6),
        has_savings=rng.random() < 0.55,
        has_usd=rng.random() < 0.12,
        locale="en" if rng.random() < 0.1 else "zh",
    )
