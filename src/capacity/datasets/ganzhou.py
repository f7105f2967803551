"""The Ganzhou (Jiangxi) estate, from the city's 2024 reply on compute vouchers.

Every figure stated in the letter carries its section; every figure the letter does
not give (power per cabinet, PUE, electricity price, FLOPS precision, the split of
estate-wide totals over the three clouds) is marked as an assumption with its rationale.
"""

from __future__ import annotations

from capacity.demand import DemandBlock
from capacity.growth import Compound, Logistic, Milestones
from capacity.instruments import DISCOUNT_RATE, DISCOUNT_SOURCE, Elasticity, Market
from capacity.inventory import CabinetProfile, Estate, Reported, Site, Status
from capacity.plan import Plan, Project, Ramp, Slippage
from capacity.provenance import Assumption, Provenance
from capacity.resources import Resource
from capacity.scenario import Scenario
from capacity.units import H100_SXM, Q_, Precision

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
    "S25": "Poyang Lake AI centre, 20 亿元 for 2500 P: idcdaohang.com/news/3984.html",
    "S28": "Qingyang policy computes smart compute in FP16: "
           "chacewang.com/newsdetail/news632826.html",
    "S12": "H100 SXM peaks (FP64 33.5, FP32 66.9, FP16 989.4 TFLOPS): "
           "glennklockwood.com/garden/processors/h100",
    "S13": "Ascend 910B FP16 256-320 TFLOPS: jishuzhan.net/article/1872432607539499010",
    "S16": "Atlas 900 (Ascend) cabinet up to 50 kW, liquid cooled: ctoutiao.com/2304242.html",
    "S17": "Ascend 910B power 310-350 W: blog.youkuaiyun.com/sunyuhua_keyboard/article/"
           "details/155732470",
    "S30": "FLOP per cycle per core, AVX2/AVX-512: stackoverflow.com/questions/15655835",
    "S32": "build time 2-3 years typical in China: pansoanic-chn.com/news/hydt/page_2.html",
    "S33": "hyperscale fast track 12-14 months: chunghaolee.com/posts/data-center-101-11-"
           "construction-commissioning/",
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


_PRICE = Provenance.assumption(
    "0.6 yuan/kWh: no published Jiangxi industrial tariff was found; 0.55-0.70 is the "
    "plausible range, so this is a required input to revisit")


def _base_profile() -> CabinetProfile:
    return CabinetProfile(
        name="base-general",
        it_power=Q_(6, "kW"),
        floor_area=Q_(12, "m**2"),
        vcpu=Q_(1000, "vCPU"),
        storage=Q_(100, "TB"),
        compute={"fp32": Q_(40, "TFLOPS_fp32")},
        kind="general",
        capex=Q_(105, "万元"),
        provenance={
            "it_power": Provenance.assumption(
                "6 kW: a new general-purpose hall, inside the 3-10 kW band", "S18, S19"),
            "vcpu": Provenance.assumption(
                "1,000 vCPU: ~10 dual-socket servers of 96-128 threads per cabinet", "S21, S31"),
            "storage": Provenance.assumption("100 TB per cabinet: a modest storage share"),
            "compute": Provenance.assumption(
                "40 TFLOPS FP32: 1,000 vCPU × 40 GFLOPS (32 FP32 FLOP/cycle × 2.5 GHz ÷ 2 "
                "threads)", "S30"),
            "floor_area": Provenance.assumption("12 m² incl. auxiliary rooms", "S23"),
            "capex": Provenance.derived(
                f"315,000 万元 ÷ 3,000 cabinets ({LETTER}, §I.3); all-in, IT included"),
        },
    )


_AI_FP16 = 130 / 200  # PFLOPS per cabinet implied by the letter's plan (§III.1)


