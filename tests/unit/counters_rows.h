/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_TEST_COUNTERS_ROWS_H
#define TT_TEST_COUNTERS_ROWS_H

#include <stdint.h>

#include "tt_counters.h"

/*
 * The tables of a shard read through its rows, as every reader does: a
 * worker shard's (port and country) or a merged shard's.
 */
struct table {
	const struct tt_shard *s;      /* or */
	const struct tt_merged *m;
	enum tt_counters_table t;
};

static inline struct table
shard_table(const struct tt_shard *s, enum tt_counters_table t)
{
	return (struct table){ s, NULL, t };
}

static inline struct table
merged_table(const struct tt_merged *m, enum tt_counters_table t)
{
	return (struct table){ NULL, m, t };
}

#define TABLE_OF(x, t) _Generic((x), struct tt_shard *: shard_table, \
	const struct tt_shard *: shard_table, default: merged_table)((x), (t))
#define port_table(x) TABLE_OF(x, TT_COUNTERS_PORT)
#define country_table(x) TABLE_OF(x, TT_COUNTERS_COUNTRY)
#define hll_table(x) TABLE_OF(x, TT_COUNTERS_SRCS)

static inline uint32_t
cells(struct table t)
{
	return t.s != NULL ? tt_counters_shard_rows(t.s, t.t) : tt_counters_rows(t.m, t.t);
}

static inline struct tt_counters_row
key(struct table t, uint32_t i)
{
	struct tt_counters_row r;

	if (t.s != NULL)
		tt_counters_shard_row(t.s, t.t, i, &r);
	else
		tt_counters_row(t.m, t.t, i, &r);
	return r;
}

static inline const uint64_t *
values(struct table t, uint32_t i)
{
	return key(t, i).counts;
}

static inline const struct tt_hll *
hll_values(struct table t, uint32_t i)
{
	return key(t, i).srcs;
}

#endif /* TT_TEST_COUNTERS_ROWS_H */
