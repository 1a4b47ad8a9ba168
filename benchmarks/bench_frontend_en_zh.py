"""Throughput of the English and Chinese text frontends: normalize + canonical_punctuation + g2p.

Run: ``python benchmarks/bench_frontend_en_zh.py`` (about 10-20 s). Prints a markdown table and writes
it to ``benchmarks/results/frontend_en_zh.md``.

* one-off load: the first call of each language in this process (EN: parsing the CMU dictionary;
  ZH: importing cn2an/jieba/pypinyin and building jieba's prefix dictionary, from its cache file in the
  temp folder when an earlier run left one there);
* the English letter-to-sound fallback's accuracy against the CMU dictionary (phone error rate);
* sentences/s: the median over rounds of one pass over a fixed set of typical sentences, after a
  warm-up pass. The English word cache (``read_word``/``_decompose``) is cleared before every round, so
  each round pays for dictionary lookups and fallbacks as a fresh sentence would.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from melo.text.normalize import canonical_punctuation, clean_text  # noqa: E402

EN_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back at 3:30 tomorrow afternoon.",
    "It cost $5.50, which is about 20% more than last year.",
    "In 1999, the company had 1,200 employees; by 2024 it had 45,000.",
    "Our TTS model runs on a single GPU with AI-generated features.",
    "She finished 2nd in the race and 23rd overall.",
    "Don't worry, the e-mail will arrive before noon!",
    "How many languages does this system speak?",
    "The temperature dropped to -5 degrees last night.",
    "We visited the naïve café near the station.",
    "Unbelievably, the rebooting smartwatches kept blinking.",
    "Mr. Smith & Dr. Jones met @ the office on the 4th of July.",
    "This sentence is intentionally a little bit longer than the others, so that the average is fair.",
    "Reading numbers like 3.14159 and 1,000,000 is part of normalization.",
    "Yes... no... maybe?",
    "The blorptastic zorbing championship was a success.",
]
ZH_SENTENCES = [
    "今天天气很好，我们一起去公园散步吧！",
    "他在2024年3月1日花了¥1,234.56买了两台电脑。",
    "这是一个不错的想法，不过我不太同意。",
    "你吃饭了吗？我还没吃呢。",
    "展览馆里有很多老鼠和小老虎。",
    "增长率达到了3.5%，比去年高了20%。",
    "请在10:30之前把报告发给王经理。",
    "我们的语音合成系统支持四种语言。",
    "一五一十地说，一模一样，一心一意。",
    "那儿有一点儿好玩儿的东西。",
    "学习中文需要耐心和坚持，每天练习一点点。",
    "第一名的奖金是5000元，第二名是3000元。",
    "你好，很高兴认识你。",
    "这本书的内容非常丰富，值得一读再读。",
    "温度降到了-5度，大家注意保暖。",
    "北京是中国的首都，也是一座历史悠久的城市。",
]
ROUNDS = 50
LTS_SAMPLE = 3000


def _run(backend, sentences: list[str]) -> int:
    n_words = 0
    for s in sentences:
        n_words += len(backend.g2p(canonical_punctuation(backend.normalize(clean_text(s)))))
    return n_words


def _measure(name: str, sentences: list[str], clear_caches) -> dict[str, float]:
    start = time.perf_counter()
    backend = __import__(f"melo.text.{name}", fromlist=["g2p"])
    backend.g2p(canonical_punctuation(backend.normalize(sentences[0])))
    load_s = time.perf_counter() - start
    _run(backend, sentences)  # warm-up
    times = []
    for _ in range(ROUNDS):
        clear_caches(backend)
        t0 = time.perf_counter()
        _run(backend, sentences)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return {"load_s": load_s, "median_round_s": median, "sentences_per_s": len(sentences) / median,
            "ms_per_sentence": 1000 * median / len(sentences)}


def _clear_english(backend) -> None:
    backend.read_word.cache_clear()
    backend._decompose.cache_clear()


def _edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1]))
    return row[-1]


def letter_rules_accuracy(n_words: int = LTS_SAMPLE, seed: int = 1) -> tuple[float, float]:
    """Phone error rate and exact-word rate of the letter-to-sound rules on random CMU entries."""
    import random

    from melo.text.en_lts import letters_to_sounds
    from melo.text.english import lexicon

    entries = lexicon()
    words = random.Random(seed).sample([w for w in entries if w.isalpha() and len(w) >= 3], n_words)
    errors = total = exact = 0
    for word in words:
        reference = [p.rstrip("012") for p in entries[word].split()]
        guess = [p.rstrip("012") for p in letters_to_sounds(word)]
        distance = _edit_distance(guess, reference)
        errors, total, exact = errors + distance, total + len(reference), exact + (distance == 0)
    return errors / total, exact / n_words


def main() -> None:
    load_before = os.getloadavg()
    results = {
        "EN": _measure("english", EN_SENTENCES, _clear_english),
        "ZH": _measure("chinese", ZH_SENTENCES, lambda backend: None),
    }
    per, exact = letter_rules_accuracy()
    load_after = os.getloadavg()
    lines = [
        "# Text frontend throughput: English and Chinese",
        "",
        f"normalize + canonical_punctuation + g2p over {len(EN_SENTENCES)} EN / {len(ZH_SENTENCES)} ZH typical "
        f"sentences; median of {ROUNDS} rounds after a warm-up; one process, one thread.",
        "",
        "| language | one-off load (s) | sentences/s | ms/sentence |",
        "|---|---|---|---|",
    ]
    for lang, r in results.items():
        lines.append(f"| {lang} | {r['load_s']:.3f} | {r['sentences_per_s']:.0f} | {r['ms_per_sentence']:.3f} |")
    lines += [
        "",
        f"EN/ZH throughput ratio: {results['EN']['sentences_per_s'] / results['ZH']['sentences_per_s']:.2f}",
        "",
        f"English letter-to-sound fallback vs the CMU dictionary ({LTS_SAMPLE} random entries of 3+ letters, "
        f"seed 1, stress ignored): phone error rate {100 * per:.1f} %, words exactly right {100 * exact:.1f} %.",
        "",
        f"load average (1/5/15 min) before: {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
        f"after: {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}; python {sys.version.split()[0]}",
        "",
    ]
    table = "\n".join(lines)
    print(table)
    out = ROOT / "benchmarks" / "results" / "frontend_en_zh.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
