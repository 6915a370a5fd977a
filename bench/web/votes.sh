#!/usr/bin/env bash
# Upvotes from many users at once: signs up N users through the web app (each gets a session),
# then wrk (2 threads, 64 connections) has them all toggle their votes on a few papers for a
# while (bench/web/votes.lua), and checks that each paper's stored count is exactly its count
# before plus the users whose vote it now holds (each user's /api/me/votes). It also compares
# the count with what wrk's answers imply (+1 for each vote added, -1 for each removed): the two
# differ by the requests still in flight when wrk stopped, which the server carried out but
# whose answers wrk never read (at most one per connection). Before wrk, web_load_client
# (bench/web/load_client.cc) sends the same votes for as long, recording each request's own
# latency: wrk's percentiles hold synthetic samples for coordinated omission.
#
#   bench/web/votes.sh [PAPERBOY_BINARY] [SECONDS] [USERS] [PAPERS]
#
# Defaults: build/web-rel/paperboy, 20 s, 200 users, 5 papers. PAPERBOY_BENCH_DATA=DIR: vote in
# that data folder (its votes change); default: a temporary folder with demo/ ingested.
# web_load_client is taken from the binary's build folder (src/web/), or PAPERBOY_BENCH_LOAD_CLIENT.
# The peer is the same server answering /healthz in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
paperboy=$(realpath "${1:-build/web-rel/paperboy}")
seconds=${2:-20}
user_count=${3:-200}
paper_count=${4:-5}
work=$(mktemp -d /tmp/paperboy-votes-bench-XXXXXX)
data=${PAPERBOY_BENCH_DATA:-$work/data}
load_client=${PAPERBOY_BENCH_LOAD_CLIENT:-$(dirname "$paperboy")/src/web/web_load_client}
[[ -x "$load_client" ]] || { echo "no $load_client: build it (ninja web_load_client) or set PAPERBOY_BENCH_LOAD_CLIENT" >&2; exit 1; }
server=""
trap 'if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

if [[ ! -f "$data/paperboy.db" ]]; then
  "$paperboy" -q --data "$data" ingest demo >/dev/null 2> "$work/ingest.log"
