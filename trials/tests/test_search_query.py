from trials.search.query import Clause, Terms, expand_synonyms, parse_query
from trials.search.text import cjk_bigrams, facet_values


def test_words_phrases_or_and_exclusions_are_read_as_clauses():
    query = parse_query('"stem cell" OR msc femoral -alport -"nephrotic syndrome"')
    assert query.clauses == (
        Clause((Terms(("stem", "cell"), phrase=True), Terms(("msc",)))),
        Clause((Terms(("femoral",)),)),
        Clause((Terms(("alport",)),), excluded=True),
        Clause((Terms(("nephrotic", "syndrome"), phrase=True),), excluded=True),
    )


def test_an_unclosed_quote_runs_to_the_end_and_stray_operators_are_dropped():
    assert parse_query('"femoral head').clauses == (Clause((Terms(("femoral", "head"), phrase=True),)),)
    assert parse_query("OR - x OR").clauses == (Clause((Terms(("x",)),)),)


def test_a_registry_id_is_recognised_in_any_case():
    assert parse_query("nct06731192").registry_id == "nct06731192"
    assert parse_query("ChiCTR-IOR-17012345").registry_id == "ChiCTR-IOR-17012345"
    assert parse_query("CTRI/2020/03/024059").registry_id == "CTRI/2020/03/024059"
    assert parse_query("covid19 vaccine").registry_id == ""


def test_a_synonym_term_typed_as_words_becomes_one_clause_of_all_its_terms():
    groups = [["osteonecrosis of the femoral head", "avascular necrosis of the femur head", "股骨头坏死"]]
    query = expand_synonyms(parse_query("osteonecrosis of the femoral head stem cells"), groups)
    assert query.clauses[0] == Clause(
        (
            Terms(("osteonecrosis", "femoral", "head")),
            Terms(("avascular", "necrosis", "femur", "head")),
            Terms(("股骨头坏死",)),
        )
    )
    assert query.clauses[1:] == (Clause((Terms(("stem",)),)), Clause((Terms(("cells",)),)))


def test_words_that_only_start_a_synonym_term_are_left_alone():
    groups = [["osteonecrosis of the femoral head", "femoral head necrosis"]]
    assert expand_synonyms(parse_query("femoral head"), groups) == parse_query("femoral head")


def test_cjk_text_is_indexed_as_overlapping_character_pairs():
    assert cjk_bigrams("3D打印股骨头 hip") == "3D 打印 印股 股骨 骨头  hip"
    assert cjk_bigrams("肝") == " 肝 "


def test_facet_values_come_once_each_from_the_trial_and_its_children(seed_bytes):
    from ingest.detect import parse

    [record] = parse(seed_bytes("NCT06379243"))
    values = facet_values(record)
    assert ("registry", "ctgov") in values
    assert ("status", "RECRUITING") in values
    assert values.count(("country", "China")) == 1
    assert len(values) == len(set(values))
