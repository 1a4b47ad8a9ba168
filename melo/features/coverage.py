"""How often the encoder's tokenizer falls back to ``<unk>`` (the seed promises "[UNK] minimised").

    python -m melo.features.coverage [--model NAME_OR_PATH] [FILE ...]

reports the unknown-token rate on a built-in KR/EN/ZH/JP sample (sentences not used to train the
stand-in tokenizer, with some rarer characters), and on each FILE (UTF-8, one text per line; a
``wav|text|speaker[|LANG]`` filelist line contributes its text). Only the tokenizer is loaded, so this
is quick on the real bge-m3 too. On the tiny smoke-test stand-in the numbers describe that toy
tokenizer, not bge-m3.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = ["SAMPLE", "CoverageReport", "GroupCoverage", "main", "read_texts", "token_coverage"]

SAMPLE: dict[str, tuple[str, ...]] = {
    "KR": (
        "어제 시장에서 싱싱한 복숭아와 포도를 샀어요.",
        "훈민정음은 세종대왕이 만든 글자입니다.",
        "괜찮으시다면 창문을 좀 닫아 주시겠어요?",
        "똑똑한 강아지가 꽃밭에서 뛰어놀았다.",
        "햇볕이 따뜻해서 산책하기 좋은 날이에요.",
    ),
    "EN": (
        "Yesterday I bought fresh peaches and grapes at the market.",
        "The quartz sphinx judged my vow of zero jerky.",
        "Would you mind closing the window, if that's alright?",
        "Photosynthesis converts sunlight into chemical energy.",
        "Rhythm and syzygy are unusual English words.",
    ),
    "ZH": (
        "昨天我在市场买了新鲜的桃子和葡萄。",
        "麒麟和饕餮都是古代传说中的动物。",
        "如果方便的话，请把窗户关上好吗？",
        "聪明的小狗在花园里跑来跑去。",
        "阳光温暖，适合散步。",
    ),
    "JP": (
        "昨日、市場で新鮮な桃とぶどうを買いました。",
        "鬱蒼とした森の奥に古い祠があった。",
        "よろしければ、窓を閉めていただけますか？",
        "賢い子犬が花畑で走り回った。",
        "日差しが暖かくて、散歩日和ですね。",
    ),
}
"""Built-in sample: five sentences per language, written for this report."""


@dataclass(frozen=True)
class GroupCoverage:
    name: str
    texts: int
    tokens: int
    unknown: int
    unknown_chars: tuple[str, ...]
    """The distinct characters that came out as ``<unk>`` (first 20)."""

    @property
    def rate(self) -> float:
        return self.unknown / self.tokens if self.tokens else 0.0


@dataclass(frozen=True)
class CoverageReport:
    model: str
    groups: tuple[GroupCoverage, ...]
    stand_in: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def tokens(self) -> int:
        return sum(g.tokens for g in self.groups)

    @property
    def unknown(self) -> int:
        return sum(g.unknown for g in self.groups)

    @property
    def rate(self) -> float:
        return self.unknown / self.tokens if self.tokens else 0.0

    def format(self) -> str:
        lines = [f"unknown-token rate of {self.model}"]
        if self.stand_in:
            lines.append(f"WARNING: {self.stand_in}; these numbers say nothing about bge-m3")
        lines.append(f"{'group':<24} {'texts':>6} {'tokens':>8} {'<unk>':>6} {'rate':>8}  unknown characters")
        for g in self.groups:
            chars = "".join(g.unknown_chars)
            lines.append(f"{g.name:<24} {g.texts:>6} {g.tokens:>8} {g.unknown:>6} {g.rate:>8.2%}  {chars}")
        lines.append(f"{'total':<24} {'':>6} {self.tokens:>8} {self.unknown:>6} {self.rate:>8.2%}")
        return "\n".join(lines)


def _group(tokenizer: Any, name: str, texts: Sequence[str]) -> GroupCoverage:
    backend = tokenizer.backend_tokenizer
    unk = tokenizer.unk_token_id
    tokens = unknown = 0
    chars: dict[str, None] = {}
    for text in texts:
        encoding = backend.encode(text, add_special_tokens=False)
        tokens += len(encoding.ids)
        for token_id, (start, end) in zip(encoding.ids, encoding.offsets):
            if token_id == unk:
                unknown += 1
                chars.setdefault(text[start:end].strip(), None)
    return GroupCoverage(name=name, texts=len(texts), tokens=tokens, unknown=unknown, unknown_chars=tuple(chars)[:20])


def token_coverage(tokenizer: Any, groups: dict[str, Sequence[str]] | None = None, model: str = "") -> CoverageReport:
    """Unknown-token counts per group of texts (default: the built-in :data:`SAMPLE`).

    ``tokenizer`` is a fast transformers tokenizer (``melo.features.loading.load_tokenizer``) or the
    ``tokenizer`` of a ``FeatureExtractor``.
    """
    groups = SAMPLE if groups is None else groups
    return CoverageReport(model=model, groups=tuple(_group(tokenizer, name, texts) for name, texts in groups.items()))


def read_texts(path: Path) -> list[str]:
    """Texts of a UTF-8 file: one per non-empty line; filelist lines (``wav|text|...``) give their text."""
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        fields = line.split("|")
        texts.append(fields[1] if len(fields) >= 3 else line)
    return texts


def coverage_for_model(model: str, files: Iterable[Path] = ()) -> CoverageReport:
    """Load only ``model``'s tokenizer and report the sample plus ``files``."""
    from melo.features.loading import load_tokenizer, resolve_source

    source = resolve_source(model)
    tokenizer = load_tokenizer(model, source)
    stand_in = None
    if source.path is not None and (source.path / "config.json").is_file():
        import json

        stand_in = json.loads((source.path / "config.json").read_text(encoding="utf-8")).get("melo_stand_in")
    groups: dict[str, Sequence[str]] = {f"sample {lang}": texts for lang, texts in SAMPLE.items()}
    for path in files:
        groups[str(path)] = read_texts(path)
    report = token_coverage(tokenizer, groups, model=model)
    return CoverageReport(model=report.model, groups=report.groups, stand_in=stand_in)


def main(argv: list[str] | None = None) -> int:
    from melo.features.loading import ModelUnavailableError

    parser = argparse.ArgumentParser(prog="python -m melo.features.coverage", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="BAAI/bge-m3", help="hub id or local folder (default: BAAI/bge-m3)")
    parser.add_argument("files", nargs="*", type=Path, help="UTF-8 text files or filelists to check as well")
    args = parser.parse_args(argv)
    for path in args.files:
        if not path.is_file():
            print(f"error: {path}: no such file", file=sys.stderr)
            return 2
    try:
        report = coverage_for_model(args.model, args.files)
    except ModelUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(report.format())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
