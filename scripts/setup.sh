#!/usr/bin/env bash
# Installs what paperboy needs to build, test and run, from Debian's packages and the npm
# registry only. Idempotent: installs only what is missing, and is quiet when nothing is.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libsqlite3-dev sqlite3 zlib1g-dev libzstd-dev
  libsimdjson-dev libpugixml-dev nlohmann-json3-dev libutf8proc-dev libstemmer-dev
  libcli11-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev libssl-dev libkainjow-mustache-dev
  libgtest-dev libgmock-dev libbenchmark-dev libxapian-dev libeigen3-dev libhnswlib-dev
  libcurl4-openssl-dev libhowardhinnant-date-dev tzdata python3-aiosmtpd
  curl python3 nodejs npm bc time python3-torch libopenblas-dev
  libargon2-dev libcmark-gfm-dev chromium liblinear-dev wrk
  libpq-dev postgresql postgresql-contrib nginx libjemalloc-dev
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    # nodejs/npm may come from outside Debian on a developer machine; a working binary suffices.
    case "$package" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Browser-side packages (KaTeX for math in abstracts), pinned by package-lock.json.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
