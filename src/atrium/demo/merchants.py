"""The demo's merchants: where customers spend, with typical ticket sizes per category (CNY minor units)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MerchantSpec:
    name: str
    category: str
    city: str
    low_minor: int
    high_minor: int


MERCHANTS: list[MerchantSpec] = [
    # groceries
    MerchantSpec("盒马鲜生", "groceries", "上海", 3_000, 40_000),
    MerchantSpec("永辉超市", "groceries", "成都", 2_500, 35_000),
    MerchantSpec("华润万家", "groceries", "深圳", 2_000, 30_000),
    MerchantSpec("物美超市", "groceries", "北京", 2_000, 30_000),
    MerchantSpec("社区菜市场", "groceries", "杭州", 800, 8_000),
    # dining
    MerchantSpec("海底捞火锅", "dining", "北京", 15_000, 60_000),
    MerchantSpec("瑞幸咖啡", "dining", "上海", 1_000, 4_000),
    MerchantSpec("喜茶", "dining", "深圳", 1_500, 5_000),
    MerchantSpec("沙县小吃", "dining", "南京", 1_200, 3_500),
    MerchantSpec("外婆家", "dining", "杭州", 6_000, 25_000),
    MerchantSpec("美团外卖", "dining", "全国", 2_000, 9_000),
    # transport
    MerchantSpec("上海地铁", "transport", "上海", 300, 800),
    MerchantSpec("北京公交", "transport", "北京", 200, 600),
    MerchantSpec("滴滴出行", "transport", "全国", 1_200, 8_000),
    MerchantSpec("中国石化加油站", "transport", "全国", 20_000, 45_000),
    MerchantSpec("12306 铁路", "transport", "全国", 8_000, 90_000),
    # utilities and telecom
    MerchantSpec("国家电网", "utilities", "全国", 8_000, 40_000),
    MerchantSpec("自来水公司", "utilities", "全国", 2_000, 9_000),
    MerchantSpec("燃气公司", "utilities", "全国", 3_000, 15_000),
    MerchantSpec("中国移动", "utilities", "全国", 5_800, 19_900),
    # shopping
    MerchantSpec("优衣库", "retail", "上海", 9_900, 60_000),
    MerchantSpec("京东商城", "retail", "全国", 3_000, 150_000),
    MerchantSpec("名创优品", "retail", "广州", 1_000, 8_000),
    MerchantSpec("苏宁易购", "retail", "南京", 20_000, 500_000),
    MerchantSpec("屈臣氏", "retail", "武汉", 2_000, 20_000),
    # health and education
    MerchantSpec("大参林药房", "health", "广州", 1_500, 30_000),
    MerchantSpec("新东方在线", "education", "北京", 50_000, 300_000),
    MerchantSpec("万达影城", "entertainment", "全国", 4_000, 15_000),
]

# Monthly visits per category for an average spender (scaled by the person's spend level).
MONTHLY_VISITS = {
    "groceries": 6, "dining": 7, "transport": 5, "retail": 2, "health": 0.4, "education": 0.1,
    "entertainment": 0.8,
}
UTILITIES = ["国家电网", "自来水公司", "燃气公司", "中国移动"]
