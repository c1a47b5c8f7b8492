# SPDX-License-Identifier: BSD-3-Clause
# Sourced by scripts/bench and tests/integration/capture_test.sh: 2 MiB
# hugepages a script reserves for a while and gives back.
#
# Counted by difference, under a lock: two such scripts at once (a
# benchmark while the tests run) each give back what they added. Writing
# back the count each one found at its start undid the other's reservation
# under it, and the one that finished last left its pages reserved for good
# (4 GiB after a benchmark).

TT_NR_HUGEPAGES=/proc/sys/vm/nr_hugepages
TT_HUGEPAGES_LOCK=${TT_HUGEPAGES_LOCK:-/run/lock/teiten-hugepages.lock}

# Run "$@" holding the lock the scripts share.
tt_hugepages_locked() {
    local fd rc
    exec {fd}>>"$TT_HUGEPAGES_LOCK" || return 1
    flock "$fd"
    "$@"
    rc=$?
    exec {fd}>&-
    return $rc
}

# tt_hugepages_change DELTA: reserve DELTA more pages (fewer when negative).
# Prints how far the reservation moved, which is less than asked when the
# kernel finds fewer free pages; fails when it cannot be changed at all.
tt_hugepages_change() {
    tt_hugepages_locked hugepages_move "$1"
}

hugepages_move() {
    local before want
    before=$(cat "$TT_NR_HUGEPAGES")
    want=$((before + $1))
    [ "$want" -ge 0 ] || want=0
    echo "$want" 2>/dev/null >"$TT_NR_HUGEPAGES" || return 1
    echo $(($(cat "$TT_NR_HUGEPAGES") - before))
}

# hugetlbfs on /dev/hugepages, mounted by the first of these scripts that
# needs it and unmounted when the last of them is done with it. The marker
# says one of them mounted it, and holds how many use it now; a mount that
# was there before is left alone. A count, not "umount unless busy": a
# script between its mount and its first DPDK run holds no file there yet,
# and another's exit would have unmounted it from under it.
TT_HUGETLBFS_MARK=${TT_HUGEPAGES_LOCK%.lock}.mounted

# tt_hugetlbfs_use: make sure hugetlbfs is mounted on /dev/hugepages; a
# success is owed one tt_hugetlbfs_done.
tt_hugetlbfs_use() {
    tt_hugepages_locked hugetlbfs_mount
}

# tt_hugetlbfs_mounted: hugetlbfs is mounted on /dev/hugepages.
tt_hugetlbfs_mounted() {
    awk '$2 == "/dev/hugepages" && $3 == "hugetlbfs" { found = 1 } END { exit !found }' \
        /proc/mounts
}

hugetlbfs_mount() {
    local mounted=no
    tt_hugetlbfs_mounted && mounted=yes
    if [ -e "$TT_HUGETLBFS_MARK" ]; then
        # Ours, but unmounted by hand since: mounted again, still ours.
        if [ "$mounted" = no ]; then
            mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages || return 1
        fi
        echo $(($(cat "$TT_HUGETLBFS_MARK") + 1)) >"$TT_HUGETLBFS_MARK"
        return 0
    fi
    [ "$mounted" = yes ] && return 0
    mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages &&
        echo 1 >"$TT_HUGETLBFS_MARK"
}

# tt_hugetlbfs_done: at the exit of a script whose tt_hugetlbfs_use succeeded.
tt_hugetlbfs_done() {
    tt_hugepages_locked hugetlbfs_unmount
}

hugetlbfs_unmount() {
    local users
    [ -e "$TT_HUGETLBFS_MARK" ] || return 0
    users=$(($(cat "$TT_HUGETLBFS_MARK") - 1))
    if [ "$users" -gt 0 ]; then
        echo "$users" >"$TT_HUGETLBFS_MARK"
    elif umount /dev/hugepages 2>/dev/null; then
        rm -f "$TT_HUGETLBFS_MARK"
    else
        echo 0 >"$TT_HUGETLBFS_MARK"   # still in use by a run outside these scripts
    fi
    return 0
}
