# SPDX-License-Identifier: BSD-3-Clause
# Sourced by every tests/integration/*_test.sh. Runs the real teiten binary on
# net_pcap vdevs without hugepages; each run gets its own --file-prefix.
# Environment (meson sets it): TEITEN, TEITEN_GEN, TT_SOURCE_ROOT.
set -u

TT_SOURCE_ROOT=${TT_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TEITEN=${TEITEN:-$TT_SOURCE_ROOT/build/app/teiten/teiten}
TEITEN_GEN=${TEITEN_GEN:-$TT_SOURCE_ROOT/build/app/teiten-gen/teiten-gen}
# The country database scripts/test fetches (scripts/common.sh).
TT_GEOIP_DB=${TT_GEOIP_DB:-$TT_SOURCE_ROOT/data/country.mmdb}
# The real captures of ../shared/testdata/real (see its NOTICE.md).
TT_REAL=${TT_REAL:-$TT_SOURCE_ROOT/../shared/testdata/real}

TT_TMP=$(mktemp -d /tmp/tt_it.XXXXXX)
# in_netns: the namespace this process made (cleanup deletes it), and in the
# test it runs, the namespace it runs in and the two ends of its veth pair.
TT_NETNS_OWNED=
TT_NETNS_CHILD=
TT_NETNS=${TT_NETNS:-}
TT_NETNS_RX=rx0
TT_NETNS_TX=tx0
TT_PIDS=()
TT_PASSED=0
TT_FAILED=0
TT_RUN=0

cleanup() {
    local pid child
    # A pid in TT_PIDS may be a `timeout` wrapper's: SIGKILL to the wrapper
    # alone would leave its appliance polling, an orphan, so its children
    # (/proc, no extra package) go first.
    for pid in "${TT_PIDS[@]}"; do
        for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
            kill -9 "$child" 2>/dev/null
        done
        kill -9 "$pid" 2>/dev/null
    done
    # TT_KEEP=DIR keeps what the test left, to look into a failure
    [ -n "${TT_KEEP:-}" ] && mkdir -p "$TT_KEEP" && cp -a "$TT_TMP/." "$TT_KEEP/"
    rm -rf /var/run/dpdk/it_$$_* "$TT_TMP"
    if [ -n "$TT_NETNS_OWNED" ]; then
        netns_delete
    fi
}
trap cleanup EXIT
# A test ended from outside (meson's timeout sends SIGTERM) still stops what
# it started: an appliance on a looped file would otherwise poll forever.
trap 'exit 143' TERM
trap 'exit 130' INT

# Meson's exit code for "skipped".
skip() {
    echo "SKIP: $*"
    exit 77
}

need_geoip() {
    [ -f "$TT_GEOIP_DB" ] || skip "no country database at $TT_GEOIP_DB (scripts/test fetches it)"
}

need_real_captures() {
    [ -f "$TT_REAL/mirai_seqdst_2pkts.pcap" ] ||
        skip "the real captures are not at $TT_REAL (set TT_REAL)"
}

# EAL options for one run: no hugepages, no PCI, a file prefix of its own.
# Called as $(eal_opts), in a subshell: the prefix cannot come from a counter
# here, so it is random; cleanup removes every it_<pid>_* runtime folder.
eal_opts() {
    echo "--no-huge -m ${TT_MEM:-256} --no-pci --file-prefix=it_$$_$RANDOM$RANDOM" \
        "--log-level=lib.eal:error"
}

# teiten EAL-ARGS... -- APP-ARGS...: runs in the foreground, output in
# $TT_TMP/out.N and err.N; sets TT_RC, TT_OUT and TT_ERR. The timeout only
# ends a run that hangs: a replay on a loaded two-core host has taken over
# 120 s, so it is far above any run's length (exit 124 when it fires).
run_teiten() {
    TT_RUN=$((TT_RUN + 1))
    local out="$TT_TMP/out.$TT_RUN" err="$TT_TMP/err.$TT_RUN"
    timeout "${TT_RUN_TIMEOUT:-600}" "$TEITEN" "$@" >"$out" 2>"$err"
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
# TT_REDIS_PORT is set (start_redis sets it), or TT_REDIS_CLUSTER names the
# seed nodes of a cluster. TT_FLUSH_MS and TT_REDIS_EXTRA (lines for the
# [redis] section) adjust it.
write_config() {
    local file=$1 id=$2 s name port prefixes
    shift 2
    {
        printf '[appliance]\nid = %s\nhome_country = %s\nclock = auto\n' "$id" \
            "${TT_HOME:-JP}"
        [ -n "${TT_WITH_GEOIP:-}" ] && printf 'geoip_db = %s\n' "$TT_GEOIP_DB"
        if [ -n "${TT_REDIS_CLUSTER:-}" ]; then
            printf '[redis]\ncluster = %s\nflush_interval_ms = %s\n%s' \
                "$TT_REDIS_CLUSTER" "${TT_FLUSH_MS:-100}" "${TT_REDIS_EXTRA:-}"
        elif [ -n "${TT_REDIS_PORT:-}" ]; then
            printf '[redis]\nhost = 127.0.0.1\nport = %s\nflush_interval_ms = %s\n%s' \
                "$TT_REDIS_PORT" "${TT_FLUSH_MS:-100}" "${TT_REDIS_EXTRA:-}"
        fi
        if [ -n "${TT_REDIS_CLUSTER:-}${TT_REDIS_PORT:-}" ]; then
            # the least-privilege user of config/redis-acl.conf (start_redis)
            [ "${TT_REDIS_ACL:-yes}" = yes ] &&
                printf 'user = teiten\npassword_file = %s\n' "$TT_TMP/teiten.pass"
        else
            printf '[redis]\nenabled = no\n'
        fi
        for s in "$@"; do
            IFS=: read -r name port prefixes <<<"$s"
            printf '[sensor %s]\nport = %s\nprefixes = %s\n' "$name" "$port" "$prefixes"
        done
    } >"$file"
}

# --- Redis ---------------------------------------------------------------

declare -A REDIS_PORT REDIS_PID REDIS_ARGS

# The password of the ACL user teiten (config/redis-acl.conf) in every test
# Redis; the default user stays open for redis-cli's checks.
TT_REDIS_PASS=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && printf '%s\n' "$TT_REDIS_PASS" >"$TT_TMP/teiten.pass")

# write_acl FILE [RULE-EDIT]: default user open, teiten as shipped; a sed
# expression edits teiten's line (a test of a missing rule).
write_acl() {
    local hash
    hash=$(printf %s "$TT_REDIS_PASS" | sha256sum | cut -d' ' -f1)
    {
        echo 'user default on nopass ~* &* +@all'
        grep '^user teiten ' "$TT_SOURCE_ROOT/config/redis-acl.conf" |
            sed -e "s/#HASH/#$hash/" -e "${2:-}"
    } >"$1"
}

# port_candidate ATTEMPT: a TCP port for a throwaway server on 127.0.0.1,
# from 20000 up to the kernel's ephemeral range (ip_local_port_range). Any
# outgoing connection may take a port of that range at any moment, and a
# server restarted on its port (the Redis outages, Alertmanager coming up
# late) cannot pick another. A CI run's shed case found no Redis on 36340
# after restarting it there, and its appliance waited until its timeout.
port_candidate() {
    local low=32768
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
    [ "$low" -gt 21000 ] 2>/dev/null || low=32768
    echo $((20000 + (RANDOM * 7 + $1) % (low - 20000)))
}

# start_redis NAME [redis-server options...]: a throwaway redis-server on
# 127.0.0.1 and a spare port, its files in $TT_TMP/redis-NAME, with the ACL
# of config/redis-acl.conf (TT_REDIS_ACL=no: none); sets TT_REDIS_PORT.
# restart_redis NAME starts it again on the same port and dir.
start_redis() {
    local name=$1 port attempt dir=$TT_TMP/redis-$1
    shift
    REDIS_ARGS[$name]="$*"
    if [ "${TT_REDIS_ACL:-yes}" = yes ]; then
        mkdir -p "$dir"
        [ -f "$dir/users.acl" ] || write_acl "$dir/users.acl"
        REDIS_ARGS[$name]="--aclfile $dir/users.acl $*"
    fi
    for attempt in $(seq 1 20); do
        port=$(port_candidate "$attempt")
        redis-cli -p "$port" ping >/dev/null 2>&1 && continue
        REDIS_PORT[$name]=$port
        if restart_redis "$name"; then
            TT_REDIS_PORT=$port
            return 0
        fi
    done
    echo "cannot start redis-server" >&2
    return 1
}

restart_redis() {
    local name=$1 dir=$TT_TMP/redis-$1 port=${REDIS_PORT[$1]} i
    mkdir -p "$dir"
    # shellcheck disable=SC2086
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
        --appendonly no --logfile "$dir/log" ${REDIS_ARGS[$name]} &
    REDIS_PID[$name]=$!
    TT_PIDS+=("$!")
    for i in $(seq 1 100); do
        redis-cli -p "$port" ping 2>&1 | grep -q -e PONG -e NOAUTH && return 0
        kill -0 "${REDIS_PID[$name]}" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# wait_for TIMEOUT-SECONDS COMMAND...: until the command succeeds (the
# deadline is wall time, however long each try takes).
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

stop_redis() {
    kill "${REDIS_PID[$1]}" 2>/dev/null
    wait "${REDIS_PID[$1]}" 2>/dev/null
}

rcli() {
    local name=$1
    shift
    redis-cli -p "${REDIS_PORT[$name]}" "$@"
}

# telemetry PREFIX COMMAND JQ: a field of the reply to COMMAND of the
# appliance with --file-prefix PREFIX (dpdk-telemetry.py exits 0 even when it
# cannot connect: an empty answer is no answer).
telemetry() {
    echo "$2" | dpdk-telemetry.py -f "$1" 2>/dev/null |
        jq -r --arg c "${2%%,*}" ".[\$c] | $3" 2>/dev/null
}

# flushed_seen NAME: one appliance's flush has committed to {all} in Redis NAME
flushed_seen() {
    [ "$(rcli "$1" hlen 'teiten:{all}:flushed' 2>/dev/null)" = 1 ]
}

# redis_dump NAME: every schema key's content, sorted (see redis_dump.lua).
redis_dump() {
    rcli "$1" --raw --eval "$(dirname "${BASH_SOURCE[0]}")/redis_dump.lua" | LC_ALL=C sort
}

# redis_scopes NAME KIND: the summary's scopes rebuilt from KIND buckets.
redis_scopes() {
    rcli "$1" --raw --eval "$(dirname "${BASH_SOURCE[0]}")/redis_scopes.lua" , teiten "$2"
}

# redis_all_pkts NAME KIND: the all scope's packets in Redis NAME's KIND buckets
redis_all_pkts() {
    redis_scopes "$1" "$2" | jq '.scopes.all.totals.pkts // 0'
}

# compare_redis SUMMARY REDIS-SCOPES-JSON: differences, one per line.
compare_redis() {
    if ! jq -e .scopes "$1" >/dev/null 2>&1 || ! jq -e .scopes "$2" >/dev/null 2>&1; then
        echo "no scopes to compare in $1 or $2"
        return
    fi
    jq -rn --slurpfile s "$1" --slurpfile r "$2" '
        ($s[0].scopes) as $s | ($r[0].scopes) as $r |
        $s | to_entries[] | .key as $sc | .value | to_entries[] | .key as $m |
        .value as $v |
        if ($v | type) == "object" then
            ($v + ($r[$sc][$m] // {})) | keys[] as $k |
            select((($v[$k]) // 0) != (($r[$sc][$m][$k]) // 0)) |
            "\($sc) \($m) \($k): summary \($v[$k] // 0), redis \($r[$sc][$m][$k] // 0)"
        else
            select($v != (($r[$sc][$m]) // 0)) |
            "\($sc) \($m): summary \($v), redis \($r[$sc][$m] // 0)"
        end'
}

# --- a live port in a network namespace -----------------------------------

# in_netns NAME SCRIPT [ARGS...]: runs SCRIPT (a test) inside a network
# namespace of its own, NAME, made here and deleted when this shell exits,
# and exits with its status. The namespace holds a veth pair, both ends up:
# $TT_NETNS_RX, where the appliance listens, and $TT_NETNS_TX, where the
# test sends; IPv6 is off on both, and neither has an address, so the kernel
# sends nothing on them of its own: what arrives is what the test sent. Its
# loopback is up, so the test's redis-server and telemetry work as outside.
# SCRIPT finds the namespace's name in TT_NETNS. Root only.
in_netns() {
    local ns=$1 rc
    shift
    [ "$(id -u)" = 0 ] || skip "a network namespace needs root"
    command -v ip >/dev/null || skip "ip(8) is not installed (iproute2)"
    if ! ip netns add "$ns"; then
        echo "FAIL cannot create the network namespace $ns"
        exit 1
    fi
    TT_NETNS_OWNED=$ns
    if ! ip -n "$ns" link set lo up ||
            ! ip -n "$ns" link add "$TT_NETNS_RX" type veth peer name "$TT_NETNS_TX" ||
            ! ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$TT_NETNS_RX.disable_ipv6=1" \
                "net.ipv6.conf.$TT_NETNS_TX.disable_ipv6=1" ||
            ! ip -n "$ns" link set "$TT_NETNS_RX" up ||
            ! ip -n "$ns" link set "$TT_NETNS_TX" up; then
        echo "FAIL cannot set up the veth pair in $ns"
        exit 1
    fi
    TT_NETNS=$ns ip netns exec "$ns" "$BASH" "$@" &
    TT_NETNS_CHILD=$!
    wait "$TT_NETNS_CHILD"
    rc=$?
    TT_NETNS_CHILD=
    exit "$rc"
}

# The namespace goes with everything in it. The test in it is told first
# (SIGTERM: its own cleanup stops what it started); whatever is left in the
# namespace after a while is what it started too, and is killed by its pid.
netns_delete() {
    local pid
    if [ -n "$TT_NETNS_CHILD" ]; then
        kill -TERM "$TT_NETNS_CHILD" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$TT_NETNS_CHILD" 2>/dev/null || break
            sleep 0.1
        done
    fi
    for pid in $(ip netns pids "$TT_NETNS_OWNED" 2>/dev/null); do
        kill -9 "$pid" 2>/dev/null
    done
    ip netns del "$TT_NETNS_OWNED" 2>/dev/null
    TT_NETNS_OWNED=
}