def _smart_profile() -> CabinetProfile:
    fp64 = _AI_FP16 * H100_SXM[Precision.FP16, Precision.FP64].factor
    return CabinetProfile(
        name="smart-ai",
        it_power=Q_(8, "kW"),
        floor_area=Q_(12, "m**2"),
        storage=Q_(50, "TB"),
        compute={"fp16": Q_(_AI_FP16, "PFLOPS_fp16"), "fp64": Q_(fp64, "PFLOPS_fp64")},
        kind="ai",
        cooling="liquid",
        capex=Q_(_AI_FP16 * 80, "万元"),
        provenance={
            "capex": Provenance.assumption(
                "80 万元 per PFLOPS, as the Poyang Lake AI centre (20 亿元 for 2,500 P), "
                "× 0.65 PFLOPS per cabinet", "S25"),
            "compute": Provenance.assumption(
                "0.65 PFLOPS per cabinet = 130 PFLOPS ÷ 200 cabinets (§III.1), read as FP16, "
                "the convention for smart compute; FP64 via the H100 SXM FP64:FP16 ratio "
                "(33.5:989.4) for the supercomputing share", "S2, S12, S28"),
            "it_power": Provenance.assumption(
                "8 kW: 0.65 PF FP16 is about a quarter of an 8-NPU server (~2.4 PF, ~6 kW) "
                "per cabinet plus network and storage: a sparse, phased fit-out", "S13, S17"),
            "storage": Provenance.assumption("50 TB per cabinet of training data storage"),
            "floor_area": Provenance.assumption("12 m² incl. auxiliary rooms", "S23"),
        },
    )


def _dense_profile() -> CabinetProfile:
    return CabinetProfile(
        name="ai-dense-910b",
        it_power=Q_(24, "kW"),
        floor_area=Q_(12, "m**2"),
        compute={"fp16": Q_(4 * 8 * 280, "TFLOPS_fp16")},
        kind="ai",
        cooling="liquid",
        provenance={
            "compute": Provenance.assumption(
                "4 servers × 8 Ascend 910B × 280 TFLOPS FP16 (sources give 256-320)", "S13"),
            "it_power": Provenance.assumption(
                "24 kW: 4 eight-NPU servers at ~6 kW, liquid cooled", "S16, S17"),
        },
    )


