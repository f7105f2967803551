"""The Ganzhou (Jiangxi) estate, from the city's 2024 reply on compute vouchers.

Every figure stated in the letter carries its section; every figure the letter does
not give (power per cabinet, PUE, electricity price, FLOPS precision, the split of
estate-wide totals over the three clouds) is marked as an assumption with its rationale.
"""

from __future__ import annotations

from capacity.inventory import CabinetProfile, Estate, Reported, Site, Status
from capacity.provenance import Provenance
from capacity.resources import Resource
from capacity.scenario import Assumption, Scenario
from capacity.units import Q_

__all__ = ["LETTER", "SOURCES", "ganzhou"]

#: The source document.
LETTER = (
    "Reply of the Ganzhou Municipal Administrative Approval Bureau to CPPCC proposal "
    "No. 351 (赣市行审提字〔2024〕10号)"
)

#: Sources behind the assumptions and sanity-check bands, by code.
SOURCES: dict[str, str] = {
    "S3": "《财经》 on national compute by precision: hulusaas.com/article?articleId="
          "6808fe42a2c0e443c838aff2",
    "S4": "national average PUE 1.47 (mid-2024): gsdjw.com/news/it/471947.html",
    "S5": "MIIT 2023: new large DCs PUE ≤1.3: modb.pro/db/630401",
    "S6": "NDRC 2021: new large DCs PUE ≤1.3, hubs ≤1.25: 2ltejz.cn/2021/12085650.html",
    "S7": "2024 special action plan, average PUE <1.5 by end-2025: "
          "eraes.com.cn/newsinfo/7415784.html",
    "S9": "standard rack (标准机架) = 2.5 kW: kdwc.cn/xw/195724.shtml",
    "S10": "national green DC listing: PUE ≤1.30, ≥3000 standard racks: "
           "163.com/dy/article/K3RVN14G0518KCLG.html",
    "S11": "Beijing differential electricity price for PUE >1.35 from 2026: "
           "chinastarmarket.cn/detail/1860079",
    "S15": "GB200 NVL72 ~120 kW per rack: introl.com/blog/gb200-nvl72-deployment-72-gpu-"
           "liquid-cooled",
    "S18": "rack power by kind, cooling limits: mynw.cn/news/380822.html",
    "S19": "conventional racks 3-5 kW, AI racks 20-100 kW: kaivps.com/news-3-9252.html",
    "S21": "Bank of China Hohhot design, ~10 servers per cabinet: "
           "beian.lu0.com/news/content/21160.html",
    "S23": "machine-room area per cabinet (GB 50174 style): doczj.com/doc/f314767244.html",
    "S28": "Qingyang policy computes smart compute in FP16: "
           "chacewang.com/newsdetail/news632826.html",
    "S30": "FLOP per cycle per core, AVX2/AVX-512: stackoverflow.com/questions/15655835",
    "S31": "vCPU = one hyper-thread; over-commit 1:2-1:8: 27nk.com/50761.html",
}


def _letter(section: str) -> Provenance:
    return Provenance.source(f"{LETTER}, §{section}")


_CABINETS = 451  # letter §I.2: 104 + 105 + 242

# The letter gives vCPU, storage, compute and floor only for the estate as a whole.
_SPLIT = (
    "the letter gives this only as an estate-wide total; it is split over the three clouds "
    "pro rata by cabinets (one average cabinet profile)"
)


def _cloud_profile() -> CabinetProfile:
    return CabinetProfile(
        name="cloud-general",
        it_power=Q_(5, "kW"),
        floor_area=Q_(5300 / _CABINETS, "m**2"),
        vcpu=Q_(46_000 / _CABINETS, "vCPU"),
        storage=Q_(5600 / _CABINETS, "TB"),
        compute={"fp32": Q_(623 / _CABINETS, "TFLOPS_fp32")},
        kind="general",
        cooling="air",
        provenance={
            "it_power": Provenance.assumption(
                "5 kW IT per cabinet: the letter gives no power; conventional racks draw "
                "3-5 kW (some sources 5-10 kW), taken at the top of the common band",
                "S18, S19"),
            "floor_area": Provenance.derived(
                f"5,300 m² ({LETTER}, §I.2) ÷ 451 cabinets; {_SPLIT}"),
            "vcpu": Provenance.derived(f"46,000 vCPU (§I.2) ÷ 451 cabinets; {_SPLIT}"),
            "storage": Provenance.derived(
                f"5,600 TB (§I.2, written '5600T', read as terabytes) ÷ 451 cabinets; "
                f"{_SPLIT}"),
            "compute": Provenance.assumption(
                "623 TFLOPS (§I.2, precision not stated) read as FP32: national totals of "
                "general compute are quoted on an FP32 basis; 13.5 GFLOPS per vCPU is "
                "plausible for FP32 with over-commit", "S3, S30"),
        },
    )


