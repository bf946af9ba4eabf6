"""Fixed lists the registry describes resources with: themes, licences, update frequencies.

Each entry carries its Korean and English label and the EU authority code DCAT-AP expects,
so one choice in a form becomes both a portal label and a standard URI in the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"


@dataclass(frozen=True)
class Term:
    code: str
    ko: str
    en: str
    eu: str = ""      # the EU authority code (data-theme, frequency) or licence URL

    def label(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


THEMES: dict[str, Term] = {t.code: t for t in (
    Term("transport", "교통", "Transport", "TRAN"),
    Term("environment", "환경", "Environment", "ENVI"),
    Term("health", "보건", "Health", "HEAL"),
    Term("safety", "재난안전", "Disaster and safety", "JUST"),
    Term("industry", "산업", "Industry", "ECON"),
    Term("administration", "행정", "Public administration", "GOVE"),
    Term("culture", "문화관광", "Culture and tourism", "EDUC"),
    Term("education", "교육", "Education", "EDUC"),
    Term("land", "국토", "Land and regions", "REGI"),
    Term("welfare", "사회복지", "Social welfare", "SOCI"),
    Term("agriculture", "농축수산", "Agriculture and fisheries", "AGRI"),
    Term("energy", "에너지", "Energy", "ENER"),
    Term("science", "과학기술", "Science and technology", "TECH"),
    Term("finance", "재정금융", "Finance", "ECON"),
    Term("law", "법률", "Law", "JUST"),
)}

# The EU data-theme authority's own English labels (a concept in the export carries them).
EU_THEME_LABELS = {
    "AGRI": "Agriculture, fisheries, forestry and food", "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport", "ENER": "Energy", "ENVI": "Environment",
    "GOVE": "Government and public sector", "HEAL": "Health",
    "JUST": "Justice, legal system and public safety", "REGI": "Regions and cities",
    "SOCI": "Population and society", "TECH": "Science and technology", "TRAN": "Transport",
}

LICENCES: dict[str, Term] = {t.code: t for t in (
    Term("KOGL-1", "공공누리 제1유형 (출처표시)", "KOGL Type 1 (attribution)",
         "https://www.kogl.or.kr/info/licenseType1.do"),
    Term("KOGL-2", "공공누리 제2유형 (출처표시, 상업적 이용금지)",
         "KOGL Type 2 (attribution, non-commercial)",
         "https://www.kogl.or.kr/info/licenseType2.do"),
    Term("KOGL-3", "공공누리 제3유형 (출처표시, 변경금지)", "KOGL Type 3 (attribution, no derivatives)",
         "https://www.kogl.or.kr/info/licenseType3.do"),
    Term("KOGL-4", "공공누리 제4유형 (출처표시, 상업적 이용금지, 변경금지)",
         "KOGL Type 4 (attribution, non-commercial, no derivatives)",
         "https://www.kogl.or.kr/info/licenseType4.do"),
    Term("CC-BY-4.0", "CC BY 4.0", "Creative Commons Attribution 4.0",
         "https://creativecommons.org/licenses/by/4.0/"),
    Term("CC-BY-SA-4.0", "CC BY-SA 4.0", "Creative Commons Attribution-ShareAlike 4.0",
         "https://creativecommons.org/licenses/by-sa/4.0/"),
    Term("CC0-1.0", "CC0 1.0 (퍼블릭 도메인)", "CC0 1.0 (public domain)",
         "https://creativecommons.org/publicdomain/zero/1.0/"),
    Term("ODbL-1.0", "ODbL 1.0", "Open Database License 1.0",
         "https://opendatacommons.org/licenses/odbl/1-0/"),
    Term("proprietary", "이용약관에 따름", "Provider's terms of use", ""),
)}

# What people write in the licence field today, mapped to the list's codes.
LICENCE_ALIASES = {
    "공공누리 제1유형": "KOGL-1", "공공누리 1유형": "KOGL-1", "kogl type 1": "KOGL-1",
    "공공누리 제2유형": "KOGL-2", "공공누리 2유형": "KOGL-2", "kogl type 2": "KOGL-2",
    "공공누리 제3유형": "KOGL-3", "공공누리 3유형": "KOGL-3", "kogl type 3": "KOGL-3",
    "공공누리 제4유형": "KOGL-4", "공공누리 4유형": "KOGL-4", "kogl type 4": "KOGL-4",
    "cc-by": "CC-BY-4.0", "cc by 4.0": "CC-BY-4.0", "cc0": "CC0-1.0", "odbl": "ODbL-1.0",
}


class Frequency(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    annual = "annual"
    irregular = "irregular"
    never = "never"


FREQUENCIES: dict[str, Term] = {t.code: t for t in (
    Term("daily", "매일", "Daily", "DAILY"),
    Term("weekly", "매주", "Weekly", "WEEKLY"),
    Term("monthly", "매월", "Monthly", "MONTHLY"),
    Term("quarterly", "분기", "Quarterly", "QUARTERLY"),
    Term("annual", "매년", "Annually", "ANNUAL"),
    Term("irregular", "수시", "Irregularly", "IRREG"),
    Term("never", "갱신 없음", "Never updated", "NEVER"),
)}


def licence_code(text: str) -> str:
    """The list's code for what was written, or '' when it is none of them."""
    cleaned = " ".join(text.split())
    if not cleaned:
        return ""
    if cleaned in LICENCES:
        return cleaned
    for code in LICENCES:
        if code.lower() == cleaned.lower():
            return code
    return LICENCE_ALIASES.get(cleaned.lower(), "")


def theme_label(code: str, lang: str = "ko") -> str:
    term = THEMES.get(code)
    return term.label(lang) if term else code


def licence_label(code: str, lang: str = "ko") -> str:
    term = LICENCES.get(code)
    return term.label(lang) if term else code


KINDS: dict[str, Term] = {t.code: t for t in (
    Term("dataset", "데이터", "Data"),
    Term("service", "API", "API"),
    Term("faq", "테스트베드 FAQ", "Testbed FAQ"),
)}

ACCESS: dict[str, Term] = {t.code: t for t in (
    Term("open", "공개", "Open"),
    Term("restricted", "승인 후 이용", "On approval"),
    Term("sensitive", "기관 내부", "Owner only"),
    Term("approval", "승인 후 이용", "On approval"),
)}


def label(terms: dict[str, Term], code: str, lang: str = "ko") -> str:
    term = terms.get(code)
    return term.label(lang) if term else code
