/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_GEO_H
#define TT_GEO_H

/*
 * Source address -> country, on the fast path (DESIGN.md section 4, origin).
 *
 * At start the MaxMind DB's search tree is walked (libmaxminddb
 * MMDB_read_node) into ranges; adjacent ranges of one country are merged.
 * IPv4 goes into DPDK's DIR-24-8 FIB (a few nanoseconds, bulk), behind a
 * 128 KiB table of the /16s that are one country throughout, which answers
 * most sources without the FIB. IPv6 goes into a sorted range array searched
 * by halving: the RIR tables hold
 * ~500k IPv6 prefixes down to /128, which DPDK's FIB6 would need hundreds of
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

struct tt_geo;

struct tt_geo_stats {
	uint32_t v4_prefixes;          /* in the database */
	uint32_t v4_routes;            /* in the FIB, after merging */
	uint32_t v4_uniform16;         /* /16 blocks of one country, answered without the FIB */
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
void tt_geo_country_v4(const struct tt_geo *g, uint32_t *src, uint16_t *country, unsigned int n);

/** Country of one IPv6 source. Any worker. */
uint16_t tt_geo_country_v6(const struct tt_geo *g, const uint8_t *src);

void tt_geo_get_stats(const struct tt_geo *g, struct tt_geo_stats *out);

#endif /* TT_GEO_H */
