"""Kanji-only text: Japanese or Chinese (melo.text.han)."""

from __future__ import annotations

import pytest

from melo.text.han import han_evidence, han_language, paragraph_vote


@pytest.mark.parametrize(
    "sentence, vote",
    [
        ("東京都庁", "JP"),  # 東 庁: Japanese, not Simplified Chinese
        ("駅", "JP"),
        ("日本語", "JP"),
        ("东京", "ZH"),  # 东: Simplified
        ("我們", "ZH"),  # 們: a Traditional form Japanese does not use
        ("我很忙", "ZH"),  # function words
        ("大阪府大阪市北区", ""),  # shared characters only
        ("中国人", ""),
        ("これは中国人", "JP"),  # kana
    ],
)
def test_evidence(sentence, vote):
    assert han_evidence(sentence) == vote


def test_ties_go_to_the_paragraph_then_the_tag_then_chinese():
    assert han_language("中国人", "中国人。日本に住んでいます。", None) == "JP"
    assert han_language("中国人", "中国人。我们是朋友。", None) == "ZH"
    assert han_language("中国人", None, "JP") == "JP"
    assert han_language("中国人", "中国人。", "JP") == "JP"
    assert han_language("中国人", None, None) == "ZH"
    assert han_language("中国人", None, "KR") == "ZH"  # a Korean tag says nothing about Han


def test_the_sentences_own_evidence_beats_the_paragraph_and_the_tag():
    assert han_language("我很忙", "日本に住んでいます。我很忙。", "JP") == "ZH"
    assert han_language("東京都庁", None, "ZH") == "JP"


def test_paragraph_vote_counts_sentences():
    assert paragraph_vote("我很忙。東京に行きます。行きました。") == "JP"
    assert paragraph_vote("我很忙。東京に行きます。") == ""
