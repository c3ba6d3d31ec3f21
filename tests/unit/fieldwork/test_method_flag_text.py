"""A check-in flagged for its method is said in words, in both languages, with the method."""

from __future__ import annotations

from rounds import i18n
from rounds.runtime.fieldwork import views

# The field pages' words as each catalogue holds them (no fallback filled in).
WORDS = {lang: i18n._catalogue("fieldwork", lang) for lang in i18n.LANGUAGES}


def test_the_method_flag_in_words() -> None:
    en = views.flag_texts(["method_not_allowed"], distance_m=5, accuracy_m=5, radius_m=100,
                          max_accuracy_m=50, lang="en", method="gps")
    assert en == [f"The check-in method ({WORDS['en']['method_gps']}) is not the one "
                  "required here."]
    zh = views.flag_texts(["method_not_allowed"], distance_m=5, accuracy_m=5, radius_m=100,
                          max_accuracy_m=50, lang="zh", method="qr")
    assert zh == [f"打卡方式（{WORDS['zh']['method_qr']}）不是这里要求的方式。"]


def test_the_refusal_is_said_in_both_languages() -> None:
    for lang in ("zh", "en"):
        assert WORDS[lang]["check_in_method_qr"] and WORDS[lang]["check_in_method_gps"]
    assert "扫码打卡" in WORDS["zh"]["check_in_method_qr"]
    assert "定位打卡" in WORDS["zh"]["check_in_method_gps"]
