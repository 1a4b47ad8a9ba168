"""Whole text frontend (melo.text.phonemize: clean -> segment -> normalise -> G2P) per language.

Prints sentences/s per language and for mixed-language text, and the Korean per-sentence time next to
g2pkk's 12.6 ms (DESIGN.md; g2pkk itself needs mecab and is not installed here). The Korean backend alone
(normalize + g2p, without the orchestrator) is timed in the same run for comparison.
Writes benchmarks/results/frontend.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from melo.text import phonemize  # noqa: E402

G2PKK_MS = 12.6
SENTENCES = {
    "KR": ["안녕하세요. 오늘 날씨가 좋네요.", "저는 내일 친구와 함께 영화를 보러 갈 거예요.", "이 문장은 한국어 음성 합성을 위한 예시입니다.",
           "값이 3,000원이라서 두 개를 샀어요.", "회의는 오후 3시에 시작합니다."],
    "EN": ["Hello, how are you today?", "The quick brown fox jumps over the lazy dog.", "I paid $5.50 for two coffees on March 3rd.",
           "Speech synthesis has improved a lot in recent years.", "Please call me back at 3:30 p.m."],
    "ZH": ["你好，今天天气很好。", "我们一起去看电影吧。", "这个苹果三块五毛钱。", "语音合成技术发展得很快。", "他不是我的老师。"],
    "JP": ["東京タワーに行きました。", "今日はとても良い天気ですね。", "明日の会議は午後三時からです。", "音声合成の研究をしています。", "このりんごは百円です。"],
    "mixed": ["오늘 meeting은 3시에 시작해요.", "我今天很忙, but I will call you.", "東京で hello と言いました。", "이 모델은 BGE-M3로 학습했어요.", "AI 技术很有意思。"],
}


def per_sentence_seconds(fn, sentences, min_time=0.5, repeats=5) -> float:
    for s in sentences:
        fn(s)  # warm-up: loads the language backend
    results = []
    for _ in range(repeats):
        n = 0
        t0 = time.perf_counter()
        while True:
            for s in sentences:
                fn(s)
            n += len(sentences)
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time / repeats:
                break
        results.append(elapsed / n)
    return statistics.median(results)


def main() -> None:
    rows = []
    kr = None
    for lang, sentences in SENTENCES.items():
        sec = per_sentence_seconds(phonemize, sentences)
        rows.append((lang, sec))
        if lang == "KR":
            kr = sec
    from melo.text import korean
    from melo.text.normalize import canonical_punctuation

    kr_backend = per_sentence_seconds(lambda s: korean.g2p(canonical_punctuation(korean.normalize(s))), SENTENCES["KR"])
    load = os.getloadavg()
    lines = [
        "## Text frontend (`benchmarks/bench_frontend.py`)",
        "",
        f"Whole pipeline `melo.text.phonemize` (clean, segment, normalise, G2P), median of 5; load average {load[0]:.2f}.",
        "",
        "| language | sentences/s | µs/sentence |",
        "|---|---:|---:|",
    ]
    lines += [f"| {lang} | {1 / sec:,.0f} | {sec * 1e6:,.1f} |" for lang, sec in rows]
    assert kr is not None
    lines += [
        "",
        "| Korean | µs/sentence | vs g2pkk 12.6 ms |",
        "|---|---:|---:|",
        f"| `phonemize` (whole frontend) | {kr * 1e6:.1f} | {G2PKK_MS / 1e3 / kr:,.0f}× faster |",
        f"| jamo backend only (`korean.normalize` + `g2p`) | {kr_backend * 1e6:.1f} | {G2PKK_MS / 1e3 / kr_backend:,.0f}× faster |",
        "",
        "g2pkk's 12.6 ms is DESIGN.md's figure measured on these machines (g2pkk needs mecab; not installed here).",
    ]
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).resolve().parent / "results" / "frontend.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
