"""Realistic, valid example payloads for the OpenAPI document (and the docs walkthrough)."""

from __future__ import annotations

import random
from datetime import date, datetime, time
from typing import Any, Final

from api.demo import samples
from domain.filings import FilingKind
from domain.forms import ExpressHandoverForm
from domain.region import HAINAN

USCC: Final = "91460100MA5T4KQX4C"
CUSTOMS_CODE: Final = "4601230917"
RECEIPT_NUMBER: Final = "HZ46012024000917"
COMPANY: Final = "海南椰风贸易有限公司"
LP_CARD: Final = "8800004601000001"
OP_CARD: Final = "8800004601000002"
BOUGHT_CARD: Final = "0730004601000003"
REPLACEMENT_CARD: Final = "0730004601000004"
DAY: Final = date(2025, 3, 3)

_rng = random.Random(20250303)
_filings = samples.filings(_rng, HAINAN, COMPANY, CUSTOMS_CODE, RECEIPT_NUMBER, DAY)
FILINGS: Final[dict[str, dict[str, Any]]] = {
    kind.value: filing.model_dump(mode="json") for kind, filing in _filings.items()
}
_three = _filings[FilingKind.THREE_IN_ONE]
_express = _three.materials.express_handover_form  # type: ignore[union-attr]
assert isinstance(_express, ExpressHandoverForm)  # built by the samples, in plaintext
MAILING: Final = samples.mailing(
    _rng, _express, LP_CARD, OP_CARD, datetime.combine(DAY, time(9))
).model_dump(mode="json")
OPERATOR: Final = samples.operator_holder(_rng).model_dump(mode="json")
DOCUMENTS: Final = samples.ALL_DOCUMENTS.model_dump(mode="json")
