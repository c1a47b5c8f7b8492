#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Publishing into a Redis Cluster: six redis-server --cluster-enabled yes on
# loopback (each in a folder of its own), made three masters with a replica
# each by redis-cli --cluster create, every node with the ACL user of
# config/redis-acl.conf, as which teiten logs in with its password file. Each
# part ends equal, key for key, to the same replay into one Redis (every key
# of every master dumped with redis_dump.lua, sorted):
#  a. a replay into the cluster, its scopes spread over the three masters;
#  b. a sensor's slot moved to another master by redis-cli --cluster reshard
#     while the replay flushes into it: the publisher follows MOVED;
#  b2. the same slot held half migrated (as redis-cli does it, by hand) until
#     the publisher has met ASK and TRYAGAIN, then moved: it follows;
#  d. two appliances with different ids, each replaying half of the traffic;
#  c. (last: it leaves a node dead) the master of {all} SIGKILLed mid-replay,
#     its replica promoted: nothing lost, nothing doubled.
# And two mistakes named at start: a [redis] cluster that names a Redis that
# is no cluster node, and [redis] host naming a node of a cluster.
. "$(dirname "$0")/lib.sh"

# Sensor names picked for their slots (CRC16 of the tag, mod 16384):
# west2731 is slot 5461 and east1637 slot 10923, the first slots of the
# second and third master of redis-cli --cluster create's split (0-5460,
# 5461-10922, 10923-16383), so that reshard --cluster-slots 1 moves exactly
# one sensor's tag. {all} is slot 3894 (first master), {src} 13222 (third),
# the alerts stream 6246 (second).
W=west2731
E=east1637
W_SLOT=5461
ALL_SLOT=3894
SENSORS=("$W:0:192.0.2.0/24, 2001:db8:1::/64" "$E:0:198.51.100.0/24")

"$TEITEN_GEN" --sensor "$W=192.0.2.0/24+2001:db8:1::/64" --sensor "$E=198.51.100.0/24" \
    --packets 300000 --seed 41 --start 1711929600 --span 172800 \
    --surge "$W:tcp/21318:36000:3600:300" \
    --out "$TT_TMP/g.pcap" --truth "$TT_TMP/g.truth" >/dev/null
# 16 passes over the file (net_pcap's most queues; 4.8M packets, several
# seconds) leave time to move a slot or kill a master mid-replay
VDEV=net_pcap0
for _ in $(seq 1 16); do
    VDEV="$VDEV,rx_pcap=$TT_TMP/g.pcap"
done
"$TEITEN_GEN" --sensor "$W=192.0.2.0/24+2001:db8:1::/64" --sensor "$E=198.51.100.0/24" \
    --packets 40000 --seed 31 --start 1711929600 --span 7200 \
    --out "$TT_TMP/h1.pcap" --truth "$TT_TMP/h1.truth" >/dev/null
"$TEITEN_GEN" --sensor "$W=192.0.2.0/24+2001:db8:1::/64" --sensor "$E=198.51.100.0/24" \
    --packets 40000 --seed 32 --start 1711933200 --span 7200 \
    --out "$TT_TMP/h2.pcap" --truth "$TT_TMP/h2.truth" >/dev/null

# start_teiten NAME VDEV: in the background; pid in TEITEN_PID
start_teiten() {
    write_config "$TT_TMP/$1.conf" "$1" "${SENSORS[@]}"
    timeout 600 "$TEITEN" $(eal_opts) -l 0-1 --vdev "$2" -- \
        --config "$TT_TMP/$1.conf" --summary "$TT_TMP/$1.json" \
        >"$TT_TMP/$1.out" 2>"$TT_TMP/$1.err" &
    TEITEN_PID=$!
    TT_PIDS+=("$TEITEN_PID")
}

# --- the same replays into one Redis --------------------------------------
start_redis single || exit 1
start_teiten single "$VDEV"
wait "$TEITEN_PID"
check "one Redis: exit" "$?" 0
redis_dump single >"$TT_TMP/single.dump"
check "one Redis: holds data" "$([ "$(wc -l <"$TT_TMP/single.dump")" -gt 1000 ] && echo yes)" yes
rcli single FLUSHALL >/dev/null
start_teiten whole "net_pcap0,rx_pcap=$TT_TMP/h1.pcap,rx_pcap=$TT_TMP/h2.pcap"
wait "$TEITEN_PID"
check "one Redis, both halves: exit" "$?" 0
redis_dump single >"$TT_TMP/whole.dump"

