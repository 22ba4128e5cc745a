import pytest

from ingest.registries import canonical, registry_of, trial_ids_in


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("ISRCTN12345678", [("isrctn", "ISRCTN12345678")]),
        ("nct01234567", [("ctgov", "NCT01234567")]),
        ("EudraCT Number: 2005-004244-31", [("euctr", "EUCTR2005-004244-31")]),
        ("EUCTR2005-004244-31-GB", [("euctr", "EUCTR2005-004244-31-GB")]),
        ("ISRCTN12345678 / 2007-004729-16", [("isrctn", "ISRCTN12345678"), ("euctr", "EUCTR2007-004729-16")]),
        ("2023-500123-45-00", [("ctis", "2023-500123-45-00")]),
        ("NL43264.018.13", []),
        ("2016-A00749-42", []),
        ("R01 AR045444", []),
    ],
)
def test_trial_ids_named_in_a_text(text, found):
    assert trial_ids_in(text) == found


def test_a_bare_eudract_number_is_an_eu_register_id():
    assert registry_of("2005-004244-31") == "euctr"
    assert canonical("2005-004244-31") == "EUCTR2005-004244-31"
    assert registry_of("2023-500123-45-00") == "ctis"
