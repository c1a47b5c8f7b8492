/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Country lookups, per burst on every worker concurrently: the tables
 * (geo.c builds them) are read-only by then. No allocation, no log.
 */
#include "tt_geo.h"

#include <rte_common.h>
#include <rte_fib.h>

#include "tt_classify.h"
#include "tt_data_path.h"
#include "geo_internal.h"

enum {
	LOOKUP_CHUNK = 64,             /* addresses a bulk FIB lookup is given at once */
};

TT_DATA_PATH void
tt_geo_country_v4(const struct tt_geo *g, const uint32_t *src, uint16_t *country,
		unsigned int n)
{
	uint32_t mixed[LOOKUP_CHUNK];
	uint8_t at[LOOKUP_CHUNK];
	uint64_t nh[LOOKUP_CHUNK];
	unsigned int done, k, i, m;

	for (done = 0; done < n; done += k) {
		k = RTE_MIN(n - done, (unsigned int)LOOKUP_CHUNK);
		/*
		 * Most sources are settled by their /16, nearly all the rest
		 * by their /24; the FIB answers the few left in bulk.
		 */
		for (i = 0, m = 0; i < k; i++) {
			uint32_t ip = src[done + i], v = g->v4.by16[ip >> 16];
			uint16_t in24 = *tt_geo_v4_entry24(&g->v4, v, ip);
			uint16_t c = v < TT_GEO_BLOCK ? (uint16_t)v : in24;

			country[done + i] = c;
			if (c == TT_GEO_MIXED) {
				mixed[m] = ip;
				at[m++] = (uint8_t)i;
			}
		}
		if (m == 0)
			continue;
		rte_fib_lookup_bulk(g->fib4, mixed, nh, (int)m);
		for (i = 0; i < m; i++)
			country[done + at[i]] = nh[i] == 0 ? TT_COUNTRY_ZZ : (uint16_t)(nh[i] - 1);
	}
}

TT_DATA_PATH uint16_t
tt_geo_country_v6(const struct tt_geo *g, const uint8_t *src)
{
	struct addr6 a = addr6_of(src);
	uint32_t base = 0, n = g->n_v6, i;

	for (i = 0; i < g->n_aliases; i++) {
		const struct alias6 *al = &g->aliases[i];

		if ((a.hi & al->mask.hi) == al->prefix.hi && (a.lo & al->mask.lo) == al->prefix.lo) {
			unsigned __int128 whole = (unsigned __int128)a.hi << 64 | a.lo;
			uint32_t v4 = (uint32_t)(whole >> (96 - al->depth));
			uint16_t cc;

			tt_geo_country_v4(g, &v4, &cc, 1);
			return cc;
		}
	}
	if (n == 0 || !addr6_le(g->v6_start[0], a))
		return TT_COUNTRY_ZZ;
	/* the last range starting at or before src; branch-free steps */
	while (n > 1) {
		uint32_t half = n / 2;

		base = addr6_le(g->v6_start[base + half], a) ? base + half : base;
		n -= half;
	}
	if (!addr6_le(a, g->v6_tail[base].end))
		return TT_COUNTRY_ZZ;
	return g->v6_tail[base].country;
}
