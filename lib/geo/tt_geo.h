/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_GEO_H
#define TT_GEO_H

/*
 * Source address -> country, on the fast path (DESIGN.md section 4, origin).
 *
 * At start the MaxMind DB's search tree is walked (libmaxminddb
 * MMDB_read_node) into ranges; adjacent ranges of one country are merged.
 * IPv4 goes into DPDK's DIR-24-8 FIB (a few nanoseconds, bulk), behind a
 * table of the /16s and blocks of the /24s of the /16s that are not one
 * country, which answer all but a few sources without the FIB
 * (tt_geo_v4_levels).
 * IPv6 goes into a sorted range array searched by halving: the RIR tables
 * hold ~500k IPv6 prefixes down to /128, which DPDK's FIB6 would need hundreds of
 * MB of tbl8 groups for, while the array takes ~10 MB, and IPv6 is a small
 * share of darknet traffic. The database's IPv4 aliases (::/96,
 * ::ffff:0:0/96, 2002::/16) are answered from the IPv4 table, so every
 * answer equals libmaxminddb's.
 *
 * Built by the control thread, then read-only and shared by every worker.
 * Backed module (EAL memory, libmaxminddb).
 */

#include <stddef.h>
#include <stdint.h>

#include <rte_prefetch.h>

struct tt_geo;

/*
 * The flat levels in front of the IPv4 FIB, the first member of struct
 * tt_geo and public so that a worker can prefetch a source's /24 entry
 * while it parses the rest of its burst (tt_geo_prefetch_v4()).
 *
 * Why not the FIB alone: its bulk lookup prefetches a few entries ahead
 * inside its own loop, and the sources of a burst that reach it are
 * random lines of a 32 MiB table, so each waited for memory. Flood of 2^20
 * random sources, one sensor: rte_fib took 9% of the worker's samples, the
 * country lookup 12% in all; with a prefetched flat /24 table, 7%, and the
 * busy cycles a packet went 173 -> 154 (medians of 5 interleaved runs).
 *
 * Only the /16s of several countries need their /24s (9,062 of 65,536 in
 * the RIR-derived database), so each has a block of 256 entries of its own:
 * 4.4 MiB, where a flat /24 table took 32 MiB and a random source's entry
 * was a TLB miss besides the cache miss.
 */
struct tt_geo_v4_levels {
	/*
	 * Per /16: its country when it is one country throughout, else
	 * TT_GEO_BLOCK + the index of its block. 256 KiB.
	 */
	const uint32_t *by16;
	/* The blocks: the country of each /24 of a mixed /16, or TT_GEO_MIXED. */
	const uint16_t *blocks;
};

#define TT_GEO_BLOCK 0x10000u          /* by16: a block index follows */
#define TT_GEO_MIXED UINT16_MAX        /* several countries: ask the next level */

struct tt_geo_stats {
	uint32_t v4_prefixes;          /* in the database */
	uint32_t v4_routes;            /* in the FIB: the blocks that touch a /24 of several countries */
	uint32_t v4_uniform16;         /* /16 blocks of one country, answered without the FIB */
	uint32_t v4_uniform24;         /* /24 blocks of one country */
	uint32_t v6_prefixes;
	uint32_t v6_ranges;
	uint32_t aliases;
	uint64_t memory;
};

/**
 * Build the tables from a MaxMind DB whose records hold country_code or
 * country.iso_code. Control thread.
 * @return the tables, or NULL with @p err filled (file, libmaxminddb's
 *   message, or what is missing) and rte_errno set.
 */
struct tt_geo *tt_geo_create(const char *path, int socket_id, char *err, size_t errlen);

void tt_geo_free(struct tt_geo *g);

/** Countries (tt_classify.h indexes; TT_COUNTRY_ZZ when unknown) of IPv4 sources in host order. Any worker. */
void tt_geo_country_v4(const struct tt_geo *g, const uint32_t *src, uint16_t *country,
		unsigned int n);

/**
 * Start loading the /16 entry of @p src (host order), for
 * tt_geo_prefetch_v4_mixed() to read. Any worker.
 */
static inline void
tt_geo_prefetch_v4(const struct tt_geo *g, uint32_t src)
{
	const struct tt_geo_v4_levels *l = (const struct tt_geo_v4_levels *)g;

	rte_prefetch0(&l->by16[src >> 16]);
}

/**
 * The /24 entry of @p src (host order) in the block its /16 entry @p by16
 * names; when @p by16 names no block, the first block's first entry, an
 * address always valid (geo.c allocates one block at least). A mask, not
 * a branch: in mixed traffic whether the next source's /16 is split among
 * countries is a coin toss (callgrind's branch simulation, mixed capture:
 * 0.40 mispredicted a packet over the test in the prefetch below and in
 * tt_geo_country_v4()). A source of a /16 of one country so loads a
 * line in cache and ignores it.
 */
static inline const uint16_t *
tt_geo_v4_entry24(const struct tt_geo_v4_levels *l, uint32_t by16, uint32_t src)
{
	uint32_t in_block = 0u - (uint32_t)(by16 >= TT_GEO_BLOCK);

	return &l->blocks[((by16 - TT_GEO_BLOCK) << 8 | ((src >> 8) & 0xff)) & in_block];
}

/**
 * Start loading the /24 entries of the sources whose /16 is mixed: call it
 * after tt_geo_prefetch_v4() of them, and tt_geo_country_v4() as late as
 * possible after it. Any worker. A source of a uniform /16 asks for the
 * first block's line instead (tt_geo_v4_entry24()), in cache: a prefetch
 * a source, and no test of its /16.
 */
static inline void
tt_geo_prefetch_v4_mixed(const struct tt_geo *g, const uint32_t *src, unsigned int n)
{
	const struct tt_geo_v4_levels *l = (const struct tt_geo_v4_levels *)g;
	unsigned int i;

	for (i = 0; i < n; i++)
		rte_prefetch0(tt_geo_v4_entry24(l, l->by16[src[i] >> 16], src[i]));
}

/** Country of one IPv6 source. Any worker. */
uint16_t tt_geo_country_v6(const struct tt_geo *g, const uint8_t *src);

void tt_geo_get_stats(const struct tt_geo *g, struct tt_geo_stats *out);

#endif /* TT_GEO_H */
