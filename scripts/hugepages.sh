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

# tt_hugepages_change DELTA: reserve DELTA more pages (fewer when negative).
# Prints how far the reservation moved, which is less than asked when the
# kernel finds fewer free pages; fails when it cannot be changed at all.
tt_hugepages_change() {
    local fd before after want
    exec {fd}>>"$TT_HUGEPAGES_LOCK" || return 1
    flock "$fd"
    before=$(cat "$TT_NR_HUGEPAGES")
    want=$((before + $1))
    [ "$want" -ge 0 ] || want=0
    if ! echo "$want" 2>/dev/null >"$TT_NR_HUGEPAGES"; then
        exec {fd}>&-
        return 1
    fi
    after=$(cat "$TT_NR_HUGEPAGES")
    exec {fd}>&-
    echo $((after - before))
}

# hugetlbfs on /dev/hugepages, mounted by the first of these scripts that
# needs it and unmounted by the last one out (a marker says one of them
# mounted it; a mount that was there before is left alone).
TT_HUGETLBFS_MARK=${TT_HUGEPAGES_LOCK%.lock}.mounted

# tt_hugetlbfs_use: make sure hugetlbfs is mounted on /dev/hugepages.
tt_hugetlbfs_use() {
    local fd rc=0
    exec {fd}>>"$TT_HUGEPAGES_LOCK" || return 1
    flock "$fd"
    if ! awk '$2 == "/dev/hugepages" && $3 == "hugetlbfs" { found = 1 } END { exit !found }' \
            /proc/mounts; then
        if mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages; then
            : >"$TT_HUGETLBFS_MARK"
        else
            rc=1
        fi
    fi
    exec {fd}>&-
    return $rc
}

# tt_hugetlbfs_done: at a user's exit. Unmounts what one of these scripts
# mounted unless another run still has files there (it will, at its exit).
tt_hugetlbfs_done() {
    local fd
    exec {fd}>>"$TT_HUGEPAGES_LOCK" || return 1
    flock "$fd"
    if [ -e "$TT_HUGETLBFS_MARK" ] && umount /dev/hugepages 2>/dev/null; then
        rm -f "$TT_HUGETLBFS_MARK"
    fi
    exec {fd}>&-
}
