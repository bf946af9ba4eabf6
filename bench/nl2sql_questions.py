"""50 Korean questions over the sample data, each with reference SQL: the set that
`bench/nl2sql.py` measures "Ask the data (NL→SQL)" with.

The tables are the datasets `dpghub init --demo` loads from ../shared/data/kr (src/dpghub/demo.py):

| table | what | rows |
|---|---|---|
| `mcst.libraries` | 전국도서관표준데이터 (시도명, 시군구명, 도서관유형, 열람좌석수, 자료수(도서), …) | 3,517 |
| `me.ev_chargers` | 전국전기차충전소표준데이터, 2020 edition (설치시도명, 급속충전기대수, addresses, …; no 세종 rows) | 6,111 |
| `mois.population` | 주민등록 인구 및 세대현황, 2025년 9월 (행정구역 "서울특별시 종로구 (1111000000)", 총인구수, 세대수, 남자/여자) | 292 |
| `molit.bjd_codes` | 국토교통부 법정동코드 2024-08-05 (법정동코드, 법정동명, 폐지여부 존재/폐지) | 49,859 |
| `mois.admin_codes` | 행정표준코드 법정동 2023-05-01 with abolished codes (시도명 … 동리명, 생성일자, 말소일자) | 46,345 |

What the references assume about the data, as an analyst who knows it would:

- the population file has 시도 rows (code ending in 00000000) and 시군구 rows, and a 시 that has
  구 appears as well as its 구 (수원시 and 수원시 장안구): 시도 totals come from the 시도 rows,
  never from summing 시군구 rows; 출장소 rows (0 people, no 시군구 code) are left out;
  세종 is both a 시도 row and a 시군구 row (3611000000), counted once;
- 시도 names differ between files (강원도 and 강원특별자치도, 전라북도 and 전북특별자치도), so
  per-시도 results group by `sido_code(…)` and show `region_name(code)`, the current name;
- libraries give 시도명 + 시군구명 (`sigungu_code(시도명, 시군구명)`), chargers give addresses
  (`sigungu_code` of the 지번 address, else of the road address);
- Y/N columns of the chargers are in either case (`upper(…)`).

Each question carries: `id`; `question`; `sql`, the reference (DuckDB's dialect with the hub's
region functions, as `POST /api/v1/query` runs it); `expect`, what the answer should look
like; and `order_by`, only where the question asks for an order: the reference's columns (by
position) whose sequence of values the answer's rows must follow — ties may come in any order.
The references do not round ratios and averages: bench/nl2sql.py compares numbers at the
decimals the answer gives (at least one where the reference has decimals), so an answer
rounded to any number of places is the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    sql: str
    expect: str
    order_by: tuple[int, ...] = ()


# Reused fragments: population of each 시도 and of each 시군구, once each.
SIDO_POPULATION = """SELECT sido_code(행정구역) AS code, "2025년09월_총인구수" AS 인구
    FROM mois.population WHERE 행정구역 LIKE '%00000000)'"""
SIGUNGU_POPULATION = """SELECT sigungu_code(행정구역) AS code, "2025년09월_총인구수" AS 인구
    FROM mois.population
    WHERE sigungu_code(행정구역) IS NOT NULL AND 행정구역 NOT LIKE '%00000000)'"""
CHARGER_SIGUNGU = "coalesce(sigungu_code(소재지지번주소), sigungu_code(소재지도로명주소))"

QUESTIONS: list[Question] = [
    # --- the done-when question --------------------------------------------------
    Question(
        "lib-per-100k-by-sigungu",
        "구별 도서관 수와 인구 10만 명당 도서관 수",
        f"""WITH pop AS ({SIGUNGU_POPULATION}),
    lib AS (SELECT sigungu_code(시도명, 시군구명) AS code, count(*) AS n
            FROM mcst.libraries GROUP BY 1)
SELECT region_name(pop.code) AS 시군구, coalesce(lib.n, 0) AS 도서관수,
       coalesce(lib.n, 0) * 100000.0 / pop.인구 AS 인구10만명당_도서관수
