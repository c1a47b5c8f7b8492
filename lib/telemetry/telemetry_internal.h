/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_TELEMETRY_INTERNAL_H
#define TT_TELEMETRY_INTERNAL_H

/*
 * The pure half of the /teiten/... commands (telemetry_reply.c): parameter
 * parsing, the byte budget of a reply, the ring of the latest alerts, and
 * the formatting of times and long strings. No DPDK types, no locks, no
 * logging: tests/unit/test_telemetry.c calls them directly. The thread and
 * the lock are the caller's (telemetry.c says which).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tt_alerts.h"
#include "tt_classify.h"
#include "tt_config.h"

enum {
	TT_TELEMETRY_MAX_PARAMS = 4,
	TT_TELEMETRY_PARAM_LEN = 64,   /* bytes of one parameter, with its NUL */
	/*
	 * What one reply may use of telemetry's output buffer (16 KiB in
	 * 22.11; DPDK drops a value that does not fit without a word), the rest
	 * being slack for the JSON around the values. Every list is cut against
	 * it and says how many entries it left out ("more").
	 */
	TT_TELEMETRY_REPLY_BUDGET = 12 * 1024,
	/* Bytes of JSON one u64 field costs at most: "name": 20 digits, */
	TT_TELEMETRY_U64_FIELD = 48,
	/* /teiten/workers: a port's entry (four figures and its name), a worker's (13 figures) */
	TT_TELEMETRY_PORT_COST = 5 * TT_TELEMETRY_U64_FIELD,
	TT_TELEMETRY_WORKER_COST = 13 * TT_TELEMETRY_U64_FIELD,
	/* the most worker entries a reply can hold */
	TT_TELEMETRY_WORKERS_MAX = TT_TELEMETRY_REPLY_BUDGET / TT_TELEMETRY_WORKER_COST,
	/* /teiten/sensors: a row, a name and a service as strings, five u64 */
	TT_TELEMETRY_SENSOR_ROW_COST = TT_SENSOR_NAME_MAX + TT_SVC_STR_MAX + 5 * 22 + 8,
	/* /teiten/alerts: the latest alerts kept, and how many a reply shows unless told */
	TT_TELEMETRY_ALERTS_KEPT = 128,
	TT_TELEMETRY_ALERTS_DEFAULT = 10,
};

/**
 * Split "a,b,c" into at most TT_TELEMETRY_MAX_PARAMS fields, each trimmed of
 * spaces and tabs. NULL or "" has none.
 * @return the count, or -EINVAL for too many fields or one too long.
 */
int tt_telemetry_split_params(const char *params,
		char out[TT_TELEMETRY_MAX_PARAMS][TT_TELEMETRY_PARAM_LEN]);

/** A whole decimal number in @p min .. @p max, nothing else. @return 0 or -EINVAL. */
int tt_telemetry_parse_uint(const char *s, unsigned int min, unsigned int max,
		unsigned int *out);

/** "all" (or "") or a sensor name of @p cfg -> TT_SCOPE_ALL or its index. @return 0 or -ENOENT. */
int tt_telemetry_parse_scope(const struct tt_config *cfg, const char *s, uint16_t *out);

/** "service(s)" or "country"/"countries" -> *country. @return 0 or -EINVAL. */
int tt_telemetry_parse_dimension(const char *s, bool *country);

/**
 * The parameter of /teiten/alerts, untrimmed as DPDK passes it: none (NULL or
 * ""): TT_TELEMETRY_ALERTS_DEFAULT; else a number 1..TT_TELEMETRY_ALERTS_KEPT
 * (strtoul's syntax, so leading blanks pass). @return 0 or -EINVAL.
 */
int tt_telemetry_parse_alerts_n(const char *params, unsigned int *n);

/** "2024-04-01T09:00:00Z", or "...T09:00Z" without seconds; "none" for 0. */
void tt_telemetry_format_time(uint64_t sec, bool with_seconds, char *buf, size_t len);

/** Copy @p v into @p out (@p len bytes), its end replaced by "..." when cut. */
void tt_telemetry_clip(const char *v, char *out, size_t len);

/**
 * How many worker entries, from @p first of @p n_workers, fit beside
 * @p n_ports port entries: one more is added only while its cost still
 * leaves the reply under the budget.
 */
uint32_t tt_telemetry_workers_fit(uint32_t n_ports, uint32_t first, uint32_t n_workers);

/**
 * How many sensor rows, of @p n_sensors and at most @p limit, a reply
 * shows: rows are added while the reply is under the budget (the last may
 * pass it by a row; the slack takes it).
 */
uint32_t tt_telemetry_sensors_fit(uint32_t n_sensors, uint32_t limit);

/** The latest alerts, a ring. */
struct tt_telemetry_alerts {
	struct tt_alert ring[TT_TELEMETRY_ALERTS_KEPT];
	uint64_t seen;                 /* ever; the newest is at (seen - 1) % KEPT */
};

/** Keep a copy of @p al, forgetting the oldest once the ring is full. */
void tt_telemetry_alerts_push(struct tt_telemetry_alerts *a, const struct tt_alert *al);

/** Bytes an alert's fields take in a reply: each value and its quotes and comma. */
size_t tt_telemetry_alert_cost(const struct tt_alert *al);

/**
 * The newest alerts first, up to @p n, while they fit the budget (an alert
 * that would pass it ends the list): pointers into the ring in @p out
 * (room for TT_TELEMETRY_ALERTS_KEPT), valid until the next push.
 * @param more  how many of the @p n asked for and kept were left out
 * @return how many are in @p out.
 */
uint32_t tt_telemetry_alerts_pick(const struct tt_telemetry_alerts *a, uint32_t n,
		const struct tt_alert **out, uint32_t *more);

#endif /* TT_TELEMETRY_INTERNAL_H */
