# SPDX-License-Identifier: BSD-3-Clause
# Sourced by every tests/integration/*_test.sh. Runs the real teiten binary on
# net_pcap vdevs without hugepages; each run gets its own --file-prefix.
# Environment (meson sets it): TEITEN, TEITEN_GEN, TT_SOURCE_ROOT.
set -u

TT_SOURCE_ROOT=${TT_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TEITEN=${TEITEN:-$TT_SOURCE_ROOT/build/app/teiten/teiten}
TEITEN_GEN=${TEITEN_GEN:-$TT_SOURCE_ROOT/build/app/teiten-gen/teiten-gen}
# The real captures of ../shared/testdata/real (see its NOTICE.md).
TT_REAL=${TT_REAL:-$TT_SOURCE_ROOT/../shared/testdata/real}

TT_TMP=$(mktemp -d /tmp/tt_it.XXXXXX)
TT_PIDS=()
TT_PREFIXES=()
TT_PASSED=0
TT_FAILED=0
TT_RUN=0

cleanup() {
    local pid p
    for pid in "${TT_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null
    done
    for p in "${TT_PREFIXES[@]}"; do
        rm -rf "/var/run/dpdk/$p"
    done
    rm -rf "$TT_TMP"
}
trap cleanup EXIT

# Meson's exit code for "skipped".
skip() {
    echo "SKIP: $*"
    exit 77
}

need_real_captures() {
    [ -f "$TT_REAL/mirai_seqdst_2pkts.pcap" ] ||
        skip "the real captures are not at $TT_REAL (set TT_REAL)"
}

# EAL options for one run: no hugepages, no PCI, a unique file prefix.
eal_opts() {
    TT_RUN=$((TT_RUN + 1))
    TT_PREFIX="it_$$_$TT_RUN"
    TT_PREFIXES+=("$TT_PREFIX")
    echo "--no-huge -m 256 --no-pci --file-prefix=$TT_PREFIX --log-level=lib.eal:error"
}

# teiten EAL-ARGS... -- APP-ARGS...: runs in the foreground, output in
# $TT_TMP/out.N and err.N; sets TT_RC.
run_teiten() {
    local out="$TT_TMP/out.$TT_RUN" err="$TT_TMP/err.$TT_RUN"
    timeout 120 "$TEITEN" "$@" >"$out" 2>"$err"
    TT_RC=$?
    TT_OUT=$out
    TT_ERR=$err
}

# A value from a summary: sj FILE JQ-PATH (missing -> 0).
sj() {
    jq -r "($2) // 0" "$1"
}

check() {
    local what=$1 got=$2 want=$3
    if [ "$got" == "$want" ]; then
        TT_PASSED=$((TT_PASSED + 1))
        echo "ok   $what = $want"
    else
        TT_FAILED=$((TT_FAILED + 1))
        echo "FAIL $what: got '$got', want '$want'"
    fi
}

# check_grep WHAT FILE PATTERN: the file has a line matching the pattern.
check_grep() {
    if grep -qE -- "$3" "$2"; then
        TT_PASSED=$((TT_PASSED + 1))
        echo "ok   $1"
    else
        TT_FAILED=$((TT_FAILED + 1))
        echo "FAIL $1: no line matching '$3' in:"
        sed 's/^/     | /' "$2" | head -20
    fi
}

finish() {
    echo "checks: $TT_PASSED passed, $TT_FAILED failed"
    [ "$TT_FAILED" -eq 0 ]
}

# A config with one sensor per "name:port:prefixes" argument; no Redis unless
# TT_REDIS_PORT is set (start_redis sets it).
write_config() {
    local file=$1 id=$2 s name port prefixes
    shift 2
    {
        printf '[appliance]\nid = %s\nhome_country = JP\nclock = auto\n' "$id"
        if [ -n "${TT_REDIS_PORT:-}" ]; then
            printf '[redis]\nhost = 127.0.0.1\nport = %s\nflush_interval_ms = %s\n' \
                "$TT_REDIS_PORT" "${TT_FLUSH_MS:-100}"
        else
            printf '[redis]\nenabled = no\n'
        fi
        for s in "$@"; do
            IFS=: read -r name port prefixes <<<"$s"
            printf '[sensor %s]\nport = %s\nprefixes = %s\n' "$name" "$port" "$prefixes"
        done
    } >"$file"
}
