#!/usr/bin/env python3
"""Cuts the sync test fixtures from real records in /work/shared/data: OAI-PMH ListRecords pages
with resumption tokens and arXiv API Atom pages built from the arXiv cs listing of 2025-03-19, and
Hugging Face daily_papers answers cut from the 2024-05-27 response. Run it to regenerate them:
    python3 src/sync/testdata/make_fixtures.py /work/shared/data
"""
import json
import pathlib
import sys
from xml.sax.saxutils import escape

HERE = pathlib.Path(__file__).resolve().parent
DATA = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")

listing = [json.loads(line) for line in (DATA / "arxiv-daily-cs/2025-03-19.jsonl").open()][:24]


def oai_record(paper):
    authors = "".join(
        "<author><keyname>%s</keyname><forenames>%s</forenames></author>"
        % (escape(name.split()[-1]), escape(" ".join(name.split()[:-1])))
        for name in paper["authors"])
    return f"""<record>
<header>
 <identifier>oai:arXiv.org:{paper['id']}</identifier>
 <datestamp>2025-03-19</datestamp>
 <setSpec>cs</setSpec>
</header>
<metadata>
 <arXiv xmlns="http://arxiv.org/OAI/arXiv/">
 <id>{paper['id']}</id>
 <created>2025-03-17</created>
 <authors>{authors}</authors>
 <title>{escape(paper['title'])}</title>
 <categories>{' '.join(paper['categories'])}</categories>
 <abstract>{escape(paper['summary'])}</abstract>
 </arXiv>
</metadata>
</record>
"""


def oai_page(papers, token, cursor):
    token_element = (
        f'<resumptionToken cursor="{cursor}" completeListSize="{len(listing)}">{token}</resumptionToken>'
        if token else f'<resumptionToken cursor="{cursor}" completeListSize="{len(listing)}"/>')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2025-03-20T08:00:00Z</responseDate>
<request verb="ListRecords">http://export.arxiv.org/oai2</request>
<ListRecords>
{''.join(oai_record(p) for p in papers)}{token_element}
</ListRecords>
</OAI-PMH>
"""


def atom_entry(paper, version=1, updated="2025-03-18", title=None):
    authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in paper["authors"])
    categories = "".join(f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>'
                         for c in paper["categories"])
    return f"""<entry>
<id>http://arxiv.org/abs/{paper['id']}v{version}</id>
<updated>{updated}T17:59:59Z</updated>
<published>2025-03-17T17:59:59Z</published>
<title>{escape(title or paper['title'])}</title>
<summary>{escape(paper['summary'])}</summary>
{authors}
<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{paper['categories'][0]}" scheme="http://arxiv.org/schemas/atom"/>
{categories}
</entry>
"""


def atom_page(entries, total, start):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">
<title type="html">ArXiv Query: search_query=cat:cs.CL</title>
<id>http://arxiv.org/api/sync-fixture</id>
<updated>2025-03-20T00:00:00-04:00</updated>
<opensearch:totalResults>{total}</opensearch:totalResults>
<opensearch:startIndex>{start}</opensearch:startIndex>
<opensearch:itemsPerPage>{len(entries)}</opensearch:itemsPerPage>
{''.join(entries)}</feed>
"""


def write(name, text):
    (HERE / name).write_text(text, encoding="utf-8")


# OAI-PMH: 24 records on three pages of 8, linked by resumption tokens.
write("oai-page-1.xml", oai_page(listing[0:8], "6960524|1001", 0))
write("oai-page-2.xml", oai_page(listing[8:16], "6960524|2001", 8))
write("oai-page-3.xml", oai_page(listing[16:24], "", 16))
write("oai-ids.txt", "".join(p["id"] + "\n" for p in listing))

# Atom API: the first 10 records, two pages of 5; then a page where the first paper has version 2.
api = listing[:10]
write("api-page-1.xml", atom_page([atom_entry(p) for p in api[0:5]], 10, 0))
write("api-page-2.xml", atom_page([atom_entry(p) for p in api[5:10]], 10, 5))
write("api-new-version.xml", atom_page(
    [atom_entry(api[0], version=2, updated="2025-03-21",
                title=api[0]["title"] + " (extended version)")], 1, 0))
# The answer to id_list= for two papers people submitted: records 11 and 12 of the listing.
write("api-fetch.xml", atom_page([atom_entry(p) for p in listing[10:12]], 2, 0))

# Hugging Face: the first 3 papers of 2024-05-27, then the same day later with more upvotes.
hf = json.loads((DATA / "hf-daily-papers/2024-05-27.json").read_text())[:3]
write("hf-2024-05-27.json", json.dumps(hf, indent=1, ensure_ascii=False) + "\n")
for entry in hf:
    entry["paper"]["upvotes"] += 7
write("hf-2024-05-27-later.json", json.dumps(hf, indent=1, ensure_ascii=False) + "\n")
