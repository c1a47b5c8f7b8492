# SPDX-License-Identifier: BSD-3-Clause
# Sourced by scripts/demo and scripts/test: install what is missing, build.

TT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TT_BUILD=${TT_BUILD:-$TT_ROOT/build}

# Debian 12 packages the build, the tests and the demo need.
TT_PACKAGES=(
    ca-certificates
    gcc
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
    libhiredis-dev
    libcunit1-dev
    redis-server
    redis-tools
    jq
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

# tt_start_redis DIR: a throwaway redis-server on 127.0.0.1 and a spare
# port, files in DIR; sets TT_REDIS_PORT and TT_REDIS_PID.
tt_start_redis() {
    local dir=$1 port attempt i
    mkdir -p "$dir"
    for attempt in $(seq 1 20); do
        port=$((20000 + (RANDOM * 7 + attempt) % 20000))
        redis-cli -p "$port" ping >/dev/null 2>&1 && continue
        redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
            --appendonly no --logfile "$dir/redis.log" &
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
