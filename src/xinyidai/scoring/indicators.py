"""The indicator system of the platform rating: what is measured of every enterprise.

Each indicator has a stable reason code and a Chinese and English name, and says what a
missing value means for it (usually: no record of that kind). ``features.py`` computes
them from the records; the rating model is fitted on them by the scorecard toolkit, which
keeps the ones that separate defaulters from the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinyidai.scoring.scorecard.model import CATEGORICAL, MISSING, NUMERIC, ReasonText


@dataclass(frozen=True)
class Indicator:
    """One measured quantity of an enterprise."""

    name: str
    kind: str
    code: str
    zh: str
    en: str
    source: str  # the catalogue category it is computed from, "registry", "graph" or "loans"
    missing_zh: str = "无记录"
    missing_en: str = "no record"

    @property
    def reason(self) -> ReasonText:
        return ReasonText(code=self.code, zh=self.zh, en=self.en)

    @property
    def missing_label(self) -> dict[str, str]:
        return {"zh": self.missing_zh, "en": self.missing_en}


def _i(
    name: str,
    code: str,
    zh: str,
    en: str,
    source: str,
    *,
    kind: str = NUMERIC,
    missing: tuple[str, str] = ("无记录", "no record"),
) -> Indicator:
    return Indicator(name, kind, code, zh, en, source, missing[0], missing[1])


NO_LOAN = ("平台无贷款", "no loan on the platform")

INDICATORS: tuple[Indicator, ...] = (
    # registration
    _i(
        "age_years",
        "AGE",
        "成立年限（年）",
        "Years since establishment",
        "registry",
        missing=("成立日期不详", "date of establishment unknown"),
    ),
    _i(
        "registered_capital",
        "CAPITAL",
        "注册资本（元）",
        "Registered capital (yuan)",
        "registry",
        missing=("注册资本不详", "registered capital unknown"),
    ),
    # tax
    _i(
        "tax_grade",
        "TAX_GRADE",
        "纳税信用等级",
        "Tax credit grade",
        "tax_rating",
        kind=CATEGORICAL,
        missing=("无纳税信用评价", "no tax credit grade"),
    ),
    _i(
        "tax_paid_last_year",
        "TAX_PAID",
        "最近一年纳税额（元）",
        "Tax paid in the latest year (yuan)",
        "tax_payment",
        missing=("无纳税记录", "no tax payment on record"),
    ),
    _i(
        "tax_payment_trend",
        "TAX_TREND",
        "纳税额与上年之比",
        "Tax paid against the year before",
        "tax_payment",
        missing=("无上年纳税记录", "no tax paid the year before"),
    ),
    _i(
        "tax_overdue",
        "TAX_OVERDUE",
        "最近一年欠税金额（元）",
        "Tax overdue in the latest year (yuan)",
        "tax_payment",
    ),
    _i("tax_arrears_notices", "TAX_ARREARS", "欠税公告次数", "Tax arrears notices", "tax_arrears"),
    # social insurance and housing fund
    _i(
        "insured_count",
        "SI_HEADCOUNT",
        "社保参保人数",
        "Employees insured",
        "social_insurance",
        missing=("无社保参保记录", "no social insurance on record"),
    ),
    _i(
        "si_arrears_months",
        "SI_ARREARS",
        "社保欠缴月数",
        "Months of social insurance in arrears",
        "social_insurance",
        missing=("无社保参保记录", "no social insurance on record"),
    ),
    _i(
        "hf_depositors",
        "HF_HEADCOUNT",
        "公积金缴存人数",
        "Employees in the housing fund",
        "housing_fund",
        missing=("无公积金缴存记录", "no housing fund on record"),
    ),
    _i(
        "hf_arrears_months",
        "HF_ARREARS",
        "公积金欠缴月数",
        "Months of housing fund in arrears",
        "housing_fund",
        missing=("无公积金缴存记录", "no housing fund on record"),
    ),
    # penalties
    _i(
        "penalties",
        "PENALTIES",
        "公示期内行政处罚次数",
        "Administrative penalties on record",
        "admin_penalty",
    ),
    _i(
        "penalty_fines",
        "PENALTY_FINES",
        "公示期内罚款合计（元）",
        "Fines on record (yuan)",
        "admin_penalty",
    ),
    _i(
        "penalty_severity",
        "PENALTY_SEVERITY",
        "最重处罚程度（1一般 2较重 3严重）",
        "Most severe penalty (1 minor, 2 serious, 3 grave)",
        "admin_penalty",
    ),
    _i(
        "days_since_penalty",
        "PENALTY_RECENCY",
        "距最近一次处罚天数",
        "Days since the latest penalty",
        "admin_penalty",
        missing=("无处罚记录", "no penalty on record"),
    ),
    # courts and lists
    _i(
        "enforcement_cases",
        "ENFORCEMENT",
        "被执行案件数",
        "Court enforcement cases",
        "court_enforcement",
    ),
    _i(
        "enforcement_open",
        "ENFORCEMENT_OPEN",
        "未结执行案件数",
        "Enforcement cases not closed",
        "court_enforcement",
    ),
    _i(
        "enforcement_amount",
        "ENFORCEMENT_AMOUNT",
        "执行标的合计（元）",
        "Amounts under enforcement (yuan)",
        "court_enforcement",
    ),
    _i(
        "dishonest_listings",
        "DISHONEST",
        "失信被执行人记录数",
        "Listings as a dishonest debtor",
        "dishonest_debtor",
    ),
    _i(
        "blacklisted",
        "BLACKLIST",
        "在列严重失信主体名单及黑名单数",
        "Current serious-dishonesty and black-list entries",
        "serious_dishonesty",
    ),
    _i(
        "abnormal_current",
        "ABNORMAL",
        "在列经营异常名录数",
        "Current abnormal-operation listings",
        "abnormal_operation",
    ),
    _i(
        "abnormal_removed",
        "ABNORMAL_PAST",
        "已移出的经营异常记录数",
        "Abnormal-operation listings since removed",
        "abnormal_operation",
    ),
    # utilities
    _i(
        "utility_arrears_months",
        "UTILITY_ARREARS",
        "水电气欠费月数（最长）",
        "Months of utility bills in arrears (longest)",
        "utility_payment",
        missing=("无水电气缴费记录", "no utility account on record"),
    ),
    _i(
        "utility_arrears_amount",
        "UTILITY_ARREARS_AMOUNT",
        "水电气欠费金额（元）",
        "Utility bills in arrears (yuan)",
        "utility_payment",
    ),
    # innovation, trade, honours
    _i("patents", "PATENTS", "专利数", "Patents", "ip_patent"),
    _i("trademarks", "TRADEMARKS", "注册商标数", "Trademarks", "ip_trademark"),
    _i(
        "procurement_awards",
        "PROCUREMENT",
        "政府采购中标次数",
        "Government procurement awards",
        "gov_procurement",
    ),
    _i(
        "procurement_amount",
        "PROCUREMENT_AMOUNT",
        "政府采购中标金额（元）",
        "Government procurement awarded (yuan)",
        "gov_procurement",
    ),
    _i("honours", "HONOURS", "荣誉及红名单记录数", "Honours and red-list entries", "honour"),
    _i(
        "guarantee_exposure",
        "GUARANTEE_EXPOSURE",
        "对外担保金额与注册资本之比",
        "Guarantees given against registered capital",
        "guarantee",
        missing=("注册资本不详", "registered capital unknown"),
    ),
    _i(
        "customs_grade",
        "CUSTOMS_GRADE",
        "海关信用等级",
        "Customs credit grade",
        "customs_record",
        kind=CATEGORICAL,
        missing=("无海关登记", "not registered with customs"),
    ),
    # association analysis: bad signals of related enterprises (graph.service)
    _i(
        "bad_associates_1",
        "BAD_ASSOCIATES_1",
        "直接关联企业中的失信、被执行或经营异常企业数",
        "Associated enterprises one link away that are dishonest, enforced or abnormal",
        "graph",
    ),
    _i(
        "bad_associates_2",
        "BAD_ASSOCIATES_2",
        "间接（二度）关联企业中的失信、被执行或经营异常企业数",
        "Associated enterprises two links away that are dishonest, enforced or abnormal",
        "graph",
    ),
    # repayment on the platform's own loans (以贷促信: loan_behaviour.py); missing when the
    # enterprise has no loan on the platform
    _i(
        "loans_live",
        "LOANS_LIVE",
        "平台在贷笔数",
        "Live loans on the platform",
        "loans",
        missing=NO_LOAN,
    ),
    _i(
        "loans_outstanding",
        "LOANS_OUTSTANDING",
        "平台贷款余额（元）",
        "Outstanding on the platform's loans (yuan)",
        "loans",
        missing=NO_LOAN,
    ),
    _i(
        "loans_on_time_share",
        "LOANS_ON_TIME",
        "平台贷款按期还款比例",
        "Share of the platform's instalments paid on time",
        "loans",
        missing=("平台贷款尚无到期还款", "no instalment due yet on the platform"),
    ),
    _i(
        "loans_max_days_overdue",
        "LOANS_MAX_OVERDUE",
        "平台贷款最长逾期天数",
        "Longest delay on the platform's loans (days)",
        "loans",
        missing=NO_LOAN,
    ),
    _i(
        "loans_days_overdue_now",
        "LOANS_OVERDUE_NOW",
        "平台贷款当前逾期天数",
        "Days overdue now on the platform's loans",
        "loans",
        missing=NO_LOAN,
    ),
    _i(
        "loans_defaulted",
        "LOANS_DEFAULTED",
        "平台贷款违约笔数",
        "Loans defaulted on the platform",
        "loans",
        missing=NO_LOAN,
    ),
)

BY_NAME = {indicator.name: indicator for indicator in INDICATORS}
NAMES = tuple(indicator.name for indicator in INDICATORS)
CATEGORICAL_NAMES = tuple(i.name for i in INDICATORS if i.kind == CATEGORICAL)


def reasons() -> dict[str, ReasonText]:
    """Reason texts of every indicator, for fitting the rating model."""
    return {indicator.name: indicator.reason for indicator in INDICATORS}


def special_labels() -> dict[str, dict[str, dict[str, str]]]:
    """What a missing value is called for each indicator, for fitting the rating model."""
    return {indicator.name: {MISSING: indicator.missing_label} for indicator in INDICATORS}
