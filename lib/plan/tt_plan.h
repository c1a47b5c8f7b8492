/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_PLAN_H
#define TT_PLAN_H

/*
 * The flush plan: merged counters -> the Redis commands of DESIGN.md section
 * 5, one MULTI/EXEC per hash tag ({all} and each sensor). Pure: commands go
 * to a sink, so the plan is tested without Redis. Publisher thread only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tt_merged;
struct tt_sources_deltas;

struct tt_plan_conf {
	const char *prefix;
	const char *appliance_id;
	const char *const *sensor_names;
	uint32_t n_sensors;            /* tags: see TT_PLAN_TAGS */
	uint32_t ttl_minute;           /* seconds */
	uint32_t ttl_hour;
	uint32_t ttl_day;
	uint32_t horizon;              /* [retention] sources: rolling sets, host records */
	bool wall_clock;               /* trim rolling sets against now, else the newest packet */
	/* ASN of a source for its host record, or 0; NULL: no asn_db */
	uint32_t (*asn_of)(void *ctx, const uint8_t *addr, uint8_t family);
	void *asn_ctx;
};

/* Tags: sensors 0..n-1, "all" n, "src" n + 1, the alerts stream n + 2. */
#define TT_PLAN_TAGS(conf) ((conf)->n_sensors + 3)
#define TT_PLAN_TAG_ALL(conf) ((conf)->n_sensors)
#define TT_PLAN_TAG_SRC(conf) ((conf)->n_sensors + 1)
#define TT_PLAN_TAG_ALERTS(conf) ((conf)->n_sensors + 2)

/* One entry of the <prefix>:alerts stream: field names and values, alternating. */
struct tt_plan_alert {
	uint32_t n_fields;
	const char *const *fields;     /* 2 * n_fields strings */
	const char *json;              /* the same entry for PUBLISH */
};

struct tt_plan_alerts {
	const struct tt_plan_alert *e;
	uint32_t n;
};

struct tt_plan_sink {
	/* A tag's transaction starts; commands follow, then end_tag. */
	int (*begin_tag)(void *ctx, uint32_t tag);
	int (*command)(void *ctx, int argc, const char **argv, const size_t *lens);
	int (*end_tag)(void *ctx, uint32_t tag);
	void *ctx;
};

/**
 * Emit the flush of @p minutes (cells keyed by minute) and @p hours (cells
 * keyed by their hour's first minute; days are derived from them), of the
 * source deltas @p sources (the {src} tag; may be NULL), and of
 * @p alerts (may be NULL): one transaction that XADDs and PUBLISHes each to
 * <prefix>:alerts and records the flush in {<prefix>:alerts}:flushed, the
 * stream's own slot. Tags whose done[tag] is set are skipped (committed).
 * @return 0, or the first negative value a sink callback returned, or -ENOMEM.
 */
int tt_plan_flush(const struct tt_plan_conf *conf, const struct tt_merged *minutes,
		const struct tt_merged *hours, const struct tt_sources_deltas *sources,
		const struct tt_plan_alerts *alerts, uint64_t seq, const uint8_t *done,
		const struct tt_plan_sink *sink);

/** "<prefix>:{<tag>}:flushed", the hash whose field <id> holds the last committed seq. */
int tt_plan_flushed_key(const struct tt_plan_conf *conf, uint32_t tag, char *buf, size_t len);

/** Does a tag have anything to write? Sets has[tag] for every tag with cells. */
void tt_plan_tags_with_data(const struct tt_plan_conf *conf, const struct tt_merged *minutes,
		const struct tt_merged *hours, const struct tt_sources_deltas *sources,
		const struct tt_plan_alerts *alerts, uint8_t *has);

#endif /* TT_PLAN_H */
