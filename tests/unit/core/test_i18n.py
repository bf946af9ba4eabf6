from __future__ import annotations

import pytest

from dpghub.core.i18n import pick_language, translate
from dpghub.i18n_extract import messages, missing


def test_every_message_has_a_korean_translation() -> None:
    gaps = missing("ko")
    assert gaps == [], f"run `make messages` and translate: {gaps}"


def test_extraction_finds_templates_errors_and_flashes() -> None:
    found = messages()
    assert "My account" in found                       # a template
    assert "The slug {slug} is already taken" in found  # a service error
    assert "You are signed out." in found               # a flash message
    assert "Only platform operators may do this" in found  # a policy refusal


def test_translate_formats_parameters_in_both_languages() -> None:
    assert translate("The slug {slug} is already taken", "en", slug="mois") == \
        "The slug mois is already taken"
    assert translate("The slug {slug} is already taken", "ko", slug="mois") == \
        "식별자 mois은(는) 이미 사용 중입니다"


@pytest.mark.parametrize(("explicit", "user", "header", "expected"), [
    (None, None, None, "ko"),
    (None, None, "en-US,en;q=0.9", "en"),
    (None, None, "fr-FR, en;q=0.5, ko;q=0.8", "ko"),
    (None, None, "ko;q=0, en;q=0.1", "en"),
    (None, "en", "ko-KR", "en"),
    ("ko", "en", "en", "ko"),
    ("xx", None, "de", "ko"),
])
def test_language_choice(explicit: str | None, user: str | None, header: str | None,
                         expected: str) -> None:
    assert pick_language(explicit=explicit, user_setting=user, accept_language=header,
                         default="ko") == expected
