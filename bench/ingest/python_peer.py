#!/usr/bin/env python3
"""The peer for paperboy's ingest benchmark: what a Python script over the snapshot does
(arxiv-sanity-lite style): json.loads per line, the same fields, and with --store an upsert into
SQLite (WAL, batches of --batch records, by default paperboy's 50,000; the paper's arXiv id as
key)."""
import argparse
import json
import sqlite3


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("snapshot")
    parser.add_argument("--store", help="SQLite file to upsert into")
    parser.add_argument("--batch", type=int, default=50000, help="records per transaction")
    args = parser.parse_args()

    db = None
    if args.store:
        db = sqlite3.connect(args.store)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("""CREATE TABLE IF NOT EXISTS papers(arxiv_id TEXT PRIMARY KEY, version INT, title TEXT,
                      abstract TEXT, authors TEXT, categories TEXT, published TEXT, updated TEXT,
                      doi TEXT, comments TEXT, journal_ref TEXT, license TEXT)""")
    batch, records, rejected = [], 0, 0
    with open(args.snapshot, encoding="utf-8") as handle:
        for line in handle:
            try:
                r = json.loads(line)
                authors = json.dumps([" ".join(p for p in (a[1], a[0], a[2]) if p) for a in r["authors_parsed"]])
                versions = r["versions"]
                row = (r["id"], len(versions), " ".join(r["title"].split()), " ".join(r["abstract"].split()),
                       authors, json.dumps(r["categories"].split()), versions[0]["created"],
                       versions[-1]["created"], r["doi"], r["comments"], r["journal-ref"], r["license"])
            except (ValueError, KeyError, IndexError, TypeError):
                rejected += 1
                continue
            records += 1
            if db is not None:
                batch.append(row)
                if len(batch) >= args.batch:
                    store(db, batch)
                    batch = []
    if db is not None:
        store(db, batch)
        db.close()
    print("%d records, %d rejected" % (records, rejected))


def store(db, rows):
    db.executemany("""INSERT INTO papers VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(arxiv_id) DO UPDATE SET
                      version=excluded.version, title=excluded.title, abstract=excluded.abstract,
                      authors=excluded.authors, categories=excluded.categories, updated=excluded.updated
                      WHERE excluded.version >= papers.version""", rows)
    db.commit()


if __name__ == "__main__":
    main()
