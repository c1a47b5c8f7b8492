/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_REPORT_H
#define TT_REPORT_H

/*
 * Merged counters -> the --summary JSON (DESIGN.md section 2) and the
 * operator's per-sensor table. Pure; control thread.
 *
 * The summary mirrors the Redis schema: per scope ("all" and each sensor) the
 * `totals` hash and every ZSET metric as an object of member -> count.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tt_counters.h"
#include "tt_hll.h"

struct tt_merged;
struct tt_scope_index;

/* One member of a ZSET-like metric: a service key or a country index. */
struct tt_member {
	uint32_t item;
	uint64_t count;
};

/** Order members by count, descending, then by item (a stable ranking). */
int tt_member_cmp(const void *a, const void *b);

/*
 * Every metric of one scope of a merged shard, as the Redis schema names
 * them: the totals hash, one ranked member array per port and country
 * metric, and the unique-source estimates. The summary, the table and the
 * telemetry commands all read scopes through this one view.
 */
struct tt_scope {
	uint16_t sensor;               /* or TT_SCOPE_ALL */
	uint64_t totals[TT_T_COUNT];
	struct tt_member *port[TT_PORT_COLS];       /* ranked, zero counts left out */
	uint32_t n_port[TT_PORT_COLS];
	struct tt_member *country[TT_COUNTRY_COLS];
	uint32_t n_country[TT_COUNTRY_COLS];
	uint64_t srcs[TT_HLL_VARIANTS];            /* sensor-wide estimates */
	struct tt_member *srcs_svc[TT_HLL_VARIANTS];   /* per watched service, by service */
	uint32_t n_srcs_svc;
};

/* tt_scope_build(): every minute key of the shard */
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

/** A member's name: "tcp/23" or "overflow" for services, "JP" for countries. */
void tt_report_item_name(bool country, uint32_t item, char *buf, size_t len);

struct tt_report_input {
	const char *appliance_id;
	const char *clock;             /* "wall" or "packet" */
	const char *const *sensor_names;
	const uint16_t *sensor_ports;
	uint32_t n_sensors;
	/* A shard merged with collapse_minutes and with_all. */
	const struct tt_merged *run;
	uint64_t packets;
	uint64_t not_dark;
	uint64_t malformed;
	uint64_t non_ip;
	uint64_t first_sec;            /* 0 when no packet was attributed */
	uint64_t last_sec;
	uint64_t duration_ms;          /* wall time the appliance ran, final flush included */
	uint64_t run_ms;               /* wall time the workers polled */
	uint64_t busy_cycles;          /* TSC cycles the workers spent on packets */
	uint64_t tsc_hz;
	/* per-source memory, summed over the workers */
	uint64_t sources_tracked;
	uint64_t sources_inserted;
	uint64_t sources_evicted;
	uint64_t sources_confirmed;
	uint64_t sources_memory;
	uint64_t sources_deltas_dropped;   /* source deltas the workers could not keep */
	/* Redis publishing; redis_enabled false: the rest is unused */
	bool redis_enabled;
	bool redis_delivered;          /* the final flush committed everything */
	uint64_t redis_flushes;
	uint64_t redis_errors;
	uint64_t redis_shed_minute_cells;
	uint64_t redis_shed_minute_bytes;
	uint64_t redis_shed_minute_packets;
	uint64_t redis_shed_hour_cells;
	uint64_t redis_shed_hour_packets;
	uint64_t redis_shed_source_keys;
	uint64_t redis_refusals;       /* transactions refused for a while, then retried */
	uint64_t redis_data_lost;      /* times Redis was found without flushes it took */
	uint64_t redis_undelivered_packets;
	bool redis_failed;             /* refused for good: publishing stopped */
};

/** Write the summary JSON. @return 0, -ENOMEM, or -EIO if the stream failed. */
int tt_report_summary_json(FILE *f, const struct tt_report_input *in);

/** Write a per-sensor table of the top @p top_n services, classes and countries. */
int tt_report_table(FILE *f, const struct tt_report_input *in, unsigned int top_n);

#endif /* TT_REPORT_H */
