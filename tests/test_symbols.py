import json

import pytest

from melo.text.symbols import (
    DEFAULT_TABLE,
    KR_CODAS,
    LANGUAGES,
    NUM_TONES,
    PAD,
    SYMBOLS,
    UNK,
    SymbolTable,
    validate_language,
)


def test_symbol_ids_never_move():
    """The inventory is append-only: every symbol of the v1 snapshot keeps its id."""
    snapshot = json.load(open("tests/data/symbols_v1.json", encoding="utf-8"))["symbols"]
    assert list(SYMBOLS[: len(snapshot)]) == snapshot


def test_inventory_basics():
    assert SYMBOLS[0] == PAD
    assert len(set(SYMBOLS)) == len(SYMBOLS)
    assert UNK in SYMBOLS
    assert len(KR_CODAS) == 27 and all(c in SYMBOLS for c in KR_CODAS)
    assert "\u110b" in SYMBOLS and "\u11bc" in SYMBOLS  # onset ㅇ and coda ㅇ are different symbols


def test_tone_table_offsets_do_not_overlap():
    seen = set()
    for lang in LANGUAGES:
        ids = {DEFAULT_TABLE.tone_id(lang, t) for t in range(NUM_TONES[lang])}
        assert not ids & seen
        seen |= ids
    assert seen == set(range(DEFAULT_TABLE.n_tones))
    with pytest.raises(ValueError, match="out of range for KR"):
        DEFAULT_TABLE.tone_id("KR", 1)


def test_table_serialises_and_maps_unknown_symbols_to_unk():
    again = SymbolTable.from_dict(json.loads(json.dumps(DEFAULT_TABLE.to_dict())))
    assert again == DEFAULT_TABLE
    assert again.fingerprint() == DEFAULT_TABLE.fingerprint()
    assert DEFAULT_TABLE.symbol_id("no-such-phone") == DEFAULT_TABLE.symbol_id(UNK)


def test_validate_language():
    assert validate_language("kr") == "KR"
    assert validate_language(None) is None and validate_language("") is None
    with pytest.raises(ValueError, match="valid codes: KR, EN, ZH, JP"):
        validate_language("FR")