FROM pop LEFT JOIN lib USING (code)""",
        "전국 시군구(인구 자료의 264개)마다 한 행: 이름, 도서관 수(없으면 0), 10만 명당 수; "
        "수원시와 그 구들처럼 시와 구가 모두 나오며 도서관은 대개 시에 잡힌다. "
        "'구별'은 시군구 단위로 읽었다(서울만이면 seoul-lib-per-100k).",
    ),
    # --- libraries ---------------------------------------------------------------------------
    Question(
        "lib-total",
        "전국에 도서관이 모두 몇 곳 있나요?",
        "SELECT count(*) AS 도서관수 FROM mcst.libraries",
        "한 행, 한 값: 3517.",
    ),
    Question(
        "lib-by-sido",
        "시도별 도서관 수를 알려줘",
        """SELECT region_name(sido_code(시도명)) AS 시도, count(*) AS 도서관수
FROM mcst.libraries GROUP BY 1""",
        "17개 시도마다 한 행(전라북도와 전북특별자치도는 하나로).",
    ),
    Question(
        "lib-by-type",
        "도서관 유형별로 몇 곳씩 있는지 보여줘",
        "SELECT 도서관유형, count(*) AS 도서관수 FROM mcst.libraries GROUP BY 1",
        "7행: 작은도서관 2102, 공공도서관 1350, …",
    ),
    Question(
        "seoul-lib-top5",
        "서울에서 도서관이 가장 많은 구 다섯 곳은?",
        """SELECT region_name(sigungu_code(시도명, 시군구명)) AS 구, count(*) AS 도서관수
FROM mcst.libraries WHERE sido_code(시도명) = '11'
GROUP BY 1 ORDER BY 2 DESC LIMIT 5""",
        "5행: 은평구 82, 관악구 39, 강서구 36, 노원구 35, 광진구 34.",
    ),
    Question(
        "busan-haeundae-libs",
        "부산 해운대구에 있는 도서관 이름을 모두 알려줘",
        """SELECT 도서관명 FROM mcst.libraries
WHERE sigungu_code(시도명, 시군구명) = '26350'""",
        "해운대구 도서관 이름들, 한 열.",
    ),
    Question(
        "lib-books-top10",
        "소장 도서가 가장 많은 도서관 10곳을 많은 순서대로 보여줘",
        """SELECT 도서관명, "자료수(도서)" AS 도서 FROM mcst.libraries
ORDER BY "자료수(도서)" DESC LIMIT 10""",
        "10행, 자료수(도서) 내림차순: 도서관 이름과 권수.",
        order_by=(1,),
    ),
    Question(
        "public-lib-seats-avg-by-sido",
        "시도별 공공도서관의 평균 열람좌석 수는?",
        """SELECT region_name(sido_code(시도명)) AS 시도, avg(열람좌석수) AS 평균좌석
FROM mcst.libraries WHERE 도서관유형 = '공공도서관' GROUP BY 1""",
        "17행: 시도와 평균 좌석 수.",
    ),
    Question(
        "small-lib-share-top-sido",
        "작은도서관 비중이 가장 높은 시도는 어디야?",
        """SELECT region_name(sido_code(시도명)) AS 시도,
       100.0 * count(*) FILTER (WHERE 도서관유형 = '작은도서관') / count(*) AS 비율
FROM mcst.libraries GROUP BY 1 ORDER BY 비율 DESC LIMIT 1""",
        "한 행: 광주광역시, 약 88.3%.",
    ),
    Question(
        "lib-saturday",
        "토요일에도 문을 여는 도서관은 몇 곳이야?",
        """SELECT count(*) AS 도서관수 FROM mcst.libraries
WHERE 토요일운영시작시각 IS NOT NULL
  AND NOT (토요일운영시작시각 = '00:00:00' AND 토요일운영종료시각 = '00:00:00')""",
        "한 값: 토요일 운영시각이 00:00~00:00(휴관)이 아닌 도서관 수.",
    ),
    Question(
        "lib-by-update-year",
        "도서관 데이터의 기준일자 연도별 건수",
        """SELECT year(데이터기준일자) AS 연도, count(*) AS 건수 FROM mcst.libraries
