"""Command deciders, grouped by aggregate: plain functions `decider(reader, ctx, ...) -> Decision`.

Execute one with `ledger.execute(lambda reader: deciders.change_pin(reader, ctx, card_no))`, or
`ledger.run(deciders.change_pin, ctx, card_no)` when there is no If-Match or idempotency key.
"""

from ledger_store.application.deciders.card_holder import register_card_holder, set_permissions
from ledger_store.application.deciders.enterprise import (
    change_enterprise_info,
    register_enterprise,
    review,
    submit_filing,
)
from ledger_store.application.deciders.erasure import erase_personal_data
from ledger_store.application.deciders.ukey import (
    change_pin,
    deliver_key,
    freeze_key,
    issue_bought_key,
    issue_free_pair,
    mail_free_pair,
    mail_key,
    pre_approve_renewal,
    record_pin_attempt,
    renew_key,
    replace_key,
    report_key_lost,
    request_renewal,
    unfreeze_key,
    unlock_key,
    void_key,
)

__all__ = [
    "change_enterprise_info",
    "change_pin",
    "deliver_key",
    "erase_personal_data",
    "freeze_key",
    "issue_bought_key",
    "issue_free_pair",
    "mail_free_pair",
    "mail_key",
    "pre_approve_renewal",
    "record_pin_attempt",
    "register_card_holder",
    "register_enterprise",
    "renew_key",
    "replace_key",
    "report_key_lost",
    "request_renewal",
    "review",
    "set_permissions",
    "submit_filing",
    "unfreeze_key",
    "unlock_key",
    "void_key",
]
