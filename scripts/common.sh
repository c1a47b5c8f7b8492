# SPDX-License-Identifier: BSD-3-Clause
# Sourced by scripts/demo and scripts/test: install what is missing, build.

TT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TT_BUILD=${TT_BUILD:-$TT_ROOT/build}

# Debian 12 packages the build, the tests and the demo need.
TT_PACKAGES=(
    ca-certificates
    gcc
    # objdump: integration-prefetch reads the built binary
    binutils
    libc6-dev
    pkg-config
    meson
    ninja-build
    python3
    dpdk
    dpdk-dev
    libdpdk-dev
    libpcap-dev
    libmaxminddb-dev
    mmdb-bin
    libmaxmind-db-writer-perl
    libhiredis-dev
    libcunit1-dev
    redis-server
    redis-tools
    jq
    # scripts/teiten-report (Debian's Python, /usr/bin/python3), its
    # Japanese labels, and the browser its test renders the HTML in
    python3-redis
    python3-matplotlib
    fonts-noto-cjk
    # /etc/services: the report's names for services it has none of its own for
    netbase
    chromium
    tcpdump
    time
    tmux
    curl
    prometheus
    # scripts/teiten-alerts forwards to it (alerts_consumer test)
    prometheus-alertmanager
    systemd
    # the reload test's network namespace and veth pair
    iproute2
)

tt_log() {
    printf '==> %s\n' "$*" >&2
}

tt_install_deps() {
    local missing=() p
    for p in "${TT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        tt_log "missing packages: ${missing[*]} (run as root, or install them)"
        return 1
    fi
    tt_log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq &&
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

tt_build() {
    if [ ! -f "$TT_BUILD/build.ninja" ]; then
        tt_log "configuring $TT_BUILD"
        meson setup "$TT_BUILD" "$TT_ROOT" >/dev/null || return 1
    fi
    tt_log "building"
    ninja -C "$TT_BUILD" >/dev/null || ninja -C "$TT_BUILD"
}

# tt_median V...: the median of the numbers given (the lower middle one of an even count)
tt_median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# tt_stats V...: "median min-max" of the numbers given (tt_median's median), to one decimal
tt_stats() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { printf "%.1f %.1f-%.1f\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# tt_bench_baseline REV DIR TARGET: the git revision REV's tree in DIR/src
# (git archive once a revision, no checkout touched) with this checkout's
# tests/bench (the benchmark programs and their meson.build, copied every
# time, so both sides run the same program), built into DIR/build; then its
# TARGET. Sets TT_BASE_REV to REV's short hash.
tt_bench_baseline() {
    local dir=$2
    TT_BASE_REV=$(git -C "$TT_ROOT" rev-parse --verify --short "$1^{commit}") || return 2
    if [ "$(cat "$dir/REV" 2>/dev/null)" != "$TT_BASE_REV" ]; then
        rm -rf "$dir"
        mkdir -p "$dir/src"
        git -C "$TT_ROOT" archive "$TT_BASE_REV" | tar -x -C "$dir/src"
        meson setup "$dir/build" "$dir/src" >/dev/null || return 1
        echo "$TT_BASE_REV" >"$dir/REV"
    fi
    cp "$TT_ROOT"/tests/bench/*.[ch] "$TT_ROOT/tests/bench/meson.build" "$dir/src/tests/bench/"
    tt_log "building the baseline $TT_BASE_REV"
    ninja -C "$dir/build" "$3" >/dev/null
}

# tt_start_redis DIR [redis-server options...]: a throwaway redis-server on
# 127.0.0.1 and a spare port, files in DIR; sets TT_REDIS_PORT and TT_REDIS_PID.
tt_start_redis() {
    local dir=$1 port attempt i
    shift
    mkdir -p "$dir"
    for attempt in $(seq 1 20); do
        port=$((20000 + (RANDOM * 7 + attempt) % 20000))
        redis-cli -p "$port" ping >/dev/null 2>&1 && continue
        redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
            --appendonly no --logfile "$dir/redis.log" "$@" &
        TT_REDIS_PID=$!
        for i in $(seq 1 100); do
            if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
                TT_REDIS_PORT=$port
                return 0
            fi
            kill -0 "$TT_REDIS_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill "$TT_REDIS_PID" 2>/dev/null
    done
    tt_log "cannot start redis-server"
    return 1
}

# The default country database: built by ip-location-db from the five RIRs'
# data (NRO, CC BY 4.0), packaged on the npm registry. Pinned, so every
# machine and every test run sees the same data; the file's SHA-256 is
# checked after unpacking.
TT_GEOIP_PACKAGE=@ip-location-db/geo-whois-asn-country-mmdb
TT_GEOIP_VERSION=2.3.2026061719
TT_GEOIP_SHA256=c5f7c0e9bd6a6ccb5a2e9634764544a0d08bd0bd8788b8aedfac87bea184c652
TT_DATA=${TT_DATA:-$TT_ROOT/data}
TT_GEOIP_DB=$TT_DATA/country.mmdb

tt_fetch_geoip() {
    local tmp sum
    if [ -f "$TT_GEOIP_DB" ] &&
        [ "$(sha256sum "$TT_GEOIP_DB" | cut -d' ' -f1)" = "$TT_GEOIP_SHA256" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        local TT_PACKAGES=(npm)
        tt_install_deps || return 1
    fi
    tt_log "fetching $TT_GEOIP_PACKAGE@$TT_GEOIP_VERSION from the npm registry"
    mkdir -p "$TT_DATA"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$TT_GEOIP_PACKAGE@$TT_GEOIP_VERSION" >/dev/null 2>&1 &&
        tar xzf ./*.tgz package/geo-whois-asn-country.mmdb package/NRO_LICENSE) || {
        rm -rf "$tmp"
        tt_log "npm pack $TT_GEOIP_PACKAGE@$TT_GEOIP_VERSION failed"
        return 1
    }
    sum=$(sha256sum "$tmp/package/geo-whois-asn-country.mmdb" | cut -d' ' -f1)
    if [ "$sum" != "$TT_GEOIP_SHA256" ]; then
        rm -rf "$tmp"
        tt_log "country database checksum $sum, expected $TT_GEOIP_SHA256"
        return 1
    fi
    mv "$tmp/package/geo-whois-asn-country.mmdb" "$TT_GEOIP_DB"
    mv "$tmp/package/NRO_LICENSE" "$TT_DATA/country.mmdb.LICENSE"
    rm -rf "$tmp"
}
