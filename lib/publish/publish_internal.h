/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_PUBLISH_INTERNAL_H
#define TT_PUBLISH_INTERNAL_H

/*
 * The flush plan: merged counters -> the Redis commands of DESIGN.md section
 * 5, one MULTI/EXEC per hash tag ({all} and each sensor). Pure: commands go
 * to a sink, so the plan is tested without Redis. Publisher thread only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tt_shard;

struct tt_plan_conf {
	const char *prefix;
	const char *appliance_id;
	const char *const *sensor_names;
	uint32_t n_sensors;            /* tags: sensors 0..n-1, "all" n, "src" n + 1 */
	uint32_t ttl_minute;           /* seconds */
	uint32_t ttl_hour;
	uint32_t ttl_day;
	uint32_t horizon;              /* [retention] sources: rolling sets, host records */
	bool wall_clock;               /* trim rolling sets against now, else the newest packet */
	/* ASN of a source for its host record, or 0; NULL: no asn_db */
	uint32_t (*asn_of)(void *ctx, const uint8_t *addr, uint8_t family);
	void *asn_ctx;
};

#define TT_PLAN_TAGS(conf) ((conf)->n_sensors + 2)

struct tt_plan_sink {
	/* A tag's transaction starts; commands follow, then end_tag. */
	int (*begin_tag)(void *ctx, uint32_t tag);
	int (*command)(void *ctx, int argc, const char **argv, const size_t *lens);
	int (*end_tag)(void *ctx, uint32_t tag);
	void *ctx;
};

/**
 * Emit the flush of @p minutes (cells keyed by minute) and @p hours (cells
 * keyed by their hour's first minute; days are derived from them). Tags
 * whose done[tag] is set are skipped (already committed).
 * @return 0, or the first negative value a sink callback returned, or -ENOMEM.
 */
int tt_plan_flush(const struct tt_plan_conf *conf, const struct tt_shard *minutes,
		const struct tt_shard *hours, uint64_t seq, const uint8_t *done,
		const struct tt_plan_sink *sink);

/** "<prefix>:{<tag>}:flushed", the hash whose field <id> holds the last committed seq. */
int tt_plan_flushed_key(const struct tt_plan_conf *conf, uint32_t tag, char *buf, size_t len);

/** Does a tag have anything to write? Sets has[tag] for every tag with cells. */
void tt_plan_tags_with_data(const struct tt_plan_conf *conf, const struct tt_shard *minutes,
		const struct tt_shard *hours, uint8_t *has);

#endif /* TT_PUBLISH_INTERNAL_H */
