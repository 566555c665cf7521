"""Reference data: provinces before/after the 2025 merger, aliases, programs, indicators."""

from __future__ import annotations

from datetime import date

from extractors.catalogue import entities, indicators, programs, rank_program
from extractors.entities import find_mentions, list_item_entity

PROVINCIAL = [e for e in entities() if e.country == "VN" and e.kind in ("province", "city")]


def test_there_are_63_provincial_units_before_and_34_after_the_merger() -> None:
    assert len(PROVINCIAL) == 63
    assert len([e for e in PROVINCIAL if e.valid_to is None]) == 34


def test_iso_codes_are_unique_and_well_formed() -> None:
    codes = [e.iso_code for e in PROVINCIAL]
    assert len(set(codes)) == 63
    assert all(c and c.startswith("VN-") for c in codes)
    assert {"VN-HN", "VN-SG", "VN-DN", "VN-HP", "VN-CT", "VN-57"} <= set(codes)


def test_absorbed_provinces_end_on_the_merger_day_and_point_to_a_surviving_unit() -> None:
    by_name = {e.name: e for e in PROVINCIAL}
    for e in PROVINCIAL:
        if e.merged_into:
            assert e.valid_to == date(2025, 7, 1)
            assert by_name[e.merged_into].valid_to is None
    assert by_name["Binh Duong"].merged_into == "Ho Chi Minh City"


def test_canonical_names_are_ascii() -> None:
    assert all(e.name.isascii() for e in entities())


def test_indicator_rank_programs_are_generated_from_the_indicator_catalogue() -> None:
    codes = {p.code: p for p in programs()}
    for ind in indicators():
        assert codes[rank_program(ind.code)].kind == "indicator_rank"
    assert {
        "icf_smart21",
        "icf_top7",
        "icf_icoty",
        "vn_pci",
        "vn_dti_provincial",
        "vn_par_index",
        "vn_sipas",
        "vn_papi",
    } <= codes.keys()


def test_required_indicators_exist() -> None:
    assert {
        "grdp",
        "grdp_per_capita",
        "grdp_growth",
        "income_per_capita",
        "fdi_registered",
        "fdi_cumulative",
        "fdi_projects",
        "domestic_investment",
        "exports",
        "imports",
        "budget_revenue",
        "industrial_park_count",
        "industrial_park_area",
        "industrial_park_occupancy_rate",
        "population",
        "area",
        "urbanisation_rate",
        "pci_score",
        "dti_score",
    } <= {i.code for i in indicators()}


def test_binh_duong_aliases_resolve_to_binh_duong() -> None:
    for alias in (
        "tỉnh Bình Dương",
        "Binh Duong Smart City",
        "Thành phố thông minh Bình Dương",
        "Vùng thông minh Bình Dương",
        "The New City of Binh Duong",
    ):
        assert [m.name for m in find_mentions(f"Năm nay {alias} tăng trưởng.")] == ["Binh Duong"], alias


def test_ho_chi_minh_city_aliases() -> None:
    for alias in ("TP.HCM", "TPHCM", "Sài Gòn", "HCMC", "Thành phố Hồ Chí Minh"):
        assert [m.name for m in find_mentions(f"Năm nay {alias} tăng trưởng.")] == ["Ho Chi Minh City"], alias


def test_clubs_newspapers_and_lowercase_words_are_not_places() -> None:
    for text in (
        "Becamex Bình Dương thắng",
        "CLB Bình Dương thua",
        "Hà Nội FC thắng",
        "Theo Báo Bình Dương",
        "vì hòa bình thế giới",
        "tư tưởng Hồ Chí Minh",
    ):
        assert find_mentions(text) == [], text


def test_list_items_name_communities_and_their_country() -> None:
    item = list_item_entity("Coral Gables, Florida, USA")
    assert item is not None and (item.name, item.country) == ("Coral Gables", "US")
    learned = list_item_entity("Hsinchu County, Taiwan")
    assert learned is not None and (learned.name, learned.country) == ("Hsinchu County", "TW")
    assert list_item_entity("Kết nối băng thông rộng, lực lượng lao động") is None
