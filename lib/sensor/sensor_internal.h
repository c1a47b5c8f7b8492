/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_SENSOR_INTERNAL_H
#define TT_SENSOR_INTERNAL_H

/*
 * The lookup tables, shared by their builder (sensor.c, control thread) and
 * their lookups (sensor_dp.c, every worker, read-only once built).
 */

#include <stdint.h>

#include <rte_common.h>

struct rte_fib;
struct rte_fib6;

enum {
	LEAF_INLINE = 12,                 /* a leaf's runs kept in its own cache line */
};

/*
 * The last 8 bits of a /24 that prefixes longer than /24 split.
 *
 * DIR-24-8 gives such a /24 a tbl8 group of 256 next hops (1 KiB with 4-byte
 * entries). 100,000 /27s dealt to 64 sensors fill 12,500 groups (12.5 MiB),
 * and 100,000 single-address sensors scattered over as many /24s would fill
 * 100 MiB: every lookup into them misses the caches. A leaf is one cache line
 * instead: the host bytes where a run of one sensor (or of none) starts, as a
 * 256-bit map, and the runs' sensors. The FIB keeps every prefix up to /24
 * and one /24 route per leaf, so it never needs a tbl8.
 * Flood of 2^20 random sources at 64 sensors (100,000 /27s), busy cycles a
 * packet, interleaved medians: 332 -> 260 (a free lookup: 231).
 */
struct leaf {
	uint64_t starts[4];               /* bit b: a run starts at host byte b */
	uint8_t before[4];                /* runs starting in the words before */
	uint32_t ids_at;                  /* into leaf_ids; UINT32_MAX: runs are in ids */
	uint16_t ids[LEAF_INLINE];        /* runs <= LEAF_INLINE: each run's sensor */
} __rte_cache_aligned;

/* No DPDK port's id (config ports are 0..1023): the port past the last sensor's. */
#define NO_PORT UINT16_MAX

struct tt_sensor_table {
	struct rte_fib *fib4;              /* NULL when no IPv4 prefix */
	struct rte_fib6 *fib6;             /* NULL when no IPv6 prefix */
	uint32_t n_sensors;
	struct leaf *leaves;               /* next hop n_sensors + 1 + i is leaves[i] */
	uint16_t *leaf_ids;                /* runs of the leaves with more than LEAF_INLINE */
	uint64_t memory;
	uint16_t port[];                   /* [sensor] -> DPDK port id; [n_sensors]: NO_PORT */
};

#endif /* TT_SENSOR_INTERNAL_H */
