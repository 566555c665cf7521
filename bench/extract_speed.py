"""Extraction speed on long synthetic articles built from the gold set: documents/s and MB/s on one core."""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors import document_from_text, extract  # noqa: E402
from extractors.document import split_sentences  # noqa: E402
from tests.extractors.gold import load_articles, load_sentences  # noqa: E402

FILLER = (
    "Lãnh đạo tỉnh cho biết thời gian tới sẽ tiếp tục cải thiện môi trường đầu tư, hỗ trợ doanh nghiệp "
    "và phát triển hạ tầng giao thông kết nối vùng."
)


def corpus(n_docs: int, sentences_per_doc: int, seed: int = 7) -> list[str]:
    """Long articles: gold sentences and article lines shuffled with neutral filler, like real press copy."""
    rng = random.Random(seed)
    pool = [c.doc.text for c in load_sentences() if c.doc.lang == "vi"]
    pool += [line for c in load_articles() if c.doc.lang == "vi" for line in c.doc.text.split("\n")]
    docs = []
    for _ in range(n_docs):
        lines = [rng.choice(pool) if rng.random() < 0.6 else FILLER for _ in range(sentences_per_doc)]
        docs.append("\n".join(lines))
    return docs


def _time(fn: object, docs: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for d in docs:
            fn(d)  # type: ignore[operator]
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--sentences", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    docs = corpus(args.docs, args.sentences)
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    extract(document_from_text(docs[0], lang="vi"))  # warm the compiled catalogue

    def full(d: str) -> None:
        extract(document_from_text(d, lang="vi"))

    def split_only(d: str) -> None:
        split_sentences(d)

    def lower_scan(d: str) -> None:
        low = d.lower()
        low.count("tỷ usd")
        low.count("top 7")

    t_full = _time(full, docs, args.repeat)
    t_split = _time(split_only, docs, args.repeat)
    t_lower = _time(lower_scan, docs, args.repeat)
    n_rec = sum(
        len(e.rankings) + len(e.indicators)
        for e in (extract(document_from_text(d, lang="vi")) for d in docs[:20])
    )
    print(
        f"corpus: {len(docs)} documents, {mb:.2f} MB of text, {args.sentences} lines each "
        f"({n_rec / 20:.1f} records per document)"
    )
    print(
        f"extract (document_from_text + extract): {len(docs) / t_full:8.1f} docs/s  {mb / t_full:6.2f} MB/s"
    )
    print(
        f"baseline split_sentences only:          {len(docs) / t_split:8.1f} docs/s  {mb / t_split:6.2f} MB/s"
        f"  (extract is {t_full / t_split:.0f}x slower)"
    )
    print(
        f"baseline str.lower() + 2 substring scans:{len(docs) / t_lower:8.1f} docs/s  {mb / t_lower:6.2f} MB/s"
        f"  (extract is {t_full / t_lower:.0f}x slower)"
    )


if __name__ == "__main__":
    main()