GROUP BY 1""",
        "연도마다 한 행(2018~2025).",
    ),
    Question(
        "lib-updated-2025",
        "데이터기준일자가 2025년인 도서관은 몇 곳이야?",
        """SELECT count(*) AS 도서관수 FROM mcst.libraries
WHERE 데이터기준일자 >= DATE '2025-01-01' AND 데이터기준일자 < DATE '2026-01-01'""",
        "한 값: 458.",
    ),
    Question(
        "lib-providers",
        "도서관 데이터를 제공한 기관은 몇 곳인가요?",
        "SELECT count(DISTINCT 제공기관명) AS 기관수 FROM mcst.libraries",
        "한 값: 301.",
    ),
    Question(
        "lib-children-name",
        "이름에 '어린이'가 들어간 도서관은 몇 개야?",
        "SELECT count(*) AS 도서관수 FROM mcst.libraries WHERE 도서관명 LIKE '%어린이%'",
        "한 값.",
    ),
    Question(
        "lib-loan-days-common",
        "가장 흔한 대출 가능 일수는 며칠이야?",
        """SELECT 대출가능일수, count(*) AS 도서관수 FROM mcst.libraries
GROUP BY 1 ORDER BY 2 DESC LIMIT 1""",
        "한 행: 14일, 2148곳.",
    ),
    Question(
        "gyeonggi-public-libs-by-city",
        "경기도 시군별 공공도서관 수",
        """SELECT region_name(sigungu_code(시도명, 시군구명)) AS 시군, count(*) AS 공공도서관수
FROM mcst.libraries WHERE sido_code(시도명) = '41' AND 도서관유형 = '공공도서관'
GROUP BY 1""",
        "경기도의 시·군마다 한 행(공공도서관이 있는 곳).",
    ),
    Question(
        "lib-northernmost",
        "가장 북쪽에 있는 도서관은 어디야?",
        "SELECT 도서관명, 위도 FROM mcst.libraries ORDER BY 위도 DESC LIMIT 1",
        "한 행: 위도가 가장 큰 도서관.",
    ),
    Question(
        "public-lib-area-avg-top-sido",
        "공공도서관 평균 건물면적이 가장 넓은 시도 세 곳",
        """SELECT region_name(sido_code(시도명)) AS 시도, avg(건물면적) AS 평균건물면적
FROM mcst.libraries WHERE 도서관유형 = '공공도서관'
GROUP BY 1 ORDER BY 2 DESC LIMIT 3""",
        "3행: 시도와 평균 건물면적(㎡).",
    ),
    Question(
        "sigungu-one-library",
        "도서관이 딱 한 곳뿐인 시군구는 몇 개야?",
        """SELECT count(*) AS 시군구수 FROM (
    SELECT sigungu_code(시도명, 시군구명) AS code FROM mcst.libraries
    WHERE sigungu_code(시도명, 시군구명) IS NOT NULL GROUP BY 1 HAVING count(*) = 1)""",
        "한 값.",
    ),
    # --- EV chargers -------------------------------------------------------------------------
    Question(
        "ev-total",
        "전기차 충전소 데이터에는 충전소가 몇 곳 있어?",
        "SELECT count(*) AS 충전소수 FROM me.ev_chargers",
        "한 값: 6111.",
    ),
    Question(
        "ev-by-sido",
        "시도별 전기차 충전소 수를 많은 순으로 보여줘",
        """SELECT region_name(sido_code(설치시도명)) AS 시도, count(*) AS 충전소수
FROM me.ev_chargers GROUP BY 1 ORDER BY 2 DESC""",
        "16행(세종 없음), 충전소 수 내림차순; 강원도는 강원특별자치도로.",
        order_by=(1,),
    ),
    Question(
        "ev-sido-names",
        "충전소 데이터의 설치시도명에는 어떤 값들이 있어?",
        "SELECT DISTINCT 설치시도명 FROM me.ev_chargers",
        "16개 이름(자료의 표기 그대로: 강원도, 전라북도 …).",
    ),
    Question(
        "ev-fast-chargers-by-sido",
        "시도별 급속충전기 대수 합계",
        """SELECT region_name(sido_code(설치시도명)) AS 시도, sum(급속충전기대수) AS 급속충전기