# --- the cluster -----------------------------------------------------------
NODES=(node0 node1 node2 node3 node4 node5)

live_nodes() {
    local n
    for n in "${NODES[@]}"; do
        rcli "$n" ping >/dev/null 2>&1 && echo "$n"
    done
}

# Every live node sees the cluster ok, every replica is in sync with its
# master, and (unless a node is dead) redis-cli finds the slots agreed on.
cluster_settled() {
    local n first=
    for n in $(live_nodes); do
        rcli "$n" cluster info | grep -q '^cluster_state:ok' || return 1
        if rcli "$n" role | head -1 | grep -qx slave; then
            rcli "$n" info replication | grep -q '^master_link_status:up' || return 1
        fi
        first=${first:-$n}
    done
    [ "${1:-}" = some-dead ] ||
        redis-cli --cluster check "127.0.0.1:${REDIS_PORT[$first]}" >/dev/null 2>&1
}

# slot_owner SLOT: the id of the live master that serves it
slot_owner() {
    rcli "$(live_nodes | head -1)" cluster nodes | awk -v s="$1" '
        $3 ~ /master/ && $3 !~ /fail/ {
            for (i = 9; i <= NF; i++) {
                if ($i ~ /^\[/)
                    continue    # a slot being migrated: [slot->-id], [slot-<-id]
                n = split($i, r, "-")
                if (n == 1) r[2] = r[1]
                if (s + 0 >= r[1] + 0 && s + 0 <= r[2] + 0) print $1
            }
        }'
}

# node_of ID: the node's name in NODES
node_of() {
    local n
    for n in $(live_nodes); do
        [ "$(rcli "$n" cluster myid)" = "$1" ] && echo "$n" && return
    done
}

master_ports() {
    local n
    for n in $(live_nodes); do
        rcli "$n" role | head -1 | grep -qx master && echo "${REDIS_PORT[$n]}"
    done
}

# Every key of every master, sorted: redis_dump.lua on each master, allowed to
# read keys of its several slots (Redis >= 7.0 script flags; PFCOUNT counts as
# a write, as it may cache the count).
DUMP_LUA=$TT_TMP/cluster_dump.lua
{
    echo '#!lua flags=allow-cross-slot-keys'
    cat "$(dirname "$0")/redis_dump.lua"
} >"$DUMP_LUA"
cluster_dump() {
    local port
    # (a master without keys answers an empty line)
    for port in $(master_ports); do
        redis-cli -p "$port" --raw --eval "$DUMP_LUA"
    done | sed '/^$/d' | LC_ALL=C sort
}

cluster_flush() {
    local port
    for port in $(master_ports); do
        redis-cli -p "$port" FLUSHALL >/dev/null
    done
}

# the appliance's first flush has committed to {all}
cluster_flushed_seen() {
    [ "$(redis-cli -c -p "${REDIS_PORT[$(live_nodes | head -1)]}" \
        hlen 'teiten:{all}:flushed' 2>/dev/null)" = 1 ]
}

addrs=()
for n in "${NODES[@]}"; do
    start_redis "$n" --cluster-enabled yes --cluster-config-file nodes.conf \
        --cluster-node-timeout 2000 || exit 1
    addrs+=("127.0.0.1:${REDIS_PORT[$n]}")
done
redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
    >"$TT_TMP/create.out" 2>&1
check "cluster: created" "$?" 0
wait_for 120 cluster_settled
check "cluster: settled (state ok, replicas in sync)" "$(cluster_settled && echo yes)" yes
check "cluster: three masters" "$(master_ports | wc -l)" 3
# an operator's config names a few nodes, not all; here a replica among them
SEEDS="127.0.0.1:${REDIS_PORT[node0]}, 127.0.0.1:${REDIS_PORT[node5]}"

# a. a replay into the cluster
TT_REDIS_CLUSTER=$SEEDS start_teiten a "$VDEV"
wait "$TEITEN_PID"
check "a: exit" "$?" 0
check "a: delivered" "$(jq .redis.delivered "$TT_TMP/a.json")" true
check_grep "a: the masters were found" "$TT_TMP/a.err" 'redis cluster: 3 masters: '
cluster_dump >"$TT_TMP/a.dump"
check "a: the cluster equals one Redis" "$(diff "$TT_TMP/single.dump" "$TT_TMP/a.dump" | head -5)" ""
spread=0
for port in $(master_ports); do
    [ "$(redis-cli -p "$port" --scan --pattern 'teiten:{*}:d:*' | head -1)" != "" ] &&
        spread=$((spread + 1))
done
check "a: every master holds scopes" "$spread" 3
check "a: each scope on its slot's master" \
    "$(redis-cli -p "${REDIS_PORT[$(node_of "$(slot_owner $ALL_SLOT)")]}" \
        exists 'teiten:{all}:flushed')" 1
cluster_flush

# b. a reshard of west2731's slot while the replay flushes into it
from=$(slot_owner $W_SLOT)
to=$(slot_owner 0)
TT_REDIS_CLUSTER=$SEEDS start_teiten b "$VDEV"
wait_for 300 cluster_flushed_seen
# The appliance is frozen (SIGSTOP) during the reshard, so the rest of its
# replay meets the move however long the reshard takes on a loaded machine.
check "b: the replay was still running" "$(kill -0 "$TEITEN_PID" 2>/dev/null && echo yes)" yes
pkill -STOP -P "$TEITEN_PID"           # the appliance, under timeout(1)
redis-cli --cluster reshard "127.0.0.1:${REDIS_PORT[node0]}" --cluster-from "$from" \
    --cluster-to "$to" --cluster-slots 1 --cluster-yes >"$TT_TMP/reshard.out" 2>&1
check "b: reshard done" "$?" 0
pkill -CONT -P "$TEITEN_PID"
check "b: slot $W_SLOT ({$W}) has moved" "$(slot_owner $W_SLOT)" "$to"
wait "$TEITEN_PID"
check "b: exit" "$?" 0
check "b: delivered" "$(jq .redis.delivered "$TT_TMP/b.json")" true
redirects=$(jq .redis.redirects "$TT_TMP/b.json")
check "b: the publisher followed the move ($redirects redirects)" \
    "$([ "$redirects" -gt 0 ] && echo yes)" yes
check "b: {$W} is on its new master" \
    "$(redis-cli -p "${REDIS_PORT[$(node_of "$to")]}" exists "teiten:{$W}:flushed")" 1
wait_for 60 cluster_settled
cluster_dump >"$TT_TMP/b.dump"
check "b: a slot moved mid-replay: equal to one Redis" \
    "$(diff "$TT_TMP/single.dump" "$TT_TMP/b.dump" | head -5)" ""
cluster_flush

# b2. the same slot held mid-migration, moved by hand as redis-cli moves it:
# every key but {west2731}'s flushed record on the importing node, so the
# old master answers ASK for the sensor's keys and the importing node
# TRYAGAIN (a transaction of several keys, not all there), until the
# publisher has met both; then the migration ends and it follows MOVED
migrate_keys() {   # migrate_keys SRC DST-PORT [KEEP]: every key of the slot but KEEP
    local keys
    while :; do
        mapfile -t keys < <(rcli "$1" cluster getkeysinslot $W_SLOT 100 | grep -vxF "${3:-}")
        [ ${#keys[@]} -eq 0 ] && return 0
        rcli "$1" migrate 127.0.0.1 "$2" "" 0 5000 keys "${keys[@]}" >/dev/null || return 1
    done
}
src=$(node_of "$to")
dst=$(node_of "$from")
TT_REDIS_CLUSTER=$SEEDS start_teiten b2 "$VDEV"
wait_for 300 cluster_flushed_seen
rcli "$dst" cluster setslot $W_SLOT importing "$to" >/dev/null
rcli "$src" cluster setslot $W_SLOT migrating "$from" >/dev/null
migrate_keys "$src" "${REDIS_PORT[$dst]}" "teiten:{$W}:flushed"
wait_for 300 grep -q 'refused [A-Z]* for {'"$W"'}: TRYAGAIN' "$TT_TMP/b2.err"
check_grep "b2: the importing node refused a transaction of keys still moving" \
    "$TT_TMP/b2.err" 'refused [A-Z]+ for \{'"$W"'\}: TRYAGAIN.*retrying with back-off'
check "b2: the replay was still running" "$(kill -0 "$TEITEN_PID" 2>/dev/null && echo yes)" yes
migrate_keys "$src" "${REDIS_PORT[$dst]}"
# the importing node first, as redis-cli does, then the others
for n in "$dst" $(live_nodes); do
    rcli "$n" role | head -1 | grep -qx master &&
        rcli "$n" cluster setslot $W_SLOT node "$from" >/dev/null
done
wait "$TEITEN_PID"
check "b2: exit" "$?" 0
check "b2: delivered" "$(jq .redis.delivered "$TT_TMP/b2.json")" true
check "b2: redirects followed (ASK, then MOVED): more than one" \
    "$(jq '.redis.redirects > 1' "$TT_TMP/b2.json")" true
check_grep "b2: writes went on after the migration" "$TT_TMP/b2.err" \
    'redis takes writes again after'
wait_for 60 cluster_settled
cluster_dump >"$TT_TMP/b2.dump"
check "b2: a slot held mid-migration: equal to one Redis" \
    "$(diff "$TT_TMP/single.dump" "$TT_TMP/b2.dump" | head -5)" ""
cluster_flush

# d. two appliances, halves, into the cluster
TT_REDIS_CLUSTER=$SEEDS start_teiten half-1 "net_pcap0,rx_pcap=$TT_TMP/h1.pcap"
p1=$TEITEN_PID
TT_REDIS_CLUSTER=$SEEDS start_teiten half-2 "net_pcap0,rx_pcap=$TT_TMP/h2.pcap"
p2=$TEITEN_PID
wait "$p1"
check "d: half 1: exit" "$?" 0
wait "$p2"
check "d: half 2: exit" "$?" 0
check "d: each appliance recorded its own flushes" \
    "$(redis-cli -c -p "${REDIS_PORT[node0]}" hkeys 'teiten:{all}:flushed' | sort |
        tr '\n' ' ')" "half-1 half-2 "
cluster_dump >"$TT_TMP/halves.dump"
check "d: the halves add up to the whole in one Redis" \
    "$(diff "$TT_TMP/whole.dump" "$TT_TMP/halves.dump" | head -5)" ""
check "d: the whole holds data" "$([ "$(wc -l <"$TT_TMP/whole.dump")" -gt 1000 ] && echo yes)" yes
cluster_flush

# mistakes named at start (exit 2)
TT_REDIS_CLUSTER="127.0.0.1:${REDIS_PORT[single]}" write_config "$TT_TMP/nocluster.conf" \
    nocluster "${SENSORS[@]}"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/h1.pcap" -- \
    --config "$TT_TMP/nocluster.conf"
check "a Redis that is no cluster node: exit 2" "$TT_RC" 2
check_grep "... says so" "$TT_ERR" 'is not a cluster node .*set host and port instead'
TT_REDIS_CLUSTER= TT_REDIS_PORT=${REDIS_PORT[$(node_of "$(slot_owner 16383)")]} \
    write_config "$TT_TMP/onenode.conf" onenode "${SENSORS[@]}"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/h1.pcap" -- \
    --config "$TT_TMP/onenode.conf"
check "host naming one node of a cluster: exit 2" "$TT_RC" 2
check_grep "... says to name the cluster" "$TT_ERR" 'MOVED .*name its nodes in \[redis\] cluster'
cluster_flush

# c. the master of {all} killed mid-replay, its replica promoted
old_owner=$(slot_owner $ALL_SLOT)
victim=$(node_of "$old_owner")
# another master serves {all}'s slot, and the cluster is ok again
failed_over() {
    local o
    o=$(slot_owner $ALL_SLOT)
    [ -n "$o" ] && [ "$o" != "$old_owner" ] && cluster_settled some-dead
}
TT_REDIS_CLUSTER=$SEEDS start_teiten c "$VDEV"
wait_for 300 cluster_flushed_seen
check "c: first flush landed before the kill" "$(cluster_flushed_seen && echo yes)" yes
kill -9 "${REDIS_PID[$victim]}"
wait "${REDIS_PID[$victim]}" 2>/dev/null
check "c: the replay was still running" "$(kill -0 "$TEITEN_PID" 2>/dev/null && echo yes)" yes
wait_for 120 failed_over
check "c: a replica took over slot $ALL_SLOT" "$(failed_over && echo yes)" yes
wait "$TEITEN_PID"
check "c: exit" "$?" 0
check "c: delivered" "$(jq .redis.delivered "$TT_TMP/c.json")" true
check "c: no data lost" "$(jq .redis.data_lost "$TT_TMP/c.json")" 0
check_grep "c: the lost master was logged" "$TT_TMP/c.err" 'reconnecting'
cluster_dump >"$TT_TMP/c.dump"
check "c: a master killed mid-replay: equal to one Redis" \
    "$(diff "$TT_TMP/single.dump" "$TT_TMP/c.dump" | head -5)" ""

finish
