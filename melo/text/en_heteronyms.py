"""English heteronyms read from their neighbours: *read*, *lead*, *live*, *lives*.

Without a tagger, only clear contexts switch a word from its usual reading (:data:`HETERONYMS`' default):

* ``read`` R EH D (past) after a form of *have* or *be* (*has read*, *was read*, *been read*, *have you
  read*), or with a past-time word later in the clause (*I read it yesterday*, *last year*, *ago*); otherwise R IY D;
* ``lead`` L EH D (the metal) before *pipe(s), poisoning, paint, ...* or after *of*; otherwise L IY D;
* ``live`` L AY V (adjective/adverb) before *music, show, broadcast, stream, concert, ...*, in *live on
  TV/air/stage*, after *go/went/is/are ... * and after *stream(ed)/watch(ed)/broadcast* ; otherwise L IH V;
* ``lives`` L IH V Z (the verb) after *he, she, it, who, that, which* or before *in, on, at, with, ...*;
  otherwise L AY V Z (the plural noun: *their lives*, *save lives*).
"""

from __future__ import annotations

__all__ = ["HETERONYMS", "heteronym"]

HETERONYMS = {"read": "R IY1 D", "lead": "L IY1 D", "live": "L IH1 V", "lives": "L AY1 V Z"}
_OTHER = {"read": "R EH1 D", "lead": "L EH1 D", "live": "L AY1 V", "lives": "L IH1 V Z"}

_SKIPPED = frozenset("already just never not ever recently also all once n't".split())
_HAVE_BE = frozenset("have has had having 've was were been being is are be get got gets 's 're".split())
_PRONOUNS = frozenset("i you he she it we they".split())
_PAST_TIME = frozenset("yesterday last ago earlier previously once already".split())
_CLAUSE_END = frozenset("and but because so when while if".split())
_LEAD_METAL_NEXT = frozenset(
    "pipe pipes piping poisoning paint paints levels level exposure contamination pencil pencils acid free "
    "bullet bullets weight weights crystal oxide content shot sheet sheets".split()
)
_LIVE_ADJECTIVE_NEXT = frozenset(
    "music show shows broadcast broadcasts stream streams streaming concert concerts performance performances "
    "event events audience audiences coverage recording recordings album version tv television radio feed chat "
    "update updates wire animals bait ammunition action band sports game games match session demo theater "
    "theatre studio footage video videos blog q".split()
)
_LIVE_MEDIA = frozenset("tv air stage television radio camera youtube twitch".split())
_LIVE_AFTER = frozenset("go goes went going gone is are was were be 're stream streamed streaming broadcast "
                        "aired airs perform performed performing".split())
_LIVE_AFTER_OBJECT = frozenset("watch watched watching stream streamed streaming broadcast".split())
_LIVES_VERB_BEFORE = frozenset("he she it who that which everyone nobody somebody someone".split())
_LIVES_VERB_AFTER = frozenset("in on at with near there here alone together nearby abroad next".split())


def _previous(words: list[str], k: int) -> str:
    j = k - 1
    while j >= 0 and words[j] in _SKIPPED:
        j -= 1
    return words[j] if j >= 0 else ""


def heteronym(words: list[str], k: int) -> str:
    """ARPAbet (with stress) of ``words[k]`` (lower case; "" for punctuation) in its context."""
    word = words[k]
    prev = _previous(words, k)
    nxt = words[k + 1] if k + 1 < len(words) else ""
    if word == "read":
        if prev in _PRONOUNS and _previous(words, k - 1) in _HAVE_BE:
            prev = "have"  # Have you read ...? Has she read ...?
        later: list[str] = []
        for w in words[k + 1 :]:
            if w == "" or w in _CLAUSE_END:
                break
            later.append(w)
        past = prev in _HAVE_BE or any(w in _PAST_TIME for w in later)
        return _OTHER[word] if past else HETERONYMS[word]
    if word == "lead":
        return _OTHER[word] if nxt in _LEAD_METAL_NEXT or prev == "of" else HETERONYMS[word]
    if word == "live":
        after_two = words[k + 2] if k + 2 < len(words) else ""
        prev_two = _previous(words, k - 1) if k > 0 else ""
        adjective = (
            nxt in _LIVE_ADJECTIVE_NEXT
            or (nxt == "on" and after_two in _LIVE_MEDIA)
            or prev in _LIVE_AFTER
            or prev_two in _LIVE_AFTER_OBJECT
        )
        return _OTHER[word] if adjective else HETERONYMS[word]
    verb = prev in _LIVES_VERB_BEFORE or nxt in _LIVES_VERB_AFTER
    return _OTHER[word] if verb else HETERONYMS[word]