FROM me.ev_chargers GROUP BY 1""",
        "16행: 시도와 급속충전기 대수 합.",
    ),
    Question(
        "ev-fast-capable",
        "급속 충전이 되는 충전소는 몇 곳이야?",
        "SELECT count(*) AS 충전소수 FROM me.ev_chargers WHERE upper(급속충전가능여부) = 'Y'",
        "한 값(Y와 y 모두).",
    ),
    Question(
        "ev-paid-parking-share",
        "주차료를 받는 충전소의 비율은 몇 퍼센트야?",
        """SELECT 100.0 * count(*) FILTER (WHERE upper(주차료부과여부) = 'Y') / count(*)
       AS 비율 FROM me.ev_chargers""",
        "한 값: 약 21.1(%).",
    ),
    Question(
        "ev-24h",
        "24시간 이용할 수 있는 충전소는 몇 곳이야?",
        """SELECT count(*) AS 충전소수 FROM me.ev_chargers
WHERE 이용가능시작시각 = '00:00:00'
  AND 이용가능종료시각 IN ('00:00:00', '23:59:00', '24:00:00')""",
        "한 값: 00:00부터 23:59·24:00·00:00까지인 충전소.",
    ),
    Question(
        "ev-operators-top5",
        "충전소를 가장 많이 관리하는 업체 5곳",
        """SELECT 관리업체명, count(*) AS 충전소수 FROM me.ev_chargers
WHERE 관리업체명 IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 5""",
        "5행: 업체 이름과 충전소 수(업체명이 빈 행은 빼고).",
    ),
    Question(
        "jeju-fast",
        "제주도에서 급속충전기가 한 대 이상 있는 충전소는 몇 곳?",
        """SELECT count(*) AS 충전소수 FROM me.ev_chargers
WHERE sido_code(설치시도명) = '50' AND 급속충전기대수 >= 1""",
        "한 값.",
    ),
    Question(
        "seoul-ev-by-gu",
        "서울 구별 전기차 충전소 수",
        f"""SELECT region_name({CHARGER_SIGUNGU}) AS 구, count(*) AS 충전소수
FROM me.ev_chargers
WHERE sido_code(설치시도명) = '11' AND {CHARGER_SIGUNGU} IS NOT NULL
GROUP BY 1""",
        "서울 구마다 한 행(주소로 구를 찾은 충전소).",
    ),
    Question(
        "ev-top10-sigungu",
        "충전소가 가장 많은 시군구 10곳",
        f"""SELECT region_name({CHARGER_SIGUNGU}) AS 시군구, count(*) AS 충전소수
FROM me.ev_chargers WHERE {CHARGER_SIGUNGU} IS NOT NULL
GROUP BY 1 ORDER BY 2 DESC LIMIT 10""",
        "10행: 시군구와 충전소 수(주소 기준).",
    ),
    Question(
        "ev-most-fast-top4",
        "급속충전기가 가장 많은 충전소 4곳을 대수가 많은 순서로",
        """SELECT 충전소명, 급속충전기대수 FROM me.ev_chargers
ORDER BY 급속충전기대수 DESC LIMIT 4""",
        "4행, 대수 내림차순: 18, 16, 10, 10(동수인 3·4위는 어느 순서든).",
        order_by=(1,),
    ),
    # --- population --------------------------------------------------------------------------
    Question(
        "pop-total",
        "2025년 9월 기준 전국 주민등록 인구는?",
        f"SELECT sum(인구) AS 총인구 FROM ({SIDO_POPULATION})",
        "한 값: 51,149,546.",
    ),
    Question(
        "pop-top5-sigungu",
        "인구가 가장 많은 시군구 5곳",
        f"""SELECT region_name(code) AS 시군구, 인구 FROM ({SIGUNGU_POPULATION})
ORDER BY 인구 DESC LIMIT 5""",
        "5행: 수원시, 용인시, 고양시, 창원시, 화성시와 인구(시와 그 구가 함께 있는 자료에서 시 단위).",
    ),
    Question(
        "pop-persons-per-household",
        "시도별 세대당 인구는 얼마야?",
        """SELECT region_name(sido_code(행정구역)) AS 시도,
       "2025년09월_총인구수" / "2025년09월_세대수" AS 세대당인구
