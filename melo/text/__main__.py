"""``python -m melo.text [--language KR|EN|ZH|JP] [--json] TEXT``: show how a text is read."""

from __future__ import annotations

import argparse
import json
import logging
import sys

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m melo.text", description=__doc__)
    parser.add_argument("text", help="text to read (any mix of Korean, English, Chinese, Japanese)")
    parser.add_argument("--language", help=f"tag that breaks ties ({', '.join(LANGUAGES)}); default: detect")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        ph = phonemize(args.text, language=args.language)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(ph.to_json_dict(), ensure_ascii=False))
    else:
        print(_format(ph))
    return 0


if __name__ == "__main__":
    sys.exit(main())
