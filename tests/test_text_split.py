from melo.text.split import split_sentences


def test_latin_and_hangul_sentences():
    assert split_sentences("Hello there. How are you? 안녕하세요. 반갑습니다!") == [
        "Hello there.", "How are you?", "안녕하세요.", "반갑습니다!",
    ]


def test_numbers_and_abbreviations_do_not_split():
    assert split_sentences("Pi is 3.14 today. Mr. Kim met Dr. Lee, e.g. at noon.") == [
        "Pi is 3.14 today.", "Mr. Kim met Dr. Lee, e.g. at noon.",
    ]


def test_cjk_marks_split_without_spaces():
    assert split_sentences("我今天很忙。你呢？東京に行きました。すごい！") == ["我今天很忙。", "你呢？", "東京に行きました。", "すごい！"]


def test_mixed_and_quotes():
    assert split_sentences('He said "stop." Then 我走了。OK') == ['He said "stop."', "Then 我走了。", "OK"]


def test_long_sentences_are_cut_at_pauses_then_spaces():
    long = ", ".join(["this is a clause"] * 30)
    pieces = split_sentences(long, max_chars=60)
    assert all(len(p) <= 60 for p in pieces)
    assert " ".join(pieces).replace(" ,", ",") == long
    no_breaks = "가" * 500
    pieces = split_sentences(no_breaks, max_chars=100)
    assert all(len(p) <= 100 for p in pieces) and "".join(pieces) == no_breaks


def test_empty():
    assert split_sentences("   ") == []
