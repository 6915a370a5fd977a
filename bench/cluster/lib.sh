# shellcheck shell=bash disable=SC2034,SC2154  # sets and uses the sourcing script's variables
# Helpers shared by the scale-out benchmarks (sourced, not run): a PostgreSQL 15 of their own,
# paperboy nodes, nginx in front of them, and CPU accounting from /proc.
#
# The PostgreSQL server keeps the Debian defaults that matter for a fair comparison (fsync on,
# synchronous_commit on, shared_buffers 128 MB): unlike scripts/test-services.sh, whose scratch
# server runs with fsync off, it must pay for durability as SQLite does. It listens on
# 127.0.0.1:$BENCH_PG_PORT (default 54341) only, trust authentication, data under $work.

pg_bin=/usr/lib/postgresql/15/bin
bench_pg_port=${BENCH_PG_PORT:-54341}
clock_ticks=$(getconf CLK_TCK)

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start FOLDER: a fresh cluster in FOLDER/pg; sets pg_pid (the postmaster).
pg_start() {
  local folder=$1
  mkdir -p "$folder/pg"
  # mktemp's folders are private; the postgres user must reach its own inside.
  if [[ $(id -u) -eq 0 ]]; then chmod o+x "$folder" && chown postgres: "$folder/pg"; fi
  as_postgres "$pg_bin/initdb" -D "$folder/pg/data" -U postgres -A trust -E UTF8 --locale=C \
    >"$folder/pg/initdb.log" 2>&1 || { cat "$folder/pg/initdb.log" >&2; return 1; }
  cat >>"$folder/pg/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $bench_pg_port
unix_socket_directories = '$folder/pg'
max_connections = 300
EOF
  as_postgres "$pg_bin/pg_ctl" -D "$folder/pg/data" -l "$folder/pg/server.log" -w -t 60 start \
    >/dev/null || { cat "$folder/pg/server.log" >&2; return 1; }
  pg_pid=$(head -1 "$folder/pg/data/postmaster.pid")
  pg_folder=$folder/pg
}

pg_stop() {
  [[ -n ${pg_folder:-} ]] || return 0
  as_postgres "$pg_bin/pg_ctl" -D "$pg_folder/data" -m fast -w stop >/dev/null 2>&1 || true
  pg_folder=""
}

pg_sql() {  # pg_sql DATABASE SQL: one value
  as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$bench_pg_port" -U postgres -d "$1" -tAc "$2"
}

pg_create_database() {  # prints the store URL
  as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$bench_pg_port" -U postgres "$1"
  echo "postgresql://postgres@127.0.0.1:$bench_pg_port/$1"
}

# CPU ticks (user + system) a process has used, all its threads.
process_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# CPU ticks of the whole PostgreSQL server: the postmaster, the children it has reaped (its
# cutime and cstime: backends of closed connections) and the children alive now.
pg_ticks() {
  local total child
  total=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$pg_pid/stat")
  for child in $(cat "/proc/$pg_pid/task/$pg_pid/children" 2>/dev/null); do
    [[ -r /proc/$child/stat ]] && total=$((total + $(process_ticks "$child" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

ticks_to_seconds() { awk -v t="$1" -v hz="$clock_ticks" 'BEGIN { printf "%.2f", t / hz }'; }

# start_node NAME DATA_FOLDER [paperboy options before serve...]: a `paperboy serve` on a free
# port; sets node_pid and node_url once it answers.
start_node() {
  local name=$1 data=$2
  shift 2
  "$paperboy" -q --data "$data" "$@" serve --port 0 --threads "${node_threads:-64}" \
    2>"$work/$name.log" &
  node_pid=$!
  for _ in $(seq 600); do
    grep -q "serving .* on http" "$work/$name.log" 2>/dev/null && break
    kill -0 "$node_pid" 2>/dev/null || { cat "$work/$name.log" >&2; return 1; }
    sleep 0.2
  done
  node_url=$(grep -o "http://[^ ]*" "$work/$name.log" | head -1)
  started_pids+=("$node_pid")
}

# start_nginx PORT UPSTREAM_URL...: nginx (two workers, one per core) on 127.0.0.1:PORT, round
# robin over the nodes with keep-alive connections to them; sets nginx_pid (the master) and
# nginx_url.
start_nginx() {
  local port=$1
  shift
  local prefix=$work/nginx upstream="" node
  mkdir -p "$prefix/logs"
  for node in "$@"; do upstream+="    server ${node#http://} max_fails=1 fail_timeout=5s;"$'\n'; done
  cat >"$prefix/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $prefix/body;
  proxy_temp_path $prefix/proxy;
  fastcgi_temp_path $prefix/fastcgi;
  uwsgi_temp_path $prefix/uwsgi;
  scgi_temp_path $prefix/scgi;
  upstream paperboy {
$upstream    keepalive 32;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://paperboy;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_next_upstream error timeout http_502;
    }
  }
}
EOF
  /usr/sbin/nginx -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" &
  nginx_pid=$!
  started_pids+=("$nginx_pid")
  nginx_url=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -sf "$nginx_url/healthz" >/dev/null && return 0; sleep 0.2; done
  cat "$prefix/logs/error.log" >&2
  return 1
}

# CPU ticks of nginx: the master and its workers.
nginx_ticks() {
  local total child
  total=$(process_ticks "$nginx_pid")
  for child in $(cat "/proc/$nginx_pid/task/$nginx_pid/children" 2>/dev/null); do
    total=$((total + $(process_ticks "$child")))
  done
  echo "$total"
}

stop_started() {
  local pid
  for pid in "${started_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${started_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  started_pids=()
}

started_pids=()
