/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_SCOPE_H
#define TT_SCOPE_H

/*
 * Scope views: every metric of one scope ("all" or a sensor) and bucket of
 * a merged shard, as the Redis schema names them, built from the shard's
 * rows (tt_counters.h). The summary, the operator's table, the live view
 * and the telemetry commands read counts through these views. Pure;
 * control plane; a view is its caller's.
 */

#include <stdbool.h>
#include <stdint.h>

#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_schema.h"

struct tt_merged;
struct tt_scope_index;

/* One member of a ZSET-like metric: a service key or a country index. */
struct tt_scope_member {
	uint32_t item;
	uint64_t count;
};

/** Order members by count, descending, then by item (a stable ranking). */
int tt_scope_member_cmp(const void *a, const void *b);

/*
 * Every metric of one scope of a merged shard, as the Redis schema names
 * them: the totals hash, one ranked member array per port and country
 * metric, and the unique-source estimates. The summary, the table and the
 * telemetry commands all read scopes through this one view.
 */
struct tt_scope {
	uint16_t sensor;               /* or TT_SCOPE_ALL */
	uint64_t totals[TT_T_COUNT];
	struct tt_scope_member *port[TT_PORT_COLS];       /* ranked, zero counts left out */
	uint32_t n_port[TT_PORT_COLS];
	struct tt_scope_member *country[TT_COUNTRY_COLS];
	uint32_t n_country[TT_COUNTRY_COLS];
	uint64_t srcs[TT_HLL_VARIANTS];            /* sensor-wide estimates */
	struct tt_scope_member *srcs_svc[TT_HLL_VARIANTS];   /* per watched service, by service key */
	uint32_t n_srcs_svc;
};

/*
 * tt_scope_build(): every minute key of the shard. Meant for shards whose
 * minutes are collapsed (a run total): with several minutes kept, a member
 * is listed once a minute and srcs is one minute's estimate.
 */
#define TT_SCOPE_ANY_MINUTE UINT32_MAX

/**
 * Build the view of @p sensor (or TT_SCOPE_ALL) in a growable shard, from the
 * cells keyed @p minute only (a bucket's first minute), or from all of them.
 * Cost: a pass over the shard's cells, and a sort per metric.
 * @return 0, or -ENOMEM (nothing to free then).
 */
int tt_scope_build(struct tt_scope *v, const struct tt_merged *s, uint16_t sensor,
		uint32_t minute);

/**
 * The cells of a growable shard grouped by scope (sensors 0..n_sensors-1 and
 * TT_SCOPE_ALL), for building every scope of it: one pass over the cells in
 * all, where tt_scope_build() makes one per call.
 * @return the index, or NULL (ENOMEM). It is valid while the shard is unchanged.
 */
struct tt_scope_index *tt_scope_index_create(const struct tt_merged *s, uint32_t n_sensors);
void tt_scope_index_free(struct tt_scope_index *x);

/** tt_scope_build() through an index of @p s. @return 0, -ENOMEM, or -EINVAL (no such scope). */
int tt_scope_build_indexed(struct tt_scope *v, const struct tt_merged *s,
		const struct tt_scope_index *x, uint16_t sensor, uint32_t minute);

/** Free what tt_scope_build() allocated. */
void tt_scope_free(struct tt_scope *v);

#endif /* TT_SCOPE_H */
