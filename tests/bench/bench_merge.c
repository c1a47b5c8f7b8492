/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane merge benchmark: one worker shard of a spoofed flood (every
 * packet a random source, sensor and country; one service) at N sensors,
 * sized as the appliance sizes a shard for N sensors, merged seven times:
 * into a minute and an hour as the publisher's and the alerts', and into a
 * run, an hour and a day as the live view merged every shard before it
 * folded them (the merge itself, whoever makes it), each with the all
 * scope. Each round merges into emptied targets, as the publisher's are at
 * every flush, and then again into the same targets, which then hold every
 * cell already, as the alerts' do. Prints the milliseconds of CPU time of each, median of the rounds.
 *
 * Then the live view as the control thread feeds it (tt_live_add()):
 * LIVE_SHARDS such shards of one minute, and the next minute's first
 * shard (one packet), with no reader between. The view's own merges,
 * however it makes them; CPU time a shard of the minute.
 *
 * Not a test: it prints figures, it does not judge them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tt_classify.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_live.h"

enum { TARGETS = 7, MAX_ROUNDS = 64, LIVE_SHARDS = 10, MINUTE = 29000000 };

/* The control thread's merges of a shard: bucket minutes of each target. */
static const uint32_t target_minutes[TARGETS] = { 1, 60, 1, 60, 0, 60, 1440 };

static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* splitmix64: each field of a packet from its own draw. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "bench_merge: %s\n", line);
}

/*
 * A worker shard's capacities at @p sensors: a config of that many
 * sensors, written to a file and loaded, so that the loader sizes the
 * pools as it does the appliance's. @return 0 or -1.
 */
static int
shard_conf(uint32_t sensors, struct tt_counters_conf *conf)
{
	char path[] = "/tmp/bench_merge.XXXXXX";
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
	fprintf(f, "[appliance]\nid = bench-merge\nhome_country = JP\n");
	for (i = 0; i < sensors; i++)
		fprintf(f, "[sensor s%u]\nport = 0\nprefixes = 10.%u.%u.0/24\n", i, i >> 8, i & 0xff);
	rc = fclose(f) == 0 ? tt_config_load(&cfg, path, report, NULL) : -1;
	unlink(path);
	if (rc != 0)
		return -1;
	/*
	 * The fields app/teiten/main.c gives each worker's shards. Copied, not
	 * shared: scripts/bench-merge --baseline builds this file against
	 * older trees, which have the config's fields but no common function.
	 * The flows are left out: a worker drains them into the cells before
	 * a hand-over, so a shard reaches the merges without them.
	 */
	*conf = (struct tt_counters_conf){
		.port_cells = cfg.port_cells,
		.country_cells = cfg.country_cells,
		.country_rows = cfg.n_sensors,
		.hll_cells = cfg.hll_cells,
		.hll_sparse = cfg.hll_sparse_sets,
		.hll_dense = cfg.hll_dense_sets,
	};
	tt_config_free(&cfg);
	return 0;
}

/* A shard of capacities @p conf with @p packets at @p sensors in minute @p minute, or NULL. */
static struct tt_shard *
flood_shard(const struct tt_counters_conf *conf, uint32_t sensors, uint32_t packets,
		uint32_t minute)
{
	struct tt_shard *s = tt_counters_create(conf);
	uint64_t seed = 1;
	uint32_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < packets; i++) {
		struct tt_count_pkt p = {
			.minute = minute, .svc = TT_SVC(TT_SVC_TCP, 80), .bytes = 60,
			.klass = TT_CLASS_OTHER,
		};

		uint64_t source = next_random(&seed), country = next_random(&seed);

		p.sensor = (uint16_t)(next_random(&seed) % sensors);
		/* countries as a flood spreads them: five eighths from 8, the rest from 200 */
		p.country = (uint16_t)(country % 8 < 5 ? (country >> 8) % 8 : (country >> 8) % 200);
		tt_hll_position(&source, sizeof(source), &p.hll_index, &p.hll_rank);
		tt_counters_add(s, &p);
	}
	return s;
}

/*
 * The live view fed LIVE_SHARDS shards @p s of one minute and then @p next,
 * of the next minute: CPU ms a shard of the minute, or a negative value.
 */