def _plan() -> Plan:
    letter_13 = _letter("I.3")
    base = Site(
        id="ic-enablement-base", name="赣州智能网联产业赋能基地",
        name_en="Ganzhou Intelligent Connected Industry Enablement Base",
        operator="Beijing Baidu Netcom; Zhejiang Dirui Information Technology",
        pue=1.3, electricity_price=Q_(0.6, "yuan/kWh"), status=Status.UNDER_CONSTRUCTION,
        region="Ganzhou ETDZ, cross-border e-commerce industrial park, plot B-10, building 8",
        tags=frozenset({"general", "enterprise-cloud"}),
        provenance={
            "name": letter_13,
            "pue": Provenance.assumption(
                "PUE 1.3: the national ceiling for new large data centres", "S5, S6"),
            "electricity_price": _PRICE,
        },
    )
    smart = Site(
        id="smart-computing-centre", name="智算中心（大型绿色数据中心）",
        name_en="Smart-computing centre (large green data centre)",
        operator="city state-owned investment group", pue=1.25,
        electricity_price=Q_(0.6, "yuan/kWh"), status=Status.PLANNED, region="Ganzhou",
        tags=frozenset({"ai", "hpc"}), public=True,
        provenance={
            "name": _letter("III.1"),
            "public": _letter("III.1 (the city state-owned investment group's project)"),
            "pue": Provenance.assumption(
                "PUE 1.25: a green data centre with liquid cooling, at the hub-cluster level",
                "S6, S8"),
            "electricity_price": _PRICE,
        },
    )
    k1 = Site(
        id="k1-plot-dc", name="赣州大数据产业园K1地块数据中心",
        name_en="K1-plot data centre, Ganzhou Big Data Industrial Park", pue=1.3,
        status=Status.ANNOUNCED, region="Ganzhou Big Data Industrial Park",
        provenance={"name": _letter("III.1"), "pue": Provenance.assumption(
            "PUE 1.3: the national ceiling for new large data centres", "S5, S6")},
    )
    projects = (
        Project(
            "ic-enablement-base", site=base.id, cabinets={"base-general": 3000},
            start="2024-06", completion="2025-04", ramp=Ramp.S_CURVE,
            slippage=Slippage(mean=6, sd=4), capex=Q_(315_000, "万元"),
            status=Status.UNDER_CONSTRUCTION,
            provenance={
                "cabinets": _letter("I.3 ('at least 3,000 cabinets'; the minimum is used)"),
                "start": letter_13, "completion": letter_13, "capex": letter_13,
                "ramp": Provenance.assumption(
                    "halls commission progressively: an S-curve from start to completion"),
                "slippage": Provenance.assumption(
                    "mean 6, sd 4 months late: 10 months is fast against the 12-36 months "
                    "typical of Chinese builds", "S32, S33"),
            }),
        Project(
            "smart-computing-centre", site=smart.id, cabinets={"smart-ai": 200},
            start="2025-03", completion="2027-09", ramp=Ramp.LINEAR,
            slippage=Slippage(mean=2, sd=2), status=Status.PLANNED,
            target=Q_(130, "PFLOPS_fp16"), target_by="2027-12",
            provenance={
                "cabinets": _letter("III.1 ('about 200 cabinets' this phase)"),
                "start": _letter("III.1 (construction from March 2025)"),
                "target": Provenance.assumption(
                    "130 PFLOPS by 2027 (§III.1), precision not stated, read as FP16", "S28"),
                "completion": Provenance.assumption(
                    "fit-out planned complete 2027-09 so the 2027 target holds with the "
                    "assumed slippage; the letter gives only 'by 2027'"),
                "ramp": Provenance.assumption("compute installed at an even pace"),
                "slippage": Provenance.assumption("mean 2, sd 2 months late"),
            }),
        Project(
            "k1-plot-dc", site=k1.id, cabinets={}, start="2025-01", completion="2027-12",
            status=Status.ANNOUNCED,
            provenance={
                "cabinets": Provenance.assumption(
                    "size unknown: the letter names the K1-plot data centre (§III.1) without "
                    "a size, so it contributes nothing until one is given"),
                "completion": Provenance.assumption("'bring into use' during 2025-2027"),
            }),
    )
    return Plan(projects=projects, sites=(base, smart, k1))


def _demands() -> tuple[DemandBlock, ...]:
    return (
        DemandBlock(
            "government-cloud", "government-cloud", "vcpu",
            Compound(Q_(27_600, "vCPU"), "2025-01", Q_(12, "%"), rate_sd=Q_(4, "%")),
            per_unit={"storage": Q_(5600 / 46_000, "TB/vCPU")},
            eligible={"government-cloud"},
            provenance={
                "growth": Provenance.assumption(
                    "27,600 vCPU in 2025-01 (60 % of the 46,000 in service) growing 12 %/yr "
                    "(sd 4 %) as all city and county systems move to the cloud (§III.3)"),
                "per_unit": Provenance.assumption("storage per vCPU as in the estate today"),
            }),
        DemandBlock(
            "enterprise-cloud", "enterprise-cloud", "vcpu",
            Logistic(Q_(120_000, "vCPU"), "2027-06", Q_("0.9 / year"),
                     ceiling_sd=Q_(20_000, "vCPU"), midpoint_sd_months=6),
            per_unit={"storage": Q_(0.1, "TB/vCPU")},
            eligible={"general", "enterprise-cloud", "government-cloud"},
            provenance={
                "growth": Provenance.assumption(
                    "enterprises guided to the cloud step by step (§III.3): an S-curve to "
                    "120,000 vCPU (sd 20,000), half-way in mid-2027 (sd 6 months)"),
                "per_unit": Provenance.assumption("0.1 TB per vCPU"),
            }),
        DemandBlock(
            "enterprise-ai", "enterprise-ai", "compute_fp16",
            Milestones([("2025-03", Q_(0, "PFLOPS_fp16")), ("2026-01", Q_(8, "PFLOPS_fp16")),
                        ("2027-12", Q_(40, "PFLOPS_fp16")), ("2030-12", Q_(200, "PFLOPS_fp16"))],
                       rel_sd=0.3, delay_sd_months=3),
            per_unit={"storage": Q_(0.02, "TB/TFLOPS_fp16")},
            eligible={"ai"},
            provenance={
                "growth": Provenance.assumption(
                    "AI demand, today in a few enterprises (§I.3), moves in as the centre "
                    "opens: 8 PFLOPS FP16 by 2026-01, 40 by 2027-12, 200 by 2030-12 (about "
                    "70 %/yr, like national smart compute), ±30 %, up to ~3 months late",
                    "S2, S3"),
                "per_unit": Provenance.assumption("20 TB of storage per PFLOPS FP16"),
            }),
        DemandBlock(
            "research-hpc", "research-hpc", "compute_fp64",
            Milestones([("2025-06", Q_(0, "PFLOPS_fp64")), ("2027-12", Q_(1.5, "PFLOPS_fp64")),
                        ("2030-12", Q_(4, "PFLOPS_fp64"))], rel_sd=0.3, delay_sd_months=6),
            eligible={"hpc"},
            provenance={"growth": Provenance.assumption(
                "universities' and institutes' HPC (§I.3): 1.5 PFLOPS FP64 by 2027-12 and 4 by "
                "2030-12, ±30 %, up to ~6 months late")}),
    )


