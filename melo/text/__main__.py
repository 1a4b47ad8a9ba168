"""Show how the text frontend reads text.

    python -m melo.text [--language KR|EN|ZH|JP] [--json] TEXT     one text, word by word
    python -m melo.text --check FILE [--language ...]               a file of sentences, one block per line
    python -m melo.text --eval FILE                                 score an evaluation file (tests/data/frontend_eval.tsv)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from melo.text.frontend import phonemize
from melo.text.symbols import LANGUAGES


def _format(ph) -> str:
    lines = [f"normalized: {ph.normalized}"]
    for seg in ph.segments:
        lines.append(f"segment {seg.language}: {seg.text}")
    lines.append("words:")
    i = 0
    n = len(ph.phones)
    while i < n:
        span = ph.word_spans[i]
        j = i
        while j < n and ph.word_spans[j] == span:
            j += 1
        word = ph.normalized[span[0] : span[1]]
        phones = " ".join(f"{p}/{t}" for p, t in zip(ph.phones[i:j], ph.tones[i:j]))
        lines.append(f"  [{ph.languages[i]}] {word}\t{phones}")
        i = j
    lines.append(f"{n} phones (phone/tone)")
    if ph.dropped:
        lines.append(f"dropped (unreadable): {' '.join(ph.dropped)}")
    return "\n".join(lines)


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {path}: {e}") from None


def _check(path: str, language: str | None) -> None:
    from melo.text.check import check_lines

    for block in check_lines(_read_lines(path), language):
        print(block)
        print()


def _evaluate(path: str, show_failures: bool) -> None:
    from melo.text.evaluate import load_eval_rows, score_rows

    results, groups = score_rows(load_eval_rows(path))
    print("| group | read correctly |")
    print("|---|---:|")
    for group, (passed, total) in groups.items():
        print(f"| {group} | {passed}/{total} = {passed / total:.0%} |")
    if show_failures:
        for r in results:
            if not r.passed:
                print(f"\nline {r.row.line} [{r.row.group}] {r.row.text}\n  got:  {r.got}\n  want: {r.want}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m melo.text", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", nargs="?", help="text to read (any mix of Korean, English, Chinese, Japanese)")
    parser.add_argument("--language", help=f"tag that breaks ties ({', '.join(LANGUAGES)}); default: detect")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    parser.add_argument("--check", metavar="FILE", help="print the reading of every line of FILE")
    parser.add_argument("--eval", metavar="FILE", help="score an evaluation file (GROUP TAG INPUT EXPECTED rows)")
    parser.add_argument("--failures", action="store_true", help="with --eval: show the rows read wrongly")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.text else logging.ERROR, format="%(levelname)s: %(message)s")
    if sum(x is not None for x in (args.text, args.check, args.eval)) != 1:
        parser.error("give exactly one of TEXT, --check FILE or --eval FILE")
    try:
        if args.check:
            _check(args.check, args.language)
        elif args.eval:
            _evaluate(args.eval, args.failures)
        else:
            ph = phonemize(args.text, language=args.language)
            print(json.dumps(ph.to_json_dict(), ensure_ascii=False) if args.json else _format(ph))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