def _cloud_site(site_id: str, name: str, name_en: str, operator: str,
                cabinets: int) -> Site:
    return Site(
        id=site_id,
        name=name,
        name_en=name_en,
        operator=operator,
        cabinets={"cloud-general": cabinets},
        pue=1.5,
        electricity_price=Q_(0.6, "yuan/kWh"),
        status=Status.OPERATING,
        region="Ganzhou",
        tags=frozenset({"government-cloud", "general"}),
        provenance={
            "cabinets": _letter("I.2"),
            "status": _letter("I.2 (municipal cloud data centres built since 2017)"),
            "pue": Provenance.assumption(
                "PUE 1.5: the letter gives none; government-cloud rooms built from 2017 "
                "sit near the national average (1.47 mid-2024)", "S4, S7"),
            "electricity_price": Provenance.assumption(
                "0.6 yuan/kWh: no published Jiangxi industrial tariff was found; 0.55-0.70 "
                "is the plausible range, so this is a required input to revisit"),
            "grid": Provenance.assumption(
                "grid envelope unknown: the letter gives none, so no power ceiling is "
                "applied beyond the cabinets' own IT power"),
        },
    )


def ganzhou() -> Scenario:
    """The embedded default: Ganzhou's three municipal clouds, as the 2024 letter states.

    Returns
    -------
    Scenario
        451 cabinets over 天翼华为云 (104), 移动浪潮云 (105) and 赣南数据湖 (242); 46,000 vCPU,
        5,600 TB, 623 TFLOPS (FP32, assumed) and 5,300 m² estate-wide, with each figure's
        provenance.
    """
    profile = _cloud_profile()
    sites = (
        _cloud_site("tianyi-huawei", "天翼华为云", "Tianyi (China Telecom) Huawei Cloud",
                    "China Telecom Tianyi Cloud, Huawei", 104),
        _cloud_site("mobile-inspur", "移动浪潮云", "China Mobile Inspur Cloud",
                    "China Mobile, Inspur", 105),
        _cloud_site("gannan-data-lake", "赣南数据湖", "Gannan Data Lake", "", 242),
    )
    reported = {
        Resource.CABINETS: Reported(Q_(451, "cabinet"), _letter("I.2")),
        Resource.FLOOR_AREA: Reported(Q_(5300, "m**2"), _letter("I.2")),
        Resource.VCPU: Reported(Q_(46_000, "vCPU"), _letter("I.2 ('4.6万vCPU核数')")),
        Resource.STORAGE: Reported(Q_(5600, "TB"), _letter("I.2 ('5600T存储能力', T read as TB)")),
        Resource.COMPUTE_FP32: Reported(
            Q_(623, "TFLOPS_fp32"),
            Provenance.source(f"{LETTER}, §I.2 ('通用算力约623T FLOPS'); precision assumed FP32")),
    }
    estate = Estate(sites=sites, profiles={profile.name: profile}, reported=reported,
                    name="Ganzhou municipal clouds")
    notes = (
        Assumption("estate.split", Provenance.assumption(
            "vCPU, storage, compute and floor are estate-wide totals in the letter; they are "
            "split over the three clouds pro rata by cabinets")),
        Assumption("units.storage", Provenance.assumption(
            "the letter's '5600T' is read as 5,600 terabytes (decimal TB)")),
    )
    return Scenario(
        name="ganzhou-baseline",
        estate=estate,
        description="Ganzhou's municipal cloud estate as of the 2024 reply (赣市行审提字〔2024〕"
                    "10号), with the letter's figures and marked assumptions.",
        notes=notes,
    )