def _market() -> Market:
    return Market(
        prices={"compute_fp16": Q_(30, "yuan/(PFLOPS_fp16*hour)"),
                "vcpu": Q_(50, "yuan/vCPU/month")},
        elasticity=Elasticity(-0.8, Provenance.assumption(
            "a 10 % cheaper price brings about 8 % more AI demand: compute is a large share "
            "of an AI firm's costs, so demand responds, but less than one for one")),
        enterprises=20,
        load_factor=0.6,
        idle_share=0.5,
        green_share={"smart-computing-centre": 0.8},
        discount_rate=DISCOUNT_RATE,
        provenance={
            "discount_rate": DISCOUNT_SOURCE,
            "prices": Provenance.assumption(
                "list rents of 30 yuan per PFLOPS(FP16)-hour (≈ 30 yuan per H100-hour) and "
                "50 yuan per vCPU-month: plausible 2025 market rents, not from the letter"),
            "enterprises": Provenance.assumption(
                "AI demand is concentrated in a few enterprises (§I.3): 20 claimants"),
            "load_factor": Provenance.assumption(
                "a fully used cabinet draws 60 % of its rated IT power: servers under "
                "production load run well below nameplate"),
            "idle_share": Provenance.assumption(
                "a cabinet in service but idle draws half of what a fully used one does: "
                "'even an energy-efficient server still consumes about half its full power "
                "when doing virtually no work' (Barroso & Hölzle, The Case for "
                "Energy-Proportional Computing, IEEE Computer 40(12), 2007, "
                "doi:10.1109/MC.2007.443); newer servers idle lower, so this errs high"),
            "green_share": Provenance.assumption(
                "the 'large green data centre' (§III.1) buys 80 % green power"),
        },
    )


def ganzhou() -> Scenario:
    """The embedded default: Ganzhou's three municipal clouds, as the 2024 letter states.

    Returns
    -------
    Scenario
        451 cabinets over 天翼华为云 (104), 移动浪潮云 (105) and 赣南数据湖 (242); 46,000 vCPU,
        5,600 TB, 623 TFLOPS (FP32, assumed) and 5,300 m² estate-wide, with each figure's
        provenance; the plan (the enablement base, the smart-computing centre, the K1-plot
        data centre) and a default demand set, every figure the letter lacks an assumption.
    """
    profiles = [_cloud_profile(), _base_profile(), _smart_profile(), _dense_profile()]
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
    estate = Estate(sites=sites, profiles={p.name: p for p in profiles}, reported=reported,
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
        plan=_plan(),
        demands=_demands(),
        market=_market(),
        description="Ganzhou's municipal cloud estate as of the 2024 reply (赣市行审提字〔2024〕"
                    "10号), with the letter's figures and marked assumptions.",
        notes=notes,
    )
