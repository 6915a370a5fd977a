#!/usr/bin/env python3
"""Writes an arXiv metadata snapshot (arxiv-metadata-oai-snapshot.json format) of N records.

Field lengths and contents follow the real data: titles, abstracts, author lists, categories and
comments are drawn half from the real arXiv listing records in shared/data/arxiv-daily-cs (59k recent
cs papers, longer than average) and half from the 200-record snapshot sample (older, shorter), which
gives about 1.7 KB a record, the full snapshot's average (about 4.6 GB for 2.7M records),
with arXiv's hard line breaks re-inserted as in the snapshot; ids, versions, dates, DOIs, journal
references and licences follow the snapshot sample's shapes. Deterministic for a given --seed.
"""
import argparse
import glob
import json
import os
import random
import sys
import textwrap

LICENCES = [None, None, "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
            "http://creativecommons.org/licenses/by/4.0/",
            "http://creativecommons.org/licenses/by-nc-sa/4.0/",
            "http://creativecommons.org/publicdomain/zero/1.0/"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def load_pool(data_dir, limit):
    pool, seen = [], set()
    for path in sorted(glob.glob(os.path.join(data_dir, "arxiv-daily-cs", "*.jsonl"))):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record["id"] in seen:
                    continue
                seen.add(record["id"])
                pool.append(record)
                if len(pool) >= limit:
                    return pool
    return pool


def load_snapshot_pool(data_dir):
    pool = []
    path = os.path.join(data_dir, "arxiv-snapshot-sample", "arxiv-metadata-oai-snapshot.json")
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            pool.append({"title": record["title"], "summary": record["abstract"],
                         "authors": [" ".join(p for p in (a[1], a[0]) if p) for a in record["authors_parsed"]],
                         "categories": record["categories"].split(), "comment": record["comments"] or ""})
    return pool


def wrap(text, indent=""):
    # The snapshot keeps arXiv's hard line breaks: lines of about 80 characters.
    flat = " ".join(text.split())
    return "\n".join(textwrap.wrap(flat, 78, initial_indent=indent, subsequent_indent=indent))


def split_name(name):
    parts = name.split()
    if len(parts) == 1:
        return [parts[0], "", ""]
    return [parts[-1], " ".join(parts[:-1]), ""]


def created(rng, year, month):
    day = rng.randint(1, 28)
    weekday = DAYS[(year * 365 + month * 31 + day) % 7]
    return "%s, %d %s %d %02d:%02d:%02d GMT" % (weekday, day, MONTHS[month - 1], year,
                                                 rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
    parser.add_argument("output")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    pool = load_pool(args.data, 60000)
    older = load_snapshot_pool(args.data)
    if not pool or not older:
        sys.exit("no arxiv-daily-cs or snapshot-sample records under " + args.data)
    with open(args.output, "w", encoding="utf-8") as out:
        for n in range(args.records):
            source = pool[rng.randrange(len(pool))] if n % 2 else older[rng.randrange(len(older))]
            year = 2015 + (n * 11 // args.records)
            month = 1 + (n // 97) % 12
            arxiv_id = "%02d%02d.%05d" % (year % 100, month, n % 100000)
            versions = [{"version": "v%d" % (v + 1), "created": created(rng, year, month)}
                        for v in range(rng.choice([1, 1, 1, 2, 2, 3]))]
            authors = source["authors"] or ["Anonymous"]
            record = {
                "id": arxiv_id,
                "submitter": authors[0],
                "authors": ", ".join(authors),
                "title": wrap(source["title"]),
                "comments": source["comment"] or None,
                "journal-ref": rng.choice([None, None, None, "Phys.Rev.D76:013009,%d" % year]),
                "doi": rng.choice([None, None, "10.%d/arXiv.%s" % (1000 + n % 9000, arxiv_id)]),
                "report-no": None,
                "categories": " ".join(source["categories"]),
                "license": rng.choice(LICENCES),
                "abstract": "  " + wrap(source["summary"]).replace("\n", "\n  ") + "\n",
                "versions": versions,
                "update_date": "%d-%02d-%02d" % (year, month, rng.randint(1, 28)),
                "authors_parsed": [split_name(a) for a in authors],
            }
            out.write(json.dumps(record, ensure_ascii=True, separators=(",", ":")))
            out.write("\n")


if __name__ == "__main__":
    main()
