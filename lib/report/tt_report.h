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
#include "tt_scope.h"

struct tt_merged;

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
	uint64_t hll_record_off_pkts;  /* dark packets counted with the record off (tt_worker_stats) */
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
	uint64_t redis_redirects;      /* cluster: MOVED and ASK answers followed */
	uint64_t redis_undelivered_packets;
	uint64_t redis_undelivered_source_keys;
	uint64_t redis_undelivered_alerts;
	bool redis_undelivered_upper_bound;  /* Redis may yet commit the last of it */
	bool redis_failed;             /* refused for good: publishing stopped */
};

/** Write the summary JSON. @return 0, -ENOMEM, or -EIO if the stream failed. */
int tt_report_summary_json(FILE *f, const struct tt_report_input *in);

/** Write a per-sensor table of the top @p top_n services, classes and countries. */
int tt_report_table(FILE *f, const struct tt_report_input *in, unsigned int top_n);

#endif /* TT_REPORT_H */
