"""Reading entities aloud: each language's :class:`EntityReader`, the shared readers of addresses and phone
numbers (:func:`read_address`, :func:`read_phone`, from per-language word tables), and :func:`expand_entities`,
which replaces every entity of a text with its reader's words.

What an entity is lives in :mod:`melo.text.entity_values`, how one is found in :mod:`melo.text.entity_finder`
(the module docstring lists what is recognised); both are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from melo.text.entity_finder import find_entities, may_hold_entities
from melo.text.entity_values import Address, Entity, Fraction, Measure, Number, Phone, Power, Range, SlashDate

__all__ = [
    "Address",
    "AddressNames",
    "Entity",
    "EntityReader",
    "Fraction",
    "Measure",
    "Number",
    "Phone",
    "PhoneNames",
    "Power",
    "Range",
    "SlashDate",
    "expand_entities",
    "find_entities",
    "read_address",
    "read_phone",
]


@dataclass(frozen=True)
class AddressNames:
    """How one language reads the parts of an address."""

    separators: Mapping[str, str]  # "." -> "dot"
    words: Mapping[str, str]  # known lower-case words -> reading ("com" -> "컴")
    spell: Callable[[str], str]  # letters -> spelled reading (country codes, www, nhk)
    digits: Callable[[str], str]  # digit string -> digit-by-digit reading
    joiner: str  # between the parts' readings


_VOWELS = frozenset("aeiouyAEIOUY")


def _suffix_labels(address: Address) -> set[int]:
    """Indexes of the host's word tokens after its name: ``com`` and ``kr`` in ``www.naver.co.kr``, not
    ``naver`` (nor ``www``), nor anything in the user name, the scheme or the path."""
    tokens = address.tokens
    if address.kind == "email":
        start = next(i for i, (_, t) in enumerate(tokens) if t == "@") + 1
    else:
        text = "".join(t for _, t in tokens)
        scheme = text.find("://")
        start = 0
        if scheme >= 0:
            consumed = 0
            while consumed < scheme + 3:
                consumed += len(tokens[start][1])
                start += 1
    end = next((i for i in range(start, len(tokens)) if tokens[i][1] in "/?#"), len(tokens))
    labels = [i for i in range(start, end) if tokens[i][0] != "sep" and (i == start or tokens[i - 1][1] == ".")]
    names = [i for i in labels if tokens[i][1].lower() != "www"]
    return {i for i in range(start, end) if tokens[i][0] == "word" and names and i > names[0]}


def read_address(address: Address, names: AddressNames) -> str:
    """Words of ``address``: known words mapped (www, com), the host's suffixes of one or two letters or
    without a vowel spelled (kr, co, jp, qq), other vowel-less words spelled (nhk, https), everything else
    kept as written (Latin, read by the English G2P: naver, li, mi), separators named, digits one by one."""
    parts: list[str] = []
    suffixes = _suffix_labels(address)
    for i, (kind, token) in enumerate(address.tokens):
        if kind == "sep":
            name = names.separators.get(token)
            if name:
                parts.append(name)
        elif kind == "digits":
            parts.append(names.digits(token))
        else:
            lower = token.lower()
            vowel = any(c in _VOWELS for c in token)
            if lower in names.words:
                parts.append(names.words[lower])
            elif not vowel or len(token) == 1 or (i in suffixes and len(token) <= 2):
                parts.append(names.spell(token))
            else:
                parts.append(lower)
    return names.joiner.join(p for p in parts if p)


@dataclass(frozen=True)
class PhoneNames:
    digits: str  # ten digit names in one string per digit, separated by spaces: "공 일 이 ..."
    plus: str
    group_separator: str
    digit_joiner: str = ""

    def read(self, digits: str) -> str:
        names = self.digits.split()
        return self.digit_joiner.join(names[int(d)] for d in digits)


def read_phone(phone: Phone, names: PhoneNames) -> str:
    groups = [names.read(g) for g in phone.groups]
    head = f"{names.plus} {names.read(phone.country)}{names.group_separator}" if phone.country else ""
    return head + names.group_separator.join(groups)


@dataclass(frozen=True)
class EntityReader:
    """One language's readings of the entities (``melo.text.{kr,en,zh,jp}_entities``): phone numbers and
    addresses from the language's tables, the rest from its functions."""

    address_names: AddressNames
    phone_names: PhoneNames
    measure: Callable[[Measure], str]
    """400km -> the number and unit in words."""
    range: Callable[[Range, str], tuple[str, int]]
    """3~5 and the text after it -> words, and how many characters of that text the reading took over."""
    fraction: Callable[[Fraction], str]
    """1/2, 2 1/2 -> words."""
    date: Callable[[SlashDate], str]
    """3/15 -> the month and day in words."""
    power: Callable[[Power], str]
    """2^10 -> words."""
    pad: str = " "
    """Put around a reading where it touches a Latin letter or digit ("" in Chinese and Japanese)."""

    def read(self, entity: Entity, after: str) -> tuple[str, int]:
        """The words for ``entity`` and how many characters of ``after`` (the text that follows it) the
        reading took over, e.g. a Korean counter said twice in a range (3~5명: 세 명에서 다섯 명)."""
        v = entity.value
        if isinstance(v, Range):
            return self.range(v, after)
        if isinstance(v, Measure):
            return self.measure(v), 0
        if isinstance(v, Fraction):
            return self.fraction(v), 0
        if isinstance(v, SlashDate):
            return self.date(v), 0
        if isinstance(v, Power):
            return self.power(v), 0
        if isinstance(v, Phone):
            return read_phone(v, self.phone_names), 0
        return read_address(v, self.address_names), 0


_RATE_WORDS = ("시속", "초속", "時速", "秒速", "时速", "每小时", "每秒")


def _without_repeated_rate(before: str, words: str) -> str:
    """``시속 80km/h`` -> 시속 팔십 킬로미터, not 시속 시속 ...: the rate word is said once."""
    if before.rstrip().endswith(_RATE_WORDS):
        for rate in _RATE_WORDS:
            if words.startswith(rate):
                return words[len(rate) :].lstrip()
    return words


def expand_entities(text: str, reader: EntityReader) -> str:
    """``text`` with every entity replaced by ``reader``'s words for it."""
    entities = find_entities(text) if may_hold_entities(text) else ()
    if not entities:
        return text
    out: list[str] = []
    last = 0
    for entity in entities:
        if entity.start < last:
            continue  # inside text a previous reading took over
        words, taken = reader.read(entity, text[entity.end :])
        out.append(text[last : entity.start])
        words = _without_repeated_rate(text[last : entity.start], words)
        before = reader.pad if entity.start > 0 and not text[entity.start - 1].isspace() else ""
        end = entity.end + taken
        after = reader.pad if end < len(text) and (text[end].isascii() and text[end].isalnum()) else ""
        out.append(before + words + after)
        last = entity.end + taken
    out.append(text[last:])
    return "".join(out)