FROM mois.population WHERE 행정구역 LIKE '%00000000)'""",
        "17행: 시도와 세대당 인구(약 1.8~2.2).",
    ),
    Question(
        "pop-more-women-sido",
        "여자 인구가 남자보다 많은 시도는 어디야?",
        """SELECT region_name(sido_code(행정구역)) AS 시도 FROM mois.population
WHERE "2025년09월_여자 인구수" > "2025년09월_남자 인구수" AND 행정구역 LIKE '%00000000)'""",
        "시도 이름 목록, 한 열.",
    ),
    Question(
        "seoul-smallest-gu",
        "서울에서 인구가 가장 적은 구는?",
        f"""SELECT region_name(code) AS 구, 인구 FROM ({SIGUNGU_POPULATION})
WHERE code LIKE '11%' ORDER BY 인구 LIMIT 1""",
        "한 행: 중구.",
    ),
    Question(
        "small-counties",
        "인구가 3만 명도 안 되는 군은 몇 개야?",
        f"""SELECT count(*) AS 군수 FROM ({SIGUNGU_POPULATION})
WHERE region_name(code) LIKE '%군' AND 인구 < 30000""",
        "한 값.",
    ),
    Question(
        "gyeongbuk-cities-pop",
        "경상북도 시군별 인구를 많은 순서대로",
        f"""SELECT region_name(code) AS 시군, 인구 FROM ({SIGUNGU_POPULATION})
WHERE code LIKE '47%' AND code LIKE '%0' ORDER BY 인구 DESC""",
        "22행, 인구 내림차순(포항시의 남구·북구는 빼고 시 단위).",
        order_by=(1,),
    ),
    # --- population with libraries or chargers ----------------------------------------------
    Question(
        "seoul-lib-per-100k",
        "서울 자치구별 도서관 수와 인구 10만 명당 도서관 수",
        f"""WITH pop AS ({SIGUNGU_POPULATION}),
    lib AS (SELECT sigungu_code(시도명, 시군구명) AS code, count(*) AS n
            FROM mcst.libraries GROUP BY 1)
SELECT region_name(pop.code) AS 구, coalesce(lib.n, 0) AS 도서관수,
       coalesce(lib.n, 0) * 100000.0 / pop.인구 AS 인구10만명당_도서관수
FROM pop LEFT JOIN lib USING (code) WHERE pop.code LIKE '11%'""",
        "25행: 서울의 구, 도서관 수, 10만 명당 수.",
    ),
    Question(
        "lib-per-100k-by-sido",
        "시도별 인구 10만 명당 도서관 수",
        f"""WITH pop AS ({SIDO_POPULATION}),
    lib AS (SELECT sido_code(시도명) AS code, count(*) AS n FROM mcst.libraries GROUP BY 1)
SELECT region_name(code) AS 시도, lib.n * 100000.0 / pop.인구 AS 인구10만명당_도서관수
FROM pop JOIN lib USING (code)""",
        "17행: 시도와 10만 명당 도서관 수.",
    ),
    Question(
        "ev-per-100k-by-sido",
        "시도별 인구 10만 명당 전기차 충전소 수",
        f"""WITH pop AS ({SIDO_POPULATION}),
    ev AS (SELECT sido_code(설치시도명) AS code, count(*) AS n FROM me.ev_chargers GROUP BY 1)
SELECT region_name(code) AS 시도,
       coalesce(ev.n, 0) * 100000.0 / pop.인구 AS 인구10만명당_충전소수
FROM pop LEFT JOIN ev USING (code)""",
        "17행(세종은 충전소 자료가 없어 0).",
    ),
    Question(
        "lib-per-100k-top3-sido",
        "인구 대비 도서관이 가장 많은 시도 세 곳",
        f"""WITH pop AS ({SIDO_POPULATION}),
    lib AS (SELECT sido_code(시도명) AS code, count(*) AS n FROM mcst.libraries GROUP BY 1)
