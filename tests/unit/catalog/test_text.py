"""Search terms from Korean and English text, and highlighting that stays safe HTML."""

from __future__ import annotations

from dpghub.catalog import text


def test_korean_words_become_bigrams_and_compounds_share_them() -> None:
    assert text.terms("전기차충전소") == ["전기", "기차", "차충", "충전", "전소"]
    assert set(text.terms("충전소")) <= set(text.terms("전기차충전소"))
    assert text.terms("곳") == ["곳"]


def test_query_particles_and_question_words_are_dropped() -> None:
    query = text.parse_query("도서관의 위치를 알려줘")
    assert query.words == ["도서관", "위치"]
    assert query.terms == ["도서", "서관", "위치"]
    # a particle is not cut from a two-syllable word ("회의" stays a meeting)
    assert text.parse_query("회의").words == ["회의"]


def test_english_is_lowercased_stemmed_and_stopwords_dropped() -> None:
    assert text.parse_query("Where are the EV Charging Stations?").terms == [
        "ev", "charging", "station"]
    assert text.stem("libraries") == "library" and text.stem("bus") == "bus"


def test_full_width_and_compatibility_forms_are_normalised() -> None:
    assert text.terms("ＥＶ　충전") == ["ev", "충전"]


def test_highlight_marks_matches_and_escapes_the_rest() -> None:
    query = text.parse_query("도서관")
    marked = text.highlight("<b>전국도서관</b> & 도서", query)
    assert str(marked) == "&lt;b&gt;전국<mark>도서관</mark>&lt;/b&gt; &amp; <mark>도서</mark>"


def test_highlight_cuts_long_text_around_the_first_match() -> None:
    body = "가" * 300 + " 충전소 " + "나" * 300
    marked = str(text.highlight(body, text.parse_query("충전소"), limit=100))
    assert marked.startswith("…") and marked.endswith("…") and "<mark>충전소</mark>" in marked
    assert len(marked) < 140


def test_term_counts_weigh_fields() -> None:
    counts, length = text.term_counts([("도서관", 3.0), ("도서관 위치", 1.0)])
    assert counts["도서"] == 4.0 and counts["위치"] == 1.0 and length == 3 * 2 + 3
