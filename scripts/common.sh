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
