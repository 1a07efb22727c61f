"""The filing forms' field names are the filings' paths: a filing written into its form and
read back is the same filing; blank parts are left out, not sent empty."""

from __future__ import annotations

import pytest

from api.http.console.filing_forms import FILING_MODELS, filing_from, flat, nested
from api.http.schemas import examples
from domain.filings import FilingKind


@pytest.mark.parametrize("kind", list(FilingKind))
def test_a_filing_written_into_its_form_reads_back_the_same(kind: FilingKind) -> None:
    example = examples.FILINGS[kind.value]
    assert filing_from(kind, flat(example)) == FILING_MODELS[kind].model_validate(example)


def test_blank_fields_optional_parts_and_empty_operator_blocks_are_left_out() -> None:
    form = "materials.ic_card_registration_form"
    typed = {
        "company_name": "海南椰风贸易有限公司",
        f"{form}.operator.fax": "",
        f"{form}.customs_declarer.barcode": "",
        f"{form}.customs_permissions": [],
        "operators.0.name": "吴磊",
        "operators.1.media": "ikey",
        "operators.1.id_type": "resident_id",
        "operators.1.name": "",
    }
    assert nested(typed) == {
        "company_name": "海南椰风贸易有限公司",
        "materials": {"ic_card_registration_form": {"customs_permissions": []}},
        "operators": [{"name": "吴磊"}],
    }
