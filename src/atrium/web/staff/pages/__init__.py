"""The console's pages, one module per area; `router` holds them all (every path under /staff)."""

from fastapi import APIRouter

from atrium.web.staff.pages import (
    accounts,
    audit,
    auth,
    catalog,
    catalog_proposals,
    customer_360,
    customer_reveal,
    customers,
    dashboard,
    fallback,
    limits,
    merchants,
    messages,
    messages_notices,
    phishing,
    risk_cases,
    risk_lists,
    risk_models,
    risk_rule_form,
    risk_rules,
    transfers,
    unlock,
)

router = APIRouter()
for area in (
    auth,
    dashboard,
    customers,
    unlock,
    audit,
    limits,
    merchants,
    phishing,
    customer_360,
    customer_reveal,
    accounts,
    transfers,
    messages,
    messages_notices,
    catalog,
    catalog_proposals,
    risk_cases,
    risk_rule_form,  # before risk_rules: /rules/new is not a rule id
    risk_rules,
    risk_lists,
    risk_models,
    fallback,
):  # fallback last
    router.include_router(area.router, include_in_schema=False)
