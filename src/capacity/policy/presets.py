"""Subsidy schemes of Chinese cities, as published, each figure with its source.

Figures come from news reposts of the official documents (:data:`SOURCES`). What a
scheme leaves unstated (which demand kinds qualify, a per-firm cap where none is
published) is marked as an assumption with its rationale; a scheme whose rate is not
published is left out (:data:`UNMODELLED` says which, and why).

Examples
--------
>>> from capacity.policy import PRESETS
>>> v = PRESETS["chengdu-2023"]
>>> v.rate, v.annual_budget.to("万元/year")
(0.3, <Quantity(1000.0, '万元 / year')>)
>>> str(v.provenance["rate"]).startswith("source:")
True
"""

from __future__ import annotations

from capacity.instruments import (
    ComputeVoucher,
    ConstructionSubsidy,
    ElectricitySubsidy,
    Instrument,
)
from capacity.provenance import Provenance
from capacity.units import Q_

__all__ = ["PRESETS", "SOURCES", "UNMODELLED"]

#: Where each scheme is published, by code (news reposts of the official documents).
SOURCES: dict[str, str] = {
    "V1": "Chengdu 2023 compute vouchers: fensifuwu.com/economics/"
          "b148c7d25f9395b1daaed85c6f8279eb.html",
    "V2": "Chengdu 2025 compute vouchers: cnlxxl.com/news/202509021021256706.html",
    "V4": "Beijing 2023-25 compute vouchers: m.gkzhan.com/news/detail/162502.html",
    "V5": "Beijing E-Town compute vouchers: ijiwei.com/n/925397",
    "V6": "Shanghai 2025 compute vouchers: henan.baitongwang.com/jinrong/2025/0729/"
          "45568.html",
    "V8": "Shenzhen 训力券: dutenews.com/n/article/8581793",
    "V9": "Hangzhou compute vouchers: bobomg.com/a/hang-zhou-kuo-rong-suan-li-quan-fa-fang-"
          "mei-nian-suan-li-quan-zong-e-ti-sheng-zhi-2-5yi-yuan.html",
    "V10": "Qingyang compute vouchers: gansu.gansudaily.com.cn/system/2024/03/19/"
           "030971885.shtml",
    "V11": "Guizhou compute vouchers (算力券), at most 8,000 万元 a year: m.jrlcb.cn/p/142407.html",
    "V13": "Karamay green-power electricity subsidy for AI centres: evolvenet.net "
           "(Karamay green-power subsidy article)",
    "V16": "Henan 2025 AI-industry measures: compute vouchers of 20 % of the usage fee, at "
           "most 100 万元 per user a year, at most 5,000 万元 a year in all: "
           "gmteight.com/latest/detail/464478",
    "V17": "Guizhou's first compute vouchers, to 72 firms on 2024-02-29 (Xinhua, in 石狮日报 "
           "2024-03-03): 360elib.com:2027/detail.aspx?NewsCode=NC103&NewsId=38125690",
}

#: What is published of schemes not in :data:`PRESETS`, and why each is left out.
UNMODELLED: dict[str, str] = {
    "guizhou-2024": "Guizhou's vouchers (V11, V17) publish an annual ceiling of 8,000 万元 and "
                    "a first batch to 72 firms, but no rate, per-firm cap or contract total "
                    "could be found in a public source; a voucher without a rate would be "
                    "invented, so there is no preset.",
}

_AI = frozenset({"enterprise-ai"})
_KINDS = Provenance.assumption(
    "the scheme subsidises renting AI compute; mapped to the 'enterprise-ai' demand kind")


def _src(code: str, what: str) -> Provenance:
    return Provenance.source(f"{what}; {SOURCES[code]}")


def _voucher(name: str, code: str, *, rate: float, rate_note: str, cap: str | None,
             budget: str | None, kinds: frozenset[str] = _AI,
             kinds_note: Provenance = _KINDS, **extra: object) -> ComputeVoucher:
    prov = {"rate": _src(code, rate_note), "eligible_kinds": kinds_note}
    if budget is not None:
        prov["annual_budget"] = _src(code, f"annual budget {budget}")
    if cap is not None:
        prov["cap_per_enterprise"] = _src(code, f"cap per enterprise {cap}")
    else:
        # No per-firm cap is published: the annual budget is then the only limit.
        prov["cap_per_enterprise"] = Provenance.assumption(
            "no per-firm cap published; the annual budget is the only limit", code)
    return ComputeVoucher(
        name, rate=rate, cap_per_enterprise=Q_(f"({cap or budget}) / year"),
        annual_budget=None if budget is None else Q_(f"({budget}) / year"),
        eligible_kinds=kinds, provenance=prov, **extra)


