"""The interest lines: what a pastime, habit or small trouble asks for (daogou.search.interests)."""

from __future__ import annotations

import pytest

from daogou.errors import ValidationError
from daogou.search.interests import Interests, parse_interests


@pytest.fixture(scope="module")
def lines():
    return Interests.built_in()


@pytest.mark.parametrize("message, kind, said", [
    ("my dad jogs along the river every evening", "running shoes", "jogs"),       # a verb's form, by its stem
    ("her phone is always dead by lunchtime", "charger", "phone is always dead"),  # words apart ("phone * dead")
    ("奶奶冬天脚总是冰凉的", "socks", "脚总是冰凉"),                                   # 中文, with a gap
    ("his phone runs out of battery all the time", "charger", "phone runs out of battery"),  # the widest wins
    ("she bakes sourdough every weekend", "kitchen", "sourdough"),
    ("老公最近迷上爬山了", "hiking boots", "爬山"),
])
def test_an_interest_is_found_by_its_words(lines, message, kind, said):
    found = lines.find(message)
    assert found is not None and found.kinds[0] == kind and found.span(message) == said


@pytest.mark.parametrize("message", ["gift for my teacher, she's retiring", "给我妈买个生日礼物", "a new phone for my dad"])
def test_no_interest_in_a_message_that_tells_none(lines, message):
    assert lines.find(message) is None


def test_the_words_of_an_interest_can_name_a_product(lines):
    unknown = {"shorts", "bread", "balls"}.__contains__
    assert lines.find("running shorts for my bf").modifies("running shorts for my bf", unknown)
    assert lines.find("golf balls for my dad").modifies("golf balls for my dad", unknown)
    assert not lines.find("she loves baking bread").modifies("she loves baking bread", unknown)
    # the next word is told by the same line, not a product: "trekking trails"
    assert not lines.find("he goes trekking trails").modifies("he goes trekking trails", {"trails"}.__contains__)


def test_what_told_it_is_left_out_of_the_rest(lines):
    message = "my sister keeps dropping her phone and cracking the screen"
    found = lines.find(message)
    assert found.kinds[0] == "phone case" and "phone" not in found.rest(message)  # every span of the line


def test_a_store_adds_its_own_lines_first(tmp_path):
    (tmp_path / "interests.txt").write_text("# ours\nbirdwatching | birder | 观鸟 => binoculars | backpack\n"
                                            "running => trail running shoes\n", encoding="utf-8")
    store = Interests.for_store(tmp_path)
    assert store.find("my uncle is a keen birder").kinds == ("binoculars", "backpack")
    assert store.find("he loves running").kinds == ("trail running shoes",)  # the store's line wins
    assert Interests.for_store(tmp_path / "absent").find("he loves running").kinds[0] == "running shoes"


def test_a_bad_line_says_where(tmp_path):
    (tmp_path / "interests.txt").write_text("ok => kitchen\nbirdwatching binoculars\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"interests.txt:2"):
        Interests.for_store(tmp_path)
    with pytest.raises(ValidationError, match="expected"):
        parse_interests("=> kitchen")
