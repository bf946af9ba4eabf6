"""Statistical disclosure control for the safe zone (데이터안심구역): what may leave a query.

`plan.plan_query` checks an analyst's SQL and writes the queries that measure each cell;
`suppress.suppress` hides small and recomputable cells in the answer; `risk.risk_report`
measures k-anonymity of a table; `dp` adds OpenDP noise under a privacy budget.
"""