fi
"$paperboy" -q --data "$data" serve --port 0 --threads 64 2> "$work/serve.log" &
server=$!
for _ in $(seq 3000); do grep -q "serving .* on http" "$work/serve.log" 2>/dev/null && break; sleep 0.2; done
base=$(grep -o "http://[^ ]*" "$work/serve.log" | head -1)
[[ -n "$base" ]] || { echo "the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

# Sign-ups through the form (argon2id hashing: a few seconds for hundreds of users), then each
# session's CSRF token from /api/me; the papers are the first of the latest feed day.
python3 - "$base" "$user_count" "$paper_count" "$work" <<'PYTHON'
import http.client, json, secrets, sys, urllib.parse
base, user_count, paper_count, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
host, port = urllib.parse.urlparse(base).hostname, urllib.parse.urlparse(base).port
connection = http.client.HTTPConnection(host, port)
def call(method, path, body=None, headers={}):
    connection.request(method, path, body, headers)
    answer = connection.getresponse()
    return answer, answer.read()
run = secrets.token_hex(4)
with open(f"{work}/users.txt", "w") as users:
    for i in range(user_count):
        csrf = secrets.token_hex(32)
        form = urllib.parse.urlencode({"name": f"v{run}{i}", "email": f"v{run}{i}@example.org",
                                       "password": "correct horse battery", "csrf": csrf})
        answer, _ = call("POST", "/signup", form, {"Cookie": f"paperboy_csrf={csrf}",
                         "Content-Type": "application/x-www-form-urlencoded"})
        cookie = answer.getheader("Set-Cookie") or ""
        if answer.status != 303 or not cookie.startswith("paperboy_session="):
            sys.exit(f"sign-up {i}: status {answer.status}, no session cookie")
        session = cookie.split(";")[0].split("=", 1)[1]
        _, me = call("GET", "/api/me", headers={"Cookie": f"paperboy_session={session}"})
        users.write(f"{session} {json.loads(me)['csrf_token']}\n")
_, daily = call("GET", f"/api/daily_papers?limit={paper_count}")
with open(f"{work}/papers.txt", "w") as papers, open(f"{work}/before.txt", "w") as before:
    for entry in json.loads(daily):
        paper_id = entry["paper"]["id"]
        _, paper = call("GET", f"/api/papers/{paper_id}")
        papers.write(paper_id + "\n")
        before.write(f"{paper_id} {json.loads(paper)['upvotes']}\n")
PYTHON
echo "store: $(curl -sf "$base/healthz")"
echo "$user_count users with sessions, $(wc -l < "$work/papers.txt") papers, ${seconds}s; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

to_ms() {  # wrk prints 850.00us, 12.34ms or 1.20s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000; printf "%.1f", n }'
}
# The (user, paper) pairs in votes.lua's order, as web_load_client request lines.
awk 'NR == FNR { papers[n++] = $1; next } { users[m++] = $0 }
     END { for (i = 0; i < m * n; i++) { split(users[i % m], user, " ")
             printf "POST /api/papers/%s/upvote\tCookie: paperboy_session=%s\tX-CSRF-Token: %s\n",
                    papers[int(i / m) % n], user[1], user[2] } }' \
  "$work/papers.txt" "$work/users.txt" > "$work/vote-requests.txt"
"$load_client" --url "$base" --paths "$work/vote-requests.txt" --connections 64 --seconds "$seconds" \
  > "$work/client.txt"
sleep 1  # the server still carries out the votes that were in flight when the client stopped
while read -r paper_id; do
  echo "$paper_id $(curl -sf "$base/api/papers/$paper_id" | python3 -c 'import json, sys; print(json.load(sys.stdin)["upvotes"])')"
done < "$work/papers.txt" > "$work/between.txt"
echo /healthz > "$work/health.txt"
PATHS=$work/health.txt wrk -t2 -c64 -d"${seconds}s" --latency -s bench/web/rotate.lua "$base" > "$work/peer.txt"
USERS=$work/users.txt PAPERS=$work/papers.txt RESULTS=$work/results.txt \
  wrk -t2 -c64 -d"${seconds}s" --timeout 10s --latency -s bench/web/votes.lua "$base" > "$work/votes.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$base" "$work" <<'PYTHON'
import json, re, sys, urllib.request
base, work = sys.argv[1], sys.argv[2]
def report(name):
    text = open(f"{work}/{name}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", text).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return rps, p99, sum(map(int, errors.groups())) if errors else 0
peer, votes = report("peer"), report("votes")
client = dict(field.split("=") for field in
              open(f"{work}/client.txt").read().split("summary: ")[1].split())
before = dict(line.split() for line in open(f"{work}/before.txt"))
between = dict(line.split() for line in open(f"{work}/between.txt"))
moved, statuses = {}, {}
for line in open(f"{work}/results.txt"):
    fields = line.split()
    if fields[0] == "status":
        statuses[int(fields[1])] = int(fields[2])
    else:
        moved[fields[0]] = int(fields[1])
voters = {paper_id: 0 for paper_id in before}
for line in open(f"{work}/users.txt"):
    session = line.split()[0]
    request = urllib.request.Request(f"{base}/api/me/votes?ids={','.join(before)}",
                                     headers={"Cookie": f"paperboy_session={session}"})
    for paper_id in json.load(urllib.request.urlopen(request))["voted"]:
        voters[paper_id] += 1
exact = True
unanswered = 0
for paper_id, upvotes in before.items():
    stored = json.load(urllib.request.urlopen(f"{base}/api/papers/{paper_id}"))["upvotes"]
    expected = int(upvotes) + voters[paper_id]
    implied = int(between[paper_id]) + moved.get(paper_id, 0)
    unanswered += abs(stored - implied)
    print(f"  {paper_id}: {upvotes} before, {voters[paper_id]} of the users' votes now, "
          f"expected {expected}, stored {stored}; {between[paper_id]} before wrk, and wrk's "
          f"answers read imply {implied}")
    exact &= stored == expected
print(f"votes carried out whose answers wrk did not read (in flight at its stop): "
      f"at least {unanswered}, at most 64 expected")
answers = sum(statuses.values())
failed = answers - statuses.get(200, 0)
print(f"answers by status: {dict(sorted(statuses.items()))}")
print("| request | requests/s | p99 ms (wrk: corrected) | errors | ratio to /healthz |")
print("|---|---:|---:|---:|---:|")
print(f"| /healthz (peer) | {peer[0]:,.0f} | {peer[1]:.1f} | {peer[2]} | 1.00 |")
print(f"| POST /api/papers/ID/upvote | {votes[0]:,.0f} | {votes[1]:.1f} | {votes[2] + failed} | "
      f"{votes[0] / peer[0]:.2f} |")
print(f"| POST /api/papers/ID/upvote, web_load_client | {float(client['rps']):,.0f} | "
      f"{float(client['p99_ms']):.1f} (per request) | {client['errors']} | "
      f"{float(client['rps']) / peer[0]:.2f} |")
print(f"count exact: {'yes' if exact else 'no'}")
sys.exit(0 if exact else 1)
PYTHON