def _karamay(year: int, amount: str, years: int) -> ElectricitySubsidy:
    return ElectricitySubsidy(
        f"karamay-{year}", amount=Q_(amount), years=years, min_green_share=0.5,
        eligible_tags={"ai"},
        provenance={
            "amount": _src("V13", f"{amount} for AI centres brought online in {year}"),
            "years": _src("V13", f"{years} years for {year} projects"),
            "min_green_share": _src(
                "V13", "at least 50-80 % green power; the lowest threshold is used"),
            "eligible_tags": Provenance.assumption("AI computing centres: sites tagged 'ai'"),
        })


def _presets() -> dict[str, Instrument]:
    out: list[Instrument] = [
        _voucher("chengdu-2023", "V1", rate=0.30,
                 rate_note="30 % for major projects (the first voucher scheme in China)",
                 cap="300 万元", budget="1000 万元",
                 kinds=frozenset({"enterprise-ai", "research-hpc"}),
                 kinds_note=Provenance.assumption(
                     "users of the city's supercomputing and AI centres: AI and HPC demand"),
                 start="2023-01"),
        _voucher("chengdu-2025", "V2", rate=0.60, rate_note="up to 60 %", cap="500 万元",
                 budget="1 亿元", start="2025-01"),
        _voucher("beijing", "V4", rate=0.20,
                 rate_note="up to 20 % for Beijing-registered software or manufacturing "
                 "firms; compute only, contracts of at most a year",
                 cap="200 万元", budget=None, start="2023-01", end="2025-12"),
        _voucher("beijing-etown", "V5", rate=0.30, rate_note="30 %", cap="2000 万元",
                 budget="1 亿元"),
        _voucher("shanghai-2025", "V6", rate=0.30,
                 rate_note="city share up to 30 % (city and district together up to 100 % "
                 "for one year, not modelled)", cap=None, budget="6 亿元", start="2025-01"),
        _voucher("shenzhen", "V8", rate=0.50,
                 rate_note="训力券 up to 50 % (start-ups 60 %, not modelled)",
                 cap="1000 万元", budget="5 亿元"),
        _voucher("hangzhou", "V9", rate=0.30,
                 rate_note="up to 30 % for smart compute (20 % for other compute)",
                 cap="800 万元", budget="2.5 亿元"),
        _voucher("qingyang", "V10", rate=0.30,
                 rate_note="30 %; each voucher valid 12 months, so spend is counted by year",
                 cap="200 万元", budget="1 亿元", min_claim=Q_(5000, "yuan")),
        _voucher("henan-2025", "V16", rate=0.20,
                 rate_note="20 % of the fee for compute from supercomputing centres, AI "
                 "centres above 100 PFLOPS or data centres above 1,000 standard racks",
                 cap="100 万元", budget="5000 万元",
                 kinds=frozenset({"enterprise-ai", "research-hpc"}),
                 kinds_note=Provenance.assumption(
                     "enterprises, research institutes and universities using AI and "
                     "supercomputing centres: AI and HPC demand"), start="2025-09"),
        _karamay(2024, "0.06 yuan/kWh", 3),
        _karamay(2025, "0.05 yuan/kWh", 2),
        ConstructionSubsidy(
            "shanghai-2025-construction", share_of_capex=0.10, eligible_tags={"ai"},
            provenance={
                "share_of_capex": _src(
                    "V6", "up to 10 % construction support for domestic-chip compute"),
                "eligible_tags": Provenance.assumption(
                    "domestic-chip compute facilities: AI sites (sites carry no chip tag)"),
            }),
        ConstructionSubsidy(
            "beijing-etown-servers", share_of_capex=0.10, cap=Q_(1000, "万元"),
            eligible_tags={"ai"},
            provenance={
                "share_of_capex": _src("V5", "10 % of purchases of domestic-chip servers"),
                "cap": _src("V5", "at most 1000 万元"),
                "eligible_tags": Provenance.assumption(
                    "domestic-chip servers: AI sites (sites carry no chip tag); the whole "
                    "project investment stands in for the server purchase"),
            }),
    ]
    return {x.name: x for x in out}


#: The published schemes, keyed by name: vouchers, electricity and construction subsidies.
PRESETS: dict[str, Instrument] = _presets()