SELECT region_name(code) AS 시도, lib.n * 100000.0 / pop.인구 AS 인구10만명당_도서관수
FROM pop JOIN lib USING (code) ORDER BY 2 DESC LIMIT 3""",
        "3행: 광주광역시 23.33, 울산광역시 13.73, 경상남도 10.15.",
    ),
    Question(
        "seoul-people-per-library-top",
        "서울에서 도서관 한 곳이 맡는 인구가 가장 많은 구는?",
        f"""WITH pop AS ({SIGUNGU_POPULATION}),
    lib AS (SELECT sigungu_code(시도명, 시군구명) AS code, count(*) AS n
            FROM mcst.libraries GROUP BY 1)
SELECT region_name(code) AS 구, pop.인구 / lib.n AS 도서관당인구
FROM pop JOIN lib USING (code) WHERE code LIKE '11%' ORDER BY 2 DESC LIMIT 1""",
        "한 행: 강동구, 도서관 한 곳당 약 83,198명.",
    ),
    Question(
        "lib-and-ev-by-sido",
        "시도별 도서관 수와 전기차 충전소 수를 나란히 보여줘",
        """WITH lib AS (SELECT sido_code(시도명) AS code, count(*) AS n FROM mcst.libraries
             GROUP BY 1),
     ev AS (SELECT sido_code(설치시도명) AS code, count(*) AS n FROM me.ev_chargers GROUP BY 1)
SELECT region_name(code) AS 시도, coalesce(lib.n, 0) AS 도서관수, coalesce(ev.n, 0) AS 충전소수
FROM lib FULL JOIN ev USING (code)""",
        "17행: 시도, 도서관 수, 충전소 수(세종 충전소 0).",
    ),
    # --- district codes ----------------------------------------------------------------------
    Question(
        "bjd-active",
        "현재 존재하는 법정동 코드는 몇 개야?",
        "SELECT count(*) AS 코드수 FROM molit.bjd_codes WHERE 폐지여부 = '존재'",
        "한 값: 20555.",
    ),
    Question(
        "jongno-dongs",
        "서울 종로구에 있는 법정동은 몇 개야?",
        """SELECT count(*) AS 법정동수 FROM molit.bjd_codes
WHERE 폐지여부 = '존재' AND 법정동코드 LIKE '11110%' AND 법정동코드 <> '1111000000'""",
        "한 값: 종로구의 현존 법정동 수.",
    ),
    Question(
        "sigungu-count-by-sido",
        "행정표준코드 기준으로 시도마다 시군구가 몇 개씩 있어?",
        """SELECT region_name(sido_code(시도명)) AS 시도, count(*) AS 시군구수
FROM mois.admin_codes
WHERE 말소일자 IS NULL AND 시군구명 IS NOT NULL AND 읍면동명 IS NULL AND 동리명 IS NULL
GROUP BY 1""",
        "시군구가 있는 시도마다 한 행(세종 제외, 시와 그 구를 모두 센다).",
    ),
    Question(
        "admin-codes-abolished-top-year",
        "법정동 코드가 가장 많이 말소된 해는 언제야?",
        """SELECT year(말소일자) AS 연도, count(*) AS 말소건수 FROM mois.admin_codes
WHERE 말소일자 IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1""",
        "한 행: 1988년, 11967건.",
    ),
    Question(
        "admin-codes-new-since-2020",
        "2020년 이후 새로 생긴 법정동 코드는 몇 개야?",
        """SELECT count(*) AS 코드수 FROM mois.admin_codes
WHERE 생성일자 >= DATE '2020-01-01'""",
        "한 값.",
    ),
    Question(
        "codes-abolished-after-2023",
        "2023년 행정표준코드에서는 살아 있었는데 2024년 국토교통부 법정동코드에서는 폐지된 코드는 몇 개야?",
        """SELECT count(*) AS 코드수 FROM mois.admin_codes a
JOIN molit.bjd_codes b USING (법정동코드)
WHERE a.말소일자 IS NULL AND b.폐지여부 = '폐지'""",
        "한 값: 3517(두 코드표를 법정동코드로 이어 센 수; 대부분 강원·전북의 새 코드 체계와 군위군의 대구 편입).",
    ),
]
