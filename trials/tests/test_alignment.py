import pytest

from trials.alignment import Item, align, cosine, similarities, stem, tf_idf_vectors, tokens


def texts(row):
    return [(item.column, item.english or item.original) for item in row.items]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("pregnant pregnancy", "pregn"),
        ("participants participated participation", "particip"),
        ("allergic allergy", "allerg"),
        ("fracture fractures", "fractur"),
    ],
)
def test_word_forms_share_one_stem(words, expected):
    assert {stem(word) for word in words.split()} == {expected}


def test_short_words_keep_their_ending():
    assert stem("gas") == "gas"
    assert stem("ages") == "ages"


def test_tokens_drop_stop_words_and_numbers_and_pair_chinese_characters():
    assert tokens("Patients with severe liver failure within 3 months") == ["sever", "liver", "failur"]
    assert tokens("妊娠期女性") == ["妊娠", "娠期", "期女", "女性"]
    assert tokens("Harris髋关节评分") == ["harri", "髋关", "关节", "节评", "评分"]


def test_tf_idf_vectors_have_unit_length_and_rare_words_weigh_more():
    vectors = tf_idf_vectors([["hip", "pain"], ["hip", "function"], ["hip", "score"]])
    assert all(abs(sum(w * w for w in vector.values()) - 1) < 1e-9 for vector in vectors)
    assert vectors[0]["pain"] > vectors[0]["hip"]
    assert cosine(vectors[0], vectors[0]) == pytest.approx(1)
    assert tf_idf_vectors([[]]) == [{}]


def test_paraphrased_criteria_of_two_trials_share_a_row_and_others_stand_alone():
    items = [
        Item(0, 0, "Pregnant or lactating women, or those with recent pregnancy plans"),
        Item(0, 1, "Participants in other interventional clinical studies within the past 3 months"),
        Item(0, 2, "Known allergy to bone cement"),
        Item(1, 0, "Uncontrolled hypertension"),
        Item(1, 1, "Those who have participated in any other clinical trials within 3 months before screening"),
        Item(1, 2, "Pregnant women, lactating women, and women unwilling to use contraception"),
    ]
    rows = align(items)
    assert [texts(row) for row in rows] == [
        [(0, items[0].english), (1, items[5].english)],
        [(0, items[1].english), (1, items[4].english)],
        [(0, items[2].english)],
        [(1, items[3].english)],
    ]
    assert rows[0].score > 0.2 and rows[2].score is None


def test_chinese_items_align_on_character_pairs_and_bilingual_ones_on_either_language():
    items = [
        Item(0, 0, "", "妊娠期或哺乳期女性"),
        Item(0, 1, "", "合并恶性肿瘤者"),
        Item(1, 0, "", "恶性肿瘤患者"),
        Item(1, 1, "", "妊娠或哺乳期妇女"),
        Item(2, 0, "Lactating women", ""),
    ]
    rows = align(items)
    assert [row.items for row in rows if len(row.items) > 1] == [(items[0], items[3]), (items[1], items[2])]
    bilingual = [Item(0, 0, "Lactating or pregnant women", "妊娠期或哺乳期女性"), Item(1, 0, "Lactating women", "")]
    assert [len(row.items) for row in align(bilingual)] == [2]


def test_a_row_holds_at_most_one_item_of_each_trial():
    items = [Item(0, 0, "hip pain score"), Item(0, 1, "hip pain score at rest"), Item(1, 0, "hip pain score")]
    rows = align(items)
    assert sorted(len(row.items) for row in rows) == [1, 2]
    assert all(len({item.column for item in row.items}) == len(row.items) for row in rows)


def test_three_trials_can_meet_in_one_row():
    items = [
        Item(0, 0, "Harris hip score"),
        Item(1, 0, "Visual analogue scale for pain"),
        Item(1, 1, "Harris hip score at 12 months"),
        Item(2, 0, "HHS: Harris hip score"),
    ]
    [first, *_] = align(items)
    assert [item.column for item in first.items] == [0, 1, 2]


def test_one_shared_common_word_is_not_enough():
    items = [Item(0, 0, "Harris hip joint function score"), Item(1, 0, "Renal function improvement rate")]
    assert similarities(items) == {}
    assert [len(row.items) for row in align(items)] == [1, 1]


def test_a_higher_threshold_splits_weak_matches():
    items = [Item(0, 0, "Pregnant or lactating women"), Item(1, 0, "Pregnant women and women of childbearing age")]
    assert len(align(items, threshold=0.05)) == 1
    assert len(align(items, threshold=0.99)) == 2
