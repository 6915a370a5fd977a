#!/usr/bin/env python3
"""Turns a corpus made by `search_bench generate` (one JSON object a line: id, day as days since
1970-01-01, title, abstract, authors, categories, upvotes) into paperboy canonical JSON Lines
(docs/formats.md), for the web benchmark's large store.

Each record gets an arXiv id of its month (YYMM.NNNNN, numbered in file order) and its day as
the published date. One record in FEED_EVERY enters the daily feed on that day with its upvotes,
about 50 papers a feed day at 1M records, as many as the real Hugging Face feed holds; the
others are archive papers: searchable, with their own pages, but in no feed.

    canonical_corpus.py CORPUS.jsonl [FEED_EVERY] > canonical.jsonl
"""
import datetime
import json
import sys

EPOCH = datetime.date(1970, 1, 1)


def main():
    source = sys.argv[1]
    feed_every = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    numbers = {}
    out = sys.stdout
    with open(source, encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            record = json.loads(line)
            day = EPOCH + datetime.timedelta(days=record["day"])
            month = day.strftime("%y%m")
            numbers[month] = numbers.get(month, 0) + 1
            paper = {
                "arxiv_id": f"{month}.{numbers[month]:05d}",
                "version": 1,
                "title": record["title"],
                "abstract": record["abstract"],
                "authors": record["authors"],
                "categories": record["categories"],
                "published": day.isoformat(),
            }
            if index % feed_every == 0:
                paper["feed_day"] = day.isoformat()
                paper["upvotes"] = record["upvotes"]
            out.write(json.dumps(paper, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
