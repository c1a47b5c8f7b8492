/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_GEO_INTERNAL_H
#define TT_GEO_INTERNAL_H

/*
 * The country tables, shared by their builder (geo.c, control thread) and
 * their lookups (geo_dp.c, every worker, read-only once built).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "tt_geo.h"

struct rte_fib;

enum {
	MAX_ALIASES = 8,
};

/*
 * An IPv6 address as two host-order halves, so the per-packet search
 * compares integers. It used to memcmp() the 16 bytes at each step of the
 * binary search and test alias prefixes bit by bit: on a capture of IPv6
 * probes alone, 35% of the worker's samples were there (memcmp 27%).
 */
struct addr6 {
	uint64_t hi, lo;
};

struct alias6 {
	struct addr6 prefix;           /* masked */
	struct addr6 mask;
	uint8_t depth;
};

struct range6_tail {
	struct addr6 end;
	uint16_t country;
};

static inline struct addr6
addr6_of(const uint8_t *bytes)
{
	uint64_t hi, lo;

	memcpy(&hi, bytes, 8);
	memcpy(&lo, bytes + 8, 8);
	return (struct addr6){ rte_be_to_cpu_64(hi), rte_be_to_cpu_64(lo) };
}

static inline bool
addr6_le(struct addr6 a, struct addr6 b)
{
	return a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo);
}

struct tt_geo {
	/*
	 * First: the prefetches in tt_geo.h read it through the header. In
	 * the RIR-derived database 56,474 of the 65,536 /16s and all but
	 * 15,876 of the 2^24 /24s are one country.
	 */
	struct tt_geo_v4_levels v4;
	struct rte_fib *fib4;          /* the /24s of several countries */
	/* The IPv6 ranges, sorted: starts alone, so the search reads 16 bytes a step. */
	struct addr6 *v6_start;
	struct range6_tail *v6_tail;   /* in the same allocation */
	uint32_t n_v6;
	struct alias6 aliases[MAX_ALIASES];
	uint32_t n_aliases;
	struct tt_geo_stats stats;
};

_Static_assert(offsetof(struct tt_geo, v4) == 0,
	"tt_geo_prefetch_v4() reads the levels at the start of struct tt_geo");

#endif /* TT_GEO_INTERNAL_H */
