"""Adds N active digest subscriptions with varied topics to a paperboy store, for the digest
benchmark. Topics are drawn from the store itself: authors and categories of stored papers,
and saved searches made of title words, so digests really select papers. Time zones vary, the
send hour is 0 so everyone is due when the benchmark runs, and one in ten is weekly.

usage: generate_subscribers.py STORE.db N [--seed 1]
"""
import argparse
import json
import random
import re
import sqlite3
import time

ZONES = ["UTC", "Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles",
         "Asia/Tokyo", "Asia/Shanghai", "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo"]
STOP = set("a an the of for and in on with to from by via is are using towards toward we our".split())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    db = sqlite3.connect(args.store)
    authors, categories, words = [], set(), []
    for title, author_json, category_json in db.execute(
            "SELECT title, authors, categories FROM papers WHERE feed_day IS NOT NULL"):
        authors.extend(json.loads(author_json or "[]")[:3])
        categories.update(json.loads(category_json or "[]"))
        words.extend(w for w in re.findall(r"[a-z][a-z-]{3,}", (title or "").lower())
                     if w not in STOP)
    categories = sorted(categories) or ["cs"]
    queries = [" ".join(rng.sample(words, 2)) for _ in range(500)] + rng.sample(words, 500)
    now = int(time.time())
    rows = []
    for i in range(args.count):
        topics = {"categories": rng.sample(categories, min(len(categories), rng.randint(0, 2))),
                  "authors": rng.sample(authors, rng.randint(0, 2)),
                  "queries": rng.sample(queries, rng.randint(0, 3))}
        rows.append((f"reader{i}@bench.example.org", f"Reader {i}", "active",
                     "weekly" if i % 10 == 0 else "daily", rng.choice(ZONES), 0,
                     json.dumps(topics), rng.choice([5, 10, 20]), int(rng.random() < 0.7), now,
                     now))
    db.executemany(
        "INSERT INTO subscriptions (email, name, state, frequency, time_zone, send_hour, topics, "
        "max_papers, include_trending, created_at, confirmed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows)
    db.commit()
    print(f"{args.count} subscriptions; {len(queries)} saved searches, {len(set(authors))} "
          f"authors, {len(categories)} categories to draw from")


if __name__ == "__main__":
    main()
