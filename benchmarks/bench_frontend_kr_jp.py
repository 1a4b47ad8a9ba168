"""Korean and Japanese text frontend speed: normalize + g2p over fixed typical sentences.

Prints sentences/s for KR and JP, KR microseconds per sentence and its ratio against g2pkk's 12.6 ms
(measured earlier on these machines, DESIGN.md; g2pkk needs mecab and is not installed here), and, in
the same run, the cost of bare ``jamo.hangul_to_jamo`` over the same sentences as a floor. Medians of
several repeats; the load average is printed because the machine is shared. Writes the markdown table
to benchmarks/results/frontend_kr_jp.md. Run: ``python benchmarks/bench_frontend_kr_jp.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from melo.text import japanese, korean  # noqa: E402
from melo.text.normalize import canonical_punctuation  # noqa: E402

G2PKK_MS = 12.6  # per sentence, DESIGN.md
TARGET_RATIO = 500.0

KR_SENTENCES = [
    "안녕하세요. 오늘 날씨가 좋네요.",
    "저는 학교에 가서 친구를 만났어요.",
    "이 책은 2024년에 출판되었습니다.",
    "값이 너무 비싸요, 조금 깎아 주세요!",
    "사과 3개랑 배 2개 주세요.",
    "회의는 3시에 시작해요.",
    "지하철역까지 걸어서 10분 걸려요.",
    "내일은 비가 올 것 같아요.",
    "정말 고맙습니다. 덕분에 잘 끝났어요.",
    "가격은 15,000원이고 할인은 20%예요.",
]
JP_SENTENCES = [
    "東京タワーに行きました。",
    "今日はいい天気ですね。",
    "このりんごは1個100円です。",
    "明日の会議は10:30から始まります。",
    "駅までどのくらいかかりますか？",
    "日本語を勉強しています。",
    "2024年に新しい本を出版しました。",
    "ありがとうございます、助かりました！",
    "雨が降りそうなので傘を持って行きます。",
    "気温は-3度まで下がるそうです。",
]


def _frontend(module, canonical: bool = True) -> Callable[[str], object]:
    """normalize -> (the orchestrator's canonical_punctuation) -> g2p of one sentence."""
    if not canonical:
        return lambda sentence: module.g2p(module.normalize(sentence))
    return lambda sentence: module.g2p(canonical_punctuation(module.normalize(sentence)))


def _seconds_per_sentence(fn: Callable[[str], object], sentences: list[str], loops: int, repeats: int) -> float:
    for s in sentences:  # warm-up: lazy imports, dictionaries
        fn(s)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            for s in sentences:
                fn(s)
        times.append((time.perf_counter() - start) / (loops * len(sentences)))
    return statistics.median(times)


def main() -> None:
    import jamo

    load = os.getloadavg()
    kr = _seconds_per_sentence(_frontend(korean, canonical=False), KR_SENTENCES, loops=300, repeats=7)
    kr_pipeline = _seconds_per_sentence(_frontend(korean), KR_SENTENCES, loops=300, repeats=7)
    kr_jamo = _seconds_per_sentence(lambda s: list(jamo.hangul_to_jamo(s)), KR_SENTENCES, loops=300, repeats=7)
    jp = _seconds_per_sentence(_frontend(japanese), JP_SENTENCES, loops=5, repeats=5)

    kr_us = kr * 1e6
    ratio = G2PKK_MS * 1e3 / kr_us
    rows = [
        ("KR normalize + g2p", f"{1 / kr:,.0f}", f"{kr_us:.1f}", f"{ratio:,.0f}x"),
        ("KR normalize + canonical_punctuation + g2p (as the orchestrator runs it)", f"{1 / kr_pipeline:,.0f}",
         f"{kr_pipeline * 1e6:.1f}", f"{G2PKK_MS * 1e3 / (kr_pipeline * 1e6):,.0f}x"),
        ("KR bare jamo.hangul_to_jamo (floor)", f"{1 / kr_jamo:,.0f}", f"{kr_jamo * 1e6:.1f}", f"{G2PKK_MS * 1e3 / (kr_jamo * 1e6):,.0f}x"),
        ("JP normalize + canonical_punctuation + g2p (pyopenjtalk)", f"{1 / jp:,.0f}", f"{jp * 1e6:.1f}", "-"),
    ]
    lines = [
        "## Korean / Japanese text frontend",
        "",
        f"{len(KR_SENTENCES)} KR and {len(JP_SENTENCES)} JP typical sentences, normalize + g2p, median of repeats; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}. g2pkk reference: {G2PKK_MS} ms per sentence "
        f"(DESIGN.md); goal: KR >= {TARGET_RATIO:.0f}x faster (<= {G2PKK_MS * 1e3 / TARGET_RATIO:.0f} us).",
        "",
        "| frontend | sentences/s | us/sentence | vs g2pkk 12.6 ms |",
        "|---|---:|---:|---:|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"KR goal {'met' if ratio >= TARGET_RATIO else 'NOT met'}: {ratio:,.0f}x "
        f"(frontend / bare jamo = {kr / kr_jamo:.1f}x in this run).",
    ]
    table = "\n".join(lines)
    print(table)
    out = Path(__file__).resolve().parent / "results" / "frontend_kr_jp.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