static double
live_ms(const struct tt_shard *s, const struct tt_shard *next, uint32_t sensors)
{
	struct tt_live *l = tt_live_create(&(struct tt_live_conf){ .n_sensors = sensors,
		.n_workers = 1, .tsc_hz = 1000000000 });
	double t0, ms = -1;
	uint32_t i;

	if (l == NULL)
		return -1;
	t0 = cpu_ms();
	for (i = 0; i < LIVE_SHARDS; i++)
		if (tt_live_add(l, s, MINUTE) != 0)
			goto out;
	if (tt_live_add(l, next, MINUTE + 1) != 0)
		goto out;
	ms = (cpu_ms() - t0) / LIVE_SHARDS;
out:
	tt_live_free(l);
	return ms;
}

int
main(int argc, char **argv)
{
	struct tt_merged *target[TARGETS] = { 0 };
	struct tt_counters_conf conf;
	double fresh[MAX_ROUNDS], again[MAX_ROUNDS], live[MAX_ROUNDS];
	uint32_t sensors, packets, rounds, r, t;
	struct tt_shard *s, *next;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_merge SENSORS PACKETS ROUNDS\n");
		return 2;
	}
	sensors = (uint32_t)strtoul(argv[1], NULL, 10);
	packets = (uint32_t)strtoul(argv[2], NULL, 10);
	rounds = (uint32_t)strtoul(argv[3], NULL, 10);
	if (sensors == 0 || sensors > TT_COUNTERS_PLANE_ROWS_MAX || rounds == 0 ||
			rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench_merge: 1 to %u sensors, 1 to %u rounds\n",
			TT_COUNTERS_PLANE_ROWS_MAX, MAX_ROUNDS);
		return 2;
	}
	if (shard_conf(sensors, &conf) != 0) {
		fprintf(stderr, "bench_merge: cannot size a shard for %u sensors\n", sensors);
		return 1;
	}
	s = flood_shard(&conf, sensors, packets, MINUTE);
	next = flood_shard(&conf, sensors, 1, MINUTE + 1);
	for (t = 0; t < TARGETS; t++)
		target[t] = tt_counters_merged_create(1 << 12);
	if (s == NULL || next == NULL || target[TARGETS - 1] == NULL) {
		fprintf(stderr, "bench_merge: out of memory\n");
		return 1;
	}
	for (r = 0; r < rounds; r++) {
		double t0;

		for (t = 0; t < TARGETS; t++)
			tt_counters_merged_reset(target[t]);
		t0 = cpu_ms();
		for (t = 0; t < TARGETS; t++)
			if (tt_counters_merge(target[t], s, target_minutes[t], true) != 0)
				return 1;
		fresh[r] = cpu_ms() - t0;
		t0 = cpu_ms();
		for (t = 0; t < TARGETS; t++)
			if (tt_counters_merge(target[t], s, target_minutes[t], true) != 0)
				return 1;
		again[r] = cpu_ms() - t0;
		live[r] = live_ms(s, next, sensors);
		if (live[r] < 0) {
			fprintf(stderr, "bench_merge: out of memory\n");
			return 1;
		}
	}
	qsort(fresh, rounds, sizeof(*fresh), by_value);
	qsort(again, rounds, sizeof(*again), by_value);
	qsort(live, rounds, sizeof(*live), by_value);
	printf("sensors %u packets %u: cells port %u country %u srcs %u; "
		"%u merges of the shard: %.1f ms into emptied targets, %.1f ms into full ones "
		"(CPU time, median of %u)\n", sensors, packets,
		tt_counters_rows(target[0], TT_COUNTERS_PORT),
		tt_counters_rows(target[0], TT_COUNTERS_COUNTRY),
		tt_counters_rows(target[0], TT_COUNTERS_SRCS), TARGETS, fresh[rounds / 2],
		again[rounds / 2], rounds);
	printf("sensors %u packets %u: live view, %u shards of a minute and the next one's "
		"first: %.1f ms a shard of the minute (CPU time, median of %u)\n", sensors, packets,
		LIVE_SHARDS, live[rounds / 2], rounds);
	for (t = 0; t < TARGETS; t++)
		tt_counters_merged_free(target[t]);
	tt_counters_free(s);
	tt_counters_free(next);
	return 0;
}
