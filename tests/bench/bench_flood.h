/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the data path's benchmarks share: a worker shard and source memory
 * sized as the appliance sizes them for N sensors, and the packets of a
 * spoofed flood as the counters see them (every packet a random source,
 * sensor and country; one service). Header-only: scripts/bench-merge and
 * scripts/bench-count --baseline build the benchmarks against older trees,
 * and copy this file with them.
 */
#ifndef TT_BENCH_FLOOD_H
#define TT_BENCH_FLOOD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tt_classify.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_sources.h"

/* splitmix64: each field of a packet from its own draw. */
static inline uint64_t
bench_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* qsort() of figures, for their median */
static inline int
bench_by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline void
bench_report_line(void *ctx, const char *line)
{
	fprintf(stderr, "%s: %s\n", (const char *)ctx, line);
}

/*
 * A worker shard's capacities at @p sensors: a config of that many
 * sensors, written to a file and loaded, so that the loader sizes the
 * pools as it does the appliance's; @p name prefixes its messages. With
 * @p sources, the worker's source memory too, and in @p delta_cells its
 * shards' source deltas. @return 0 or -1.
 */
static inline int
bench_shard_conf(const char *name, uint32_t sensors, struct tt_counters_conf *conf,
		struct tt_sources_conf *sources, uint32_t *delta_cells)
{
	char path[] = "/tmp/bench_flood.XXXXXX";
	struct tt_config cfg;
	int fd = mkstemp(path), rc;
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	uint32_t i;

	if (f == NULL) {
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		return -1;
	}
	fprintf(f, "[appliance]\nid = %s\nhome_country = JP\n", name);
	for (i = 0; i < sensors; i++)
		fprintf(f, "[sensor s%u]\nport = 0\nprefixes = 10.%u.%u.0/24\n", i, i >> 8, i & 0xff);
	rc = fclose(f) == 0 ? tt_config_load(&cfg, path, bench_report_line, (void *)name) : -1;
	unlink(path);
	if (rc != 0)
		return -1;
	/*
	 * The fields app/teiten/main.c gives each worker's shards and source
	 * memory. Copied, not shared: scripts/bench-merge --baseline builds
	 * the benchmarks against older trees, which have the config's fields
	 * but no common function. The flows are left out here; a benchmark of
	 * the worker's counting gives them as main.c does.
	 */
	*conf = (struct tt_counters_conf){
		.port_cells = cfg.port_cells,
		.country_cells = cfg.country_cells,
		.country_rows = cfg.n_sensors,
		.hll_cells = cfg.hll_cells,
		.hll_sparse = cfg.hll_sparse_sets,
		.hll_dense = cfg.hll_dense_sets,
	};
	if (sources != NULL) {
		*sources = (struct tt_sources_conf){
			.entries = cfg.sources_max,
			.mirai_min_ports = cfg.mirai_min_ports,
			.horizon = cfg.retention_sources,
		};
		*delta_cells = cfg.source_cells;
	}
	tt_config_free(&cfg);
	return 0;
}

/* The next flood packet at @p sensors in @p minute, as the counters see it. */
static inline struct tt_count_pkt
bench_flood_packet(uint64_t *seed, uint32_t sensors, uint32_t minute)
{
	struct tt_count_pkt p = {
		.minute = minute, .svc = TT_SVC(TT_SVC_TCP, 80), .bytes = 60,
		.klass = TT_CLASS_OTHER,
	};
	uint64_t source = bench_random(seed), country = bench_random(seed);

	p.sensor = (uint16_t)(bench_random(seed) % sensors);
	/* countries as a flood spreads them: five eighths from 8, the rest from 200 */
	p.country = (uint16_t)(country % 8 < 5 ? (country >> 8) % 8 : (country >> 8) % 200);
	tt_hll_position(&source, sizeof(source), &p.hll_index, &p.hll_rank);
	return p;
}

#endif
