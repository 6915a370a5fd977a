#!/usr/bin/env python3
"""Times how long a paper stored through one node takes to become searchable on the nodes.

Each run writes one paper with a word no other paper has, stores it with `paperboy ingest
--no-index` from node A's data folder (the way node A's own sync or an import on that machine
writes: through the shared store, leaving the index to the node's follower), and polls
/api/search on both nodes every 10 ms until the paper is found. Runs start at random moments
(a pause of 0-1 s between them), so they sample every phase of the nodes' timers (the
follower's once-a-second fallback poll; the web's look for a new index every 100 ms); the
follower itself syncs as soon as PostgreSQL delivers the commit's NOTIFY.
Prints the times per run and p50/max, from the ingest's start and from its exit (the commit).
"""
import argparse
import json
import random
import statistics
import subprocess
import sys
import time
import urllib.request


def found(base, word):
    with urllib.request.urlopen(f"{base}/api/search?q={word}", timeout=10) as answer:
        return json.load(answer)["total"] == 1


def word_for(run, rng):
    # Letters only, so that the tokenizer keeps it as one word.
    return "propagation" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(8)) + \
        "".join("abcdefghij"[int(d)] for d in str(run))


def paper(run, word, day):
    return {"arxiv_id": "2612.%05d" % (run + 1), "version": 1,
            "title": f"Propagation probe number {run}",
            "abstract": f"A probe paper carrying the word {word} to time the follower.",
            "authors": ["Grace Hopper"], "categories": ["cs.DC"],
            "published": day, "feed_day": day, "upvotes": 1}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paperboy", required=True)
    parser.add_argument("--data", required=True, help="node A's data folder")
    parser.add_argument("--store", required=True, help="the PostgreSQL URL")
    parser.add_argument("--node-a", required=True, help="node A's base URL")
    parser.add_argument("--node-b", required=True, help="node B's base URL")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--work", required=True, help="a folder for the probe files")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    from_start = {"A": [], "B": []}
    from_commit = {"A": [], "B": []}
    print("| run | ingest ms | node A ms after commit | node B ms after commit |")
    print("|---:|---:|---:|---:|")
    for run in range(args.runs):
        time.sleep(rng.uniform(0, 1))
        word = word_for(run, rng)
        probe = f"{args.work}/probe-{run}.jsonl"
        with open(probe, "w", encoding="utf-8") as out:
            out.write(json.dumps(paper(run, word, day)) + "\n")
        started = time.monotonic()
        subprocess.run([args.paperboy, "-q", "--data", args.data, "--store", args.store,
                        "ingest", "--no-index", probe], check=True, stdout=subprocess.DEVNULL)
        committed = time.monotonic()
        pending = {"A": args.node_a, "B": args.node_b}
        while pending:
            now = time.monotonic()
            if now - committed > 30:
                sys.exit(f"run {run}: {word} not searchable on {sorted(pending)} after 30 s")
            for name, base in list(pending.items()):
                if found(base, word):
                    seen = time.monotonic()
                    from_start[name].append((seen - started) * 1000)
                    from_commit[name].append((seen - committed) * 1000)
                    del pending[name]
            time.sleep(0.01)
        print(f"| {run + 1} | {(committed - started) * 1000:.0f} | {from_commit['A'][-1]:.0f} | "
              f"{from_commit['B'][-1]:.0f} |")
    print()
    print("| node | p50 ms after commit | max ms after commit | p50 ms after ingest start | max ms after ingest start |")
    print("|---|---:|---:|---:|---:|")
    for name in ("A", "B"):
        print(f"| {name} | {statistics.median(from_commit[name]):.0f} | {max(from_commit[name]):.0f} | "
              f"{statistics.median(from_start[name]):.0f} | {max(from_start[name]):.0f} |")
    print(f"\n{args.runs} runs; p90 after commit on node B: {percentile(from_commit['B'], 0.9):.0f} ms")


if __name__ == "__main__":
    main()
