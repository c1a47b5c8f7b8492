#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Credentials and several appliances:
#  - wrong password, unknown ACL user, no password for a protected Redis:
#    a clear error at start, exit 2; the right ACL user works;
#  - two appliances with different ids, each replaying half of the traffic
#    into one Redis, add up to one appliance replaying the whole.
. "$(dirname "$0")/lib.sh"

"$TEITEN_GEN" --sensor a=192.0.2.0/24+2001:db8:1::/64 --sensor b=198.51.100.0/24 \
    --packets 40000 --seed 31 --start 1711929600 --span 7200 \
    --out "$TT_TMP/h1.pcap" --truth "$TT_TMP/h1.truth" >/dev/null
"$TEITEN_GEN" --sensor a=192.0.2.0/24+2001:db8:1::/64 --sensor b=198.51.100.0/24 \
    --packets 40000 --seed 32 --start 1711933200 --span 7200 \
    --out "$TT_TMP/h2.pcap" --truth "$TT_TMP/h2.truth" >/dev/null
SENSORS=("a:0:192.0.2.0/24, 2001:db8:1::/64" "b:0:198.51.100.0/24")

# --- credentials (users of its own, not config/redis-acl.conf's) ---
umask 077
printf 'adminpass\n' >"$TT_TMP/admin.pass"
printf 'sensorpass\n' >"$TT_TMP/sensor.pass"
printf 'wrong\n' >"$TT_TMP/wrong.pass"
umask 022
TT_REDIS_ACL=no start_redis acl --requirepass adminpass || exit 1
redis-cli -p "${REDIS_PORT[acl]}" -a adminpass --no-auth-warning ACL SETUSER teiten on \
    '>sensorpass' '~teiten:*' '+@all' >/dev/null

auth_run() {
    local name=$1 extra=$2
    TT_REDIS_ACL=no TT_REDIS_EXTRA=$extra write_config "$TT_TMP/$name.conf" "auth-$name" \
        "${SENSORS[@]}"
    run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/h1.pcap" -- \
        --config "$TT_TMP/$name.conf" --summary "$TT_TMP/$name.json"
}

auth_run wrongpass "password_file = $TT_TMP/wrong.pass"$'\n'
check "wrong password: exit 2" "$TT_RC" 2
check_grep "wrong password: says why" "$TT_ERR" 'AUTH: WRONGPASS'
auth_run nouser "user = nobody"$'\n'"password_file = $TT_TMP/sensor.pass"$'\n'
check "unknown ACL user: exit 2" "$TT_RC" 2
check_grep "unknown ACL user: names the user" "$TT_ERR" 'AUTH as nobody: WRONGPASS'
auth_run nopass ""
check "no password for a protected Redis: exit 2" "$TT_RC" 2
check_grep "no password: says why" "$TT_ERR" 'NOAUTH'
auth_run good "user = teiten"$'\n'"password_file = $TT_TMP/sensor.pass"$'\n'
check "ACL user: exit 0" "$TT_RC" 0
check "ACL user: delivered" "$(jq .redis.delivered "$TT_TMP/good.json")" true
check "ACL user: data written" "$(redis-cli -p "${REDIS_PORT[acl]}" -a adminpass \
    --no-auth-warning exists 'teiten:{all}:flushed')" 1
stop_redis acl

# --- two appliances, halves, one Redis; one appliance, the whole, another ---
start_redis whole || exit 1
write_config "$TT_TMP/whole.conf" whole "${SENSORS[@]}"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/h1.pcap,rx_pcap=$TT_TMP/h2.pcap" \
    -- --config "$TT_TMP/whole.conf" --summary "$TT_TMP/whole.json"
check "whole: exit" "$TT_RC" 0

start_redis halves || exit 1
write_config "$TT_TMP/half1.conf" half-1 "${SENSORS[@]}"
write_config "$TT_TMP/half2.conf" half-2 "${SENSORS[@]}"
timeout 600 "$TEITEN" $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/h1.pcap" -- \
    --config "$TT_TMP/half1.conf" >"$TT_TMP/half1.out" 2>&1 &
p1=$!
timeout 600 "$TEITEN" $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/h2.pcap" -- \
    --config "$TT_TMP/half2.conf" >"$TT_TMP/half2.out" 2>&1 &
p2=$!
TT_PIDS+=("$p1" "$p2")
wait "$p1"
check "half 1: exit" "$?" 0
wait "$p2"
check "half 2: exit" "$?" 0
check "halves: each appliance recorded its own flushes" \
    "$(rcli halves hkeys 'teiten:{all}:flushed' | sort | tr '\n' ' ')" "half-1 half-2 "
redis_dump whole >"$TT_TMP/whole.dump"
redis_dump halves >"$TT_TMP/halves.dump"
check "halves add up to the whole" "$(diff "$TT_TMP/whole.dump" "$TT_TMP/halves.dump" | head -5)" ""
check "the whole holds data" "$([ "$(wc -l <"$TT_TMP/whole.dump")" -gt 1000 ] && echo yes)" yes

finish
