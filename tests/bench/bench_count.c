/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's counting alone: tt_counters_add_burst() of a spoofed flood
 * (bench_flood.h: every packet a random source, sensor and country) in
 * bursts as the worker makes them, into a shard sized and configured as a
 * worker's, flows included, at N sensors. A round is one flush interval of
 * PACKETS packets into an emptied shard, and its drain. No DPDK, no parse,
 * no lookups, no receive: what the stage table's "counters" row adds
 * (scripts/bench --stages), without net_pcap's copy beside it.
 *
 * With "beside", a second thread on another CPU merges a full shard of the
 * same flood again and again while the counting is timed, as the control
 * thread merges each worker shard at a flush: what that costs the worker
 * through the caches and the memory the two cores share.
 *
 * "bench_count lines MIB LINES" measures the floor under that: LINES
 * random cache lines a packet, each read and written once, over MIB MiB
 * (allocated and mapped as the shards' tables are, tt_mem.h), loaded
 * CELLS_AHEAD packets ahead as the counters load a packet's cells, and
 * nothing else: what a packet's lines cost once they no longer stay in
 * the caches, without any of the counting.
 *
 * "bench_count sources PACKETS ROUNDS" times the source memory instead
 * (tt_sources_update_burst()) under a Mirai-type flood as scripts/bench
 * loops it: every packet a Mirai-type SYN to tcp/23 from the next of 2^20
 * sources, the same sequence each time round, at 6 million packets a
 * second of the packets' clock; the worker's table and deltas as a
 * 1-sensor config sizes them, the deltas emptied at each round.
 *
 * Prints TSC cycles a packet of the calls (nanoseconds where there is no
 * TSC), median of the rounds, with their minimum and maximum. Not a test:
 * it prints figures, it does not judge them.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "tt_mem.h"

#include "bench_flood.h"

enum {
	BURST = 128,                   /* TT_WORKER_BURST: the worker's bursts */
	MAX_ROUNDS = 64,
	MINUTE = 29000000,
	FLOW_CELLS = 16384,            /* TT_COUNTERS_FLOW_CELLS, as main.c gives a worker */
	CELLS_AHEAD = 4,               /* counters_dp.c's: a packet's cells are loaded 4 ahead */
	MAX_LINES = 8,
	LINE = 64,
	LINES_PACKETS = 6000000,
	LINES_ROUNDS = 3,
	FLOOD_SOURCES = 1 << 20,       /* scripts/bench's Mirai-type capture: its frames, its sources */
	FLOOD_RATE = 6000000,          /* packets a second of the packets' clock */
	FLOOD_START = 1704067200,      /* 2024-01-01, as the generator starts */
};

#if defined(__x86_64__) || defined(__i386__)
static const char *const tick_unit = "TSC cycles";

static inline uint64_t
ticks(void)
{
	return __rdtsc();
}
#else
static const char *const tick_unit = "ns";

static inline uint64_t
ticks(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* The thread merging beside the counting: its shard, its target, and when to stop. */
struct beside {
	const struct tt_shard *shard;
	struct tt_merged *target;
	int cpu;
	bool stop;                     /* set by main, read by the merging thread */
	uint64_t merges;               /* the merging thread's; read after the join */
	int rc;
};

static int
pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *
merge_beside(void *arg)
{
	struct beside *b = arg;

	b->rc = pin_to(b->cpu);
	while (b->rc == 0 && !__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
		tt_counters_merged_reset(b->target);
		b->rc = tt_counters_merge(b->target, b->shard, 1, true);
		b->merges++;
	}
	return NULL;
}

/*
 * One interval: @p packets flood packets counted into @p s (emptied first)
 * and drained. @return the ticks of the counting calls; *@p record_off,
 * the bursts counted with the record of registers off.
 */
static uint64_t
count_interval(struct tt_shard *s, uint32_t sensors, uint32_t packets, uint64_t *seed,
		uint64_t *record_off)
{
	struct tt_count_pkt pkts[BURST];
	uint8_t order[BURST];
	uint64_t spent = 0, t0;
	uint32_t done, n, i;

	for (i = 0; i < BURST; i++)
		order[i] = (uint8_t)i;
	tt_counters_reset(s);
	for (done = 0; done < packets; done += n) {
		n = packets - done < BURST ? packets - done : BURST;
		for (i = 0; i < n; i++)
			pkts[i] = bench_flood_packet(seed, sensors, MINUTE);
		t0 = ticks();
		if (!tt_counters_add_burst(s, pkts, order, n))
			(*record_off)++;
		spent += ticks() - t0;
	}
	t0 = ticks();
	tt_counters_drain(s);
	return spent + ticks() - t0;
}

/*
 * One round of the floor: LINES_PACKETS packets of @p lines random lines
 * each in @p mem of @p n_lines lines. @return the ticks of the loads and
 * writes, the lines' indexes drawn outside them.
 */
static uint64_t
lines_round(uint8_t *mem, uint64_t n_lines, unsigned int lines, uint64_t *seed)
{
	uint64_t line[BURST][MAX_LINES], spent = 0, t0;
	uint32_t done;
	int i, k;

	for (done = 0; done < LINES_PACKETS; done += BURST) {
		for (i = 0; i < BURST; i++)
			for (k = 0; k < (int)lines; k++)
				line[i][k] = bench_random(seed) % n_lines * LINE;
		t0 = ticks();
		for (i = -CELLS_AHEAD; i < BURST; i++) {
			if (i + CELLS_AHEAD < BURST)
				for (k = 0; k < (int)lines; k++)
					__builtin_prefetch(mem + line[i + CELLS_AHEAD][k], 1);
			if (i >= 0)
				for (k = 0; k < (int)lines; k++)
					(*(volatile uint64_t *)(mem + line[i][k]))++;
		}
		spent += ticks() - t0;
	}
	return spent;
}

/* bench_count sources PACKETS ROUNDS */
static int
sources_main(uint32_t packets, uint32_t rounds)
{
	struct tt_counters_conf unused;
	struct tt_sources_conf conf;
	struct tt_sources_table *t;
	struct tt_sources_deltas *d;
	struct tt_sources_pkt sp[BURST];
	uint32_t addr[BURST], delta_cells, done, n, r, i;
	double per_pkt[MAX_ROUNDS];
	uint64_t dropped = 0, sent = 0, seed, spent, t0;

	if (packets == 0 || rounds == 0 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench_count: sources PACKETS ROUNDS: 1 to %u rounds\n", MAX_ROUNDS);
		return 2;
	}
	if (bench_shard_conf("bench_count", 1, &unused, &conf, &delta_cells) != 0) {
		fprintf(stderr, "bench_count: cannot size the source memory\n");
		return 1;
	}
	t = tt_sources_table_create(&conf);
	d = tt_sources_deltas_create(delta_cells, false);
	if (t == NULL || d == NULL) {
		fprintf(stderr, "bench_count: out of memory\n");
		return 1;
	}
	(void)pin_to((int)sysconf(_SC_NPROCESSORS_ONLN) - 1);
	for (r = 0; r < rounds; r++) {
		tt_sources_deltas_reset(d);
		spent = 0;
		for (done = 0; done < packets; done += n) {
			n = packets - done < BURST ? packets - done : BURST;
			for (i = 0; i < n; i++, sent++) {
				seed = sent % FLOOD_SOURCES;
				addr[i] = (uint32_t)bench_random(&seed);
				sp[i] = (struct tt_sources_pkt){
					.addr = (const uint8_t *)&addr[i], .family = 4,
					.klass = TT_CLASS_MIRAI, .country = TT_COUNTRY_ZZ,
					.sport = (uint16_t)(sent * 7919), .dport = 23,
					.svc = TT_SVC(TT_SVC_TCP, 23),
					.sec = (uint32_t)(FLOOD_START + sent / FLOOD_RATE),
				};
			}
			t0 = ticks();
			dropped += tt_sources_update_burst(t, d, sp, n);
			spent += ticks() - t0;
		}
		per_pkt[r] = (double)spent / packets;
	}
	qsort(per_pkt, rounds, sizeof(*per_pkt), bench_by_value);
	printf("sources: Mirai-type flood of %d sources, %u packets an interval: %.1f %s a packet "
		"(median of %u, %.1f-%.1f), table of %u sources, %u deltas an interval, "
		"%.0f%% of packets' deltas dropped\n", FLOOD_SOURCES, packets, per_pkt[rounds / 2],
		tick_unit, rounds, per_pkt[0], per_pkt[rounds - 1], conf.entries, delta_cells,
		100.0 * (double)dropped / (double)sent);
	tt_sources_table_free(t);
	tt_sources_deltas_free(d);
	return 0;
}

/* bench_count lines MIB LINES */
static int
lines_main(uint32_t mib, uint32_t lines)
{
	size_t bytes = (size_t)mib << 20;
	double per_pkt[LINES_ROUNDS];
	uint64_t seed = 1;
	uint8_t *mem;
	unsigned int r;

	if (mib == 0 || lines == 0 || lines > MAX_LINES) {
		fprintf(stderr, "bench_count: lines MIB LINES: MIB at least 1, 1 to %d lines\n",
			MAX_LINES);
		return 2;
	}
	mem = aligned_alloc(LINE, bytes);
	if (mem == NULL) {
		fprintf(stderr, "bench_count: out of memory\n");
		return 1;
	}
	tt_mem_prefault(mem, bytes);
	memset(mem, 0, bytes);
	(void)pin_to((int)sysconf(_SC_NPROCESSORS_ONLN) - 1);
	for (r = 0; r < LINES_ROUNDS; r++)
		per_pkt[r] = (double)lines_round(mem, bytes / LINE, lines, &seed) / LINES_PACKETS;
	qsort(per_pkt, LINES_ROUNDS, sizeof(*per_pkt), bench_by_value);
	printf("lines: %u random lines a packet over %u MiB, loaded %d packets ahead: "
		"%.1f %s a packet (median of %d, %.1f-%.1f)\n", lines, mib, CELLS_AHEAD,
		per_pkt[LINES_ROUNDS / 2], tick_unit, LINES_ROUNDS, per_pkt[0],
		per_pkt[LINES_ROUNDS - 1]);
	free(mem);
	return 0;
}

int
main(int argc, char **argv)
{
	struct beside b = { 0 };
	struct tt_counters_conf conf;
	struct tt_shard *s, *other = NULL;
	double per_pkt[MAX_ROUNDS];
	uint64_t seed = 1, record_off = 0, bursts;
	uint32_t sensors, packets, rounds, r;
	pthread_t merger;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool with_merges;

	if (argc == 4 && strcmp(argv[1], "sources") == 0)
		return sources_main((uint32_t)strtoul(argv[2], NULL, 10),
			(uint32_t)strtoul(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "lines") == 0)
		return lines_main((uint32_t)strtoul(argv[2], NULL, 10),
			(uint32_t)strtoul(argv[3], NULL, 10));
	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "beside") != 0)) {
		fprintf(stderr, "usage: bench_count SENSORS PACKETS ROUNDS [beside]\n"
			"       bench_count sources PACKETS ROUNDS\n"
			"       bench_count lines MIB LINES\n");
		return 2;
	}
	sensors = (uint32_t)strtoul(argv[1], NULL, 10);
	packets = (uint32_t)strtoul(argv[2], NULL, 10);
	rounds = (uint32_t)strtoul(argv[3], NULL, 10);
	with_merges = argc == 5;
	if (sensors == 0 || sensors > TT_COUNTERS_PLANE_ROWS_MAX || packets == 0 ||
			rounds == 0 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench_count: 1 to %u sensors, 1 to %u rounds\n",
			TT_COUNTERS_PLANE_ROWS_MAX, MAX_ROUNDS);
		return 2;
	}
	if (with_merges && cpus < 2) {
		fprintf(stderr, "bench_count: beside needs two CPUs, this system has %ld\n", cpus);
		return 2;
	}
	if (bench_shard_conf("bench_count", sensors, &conf, NULL, NULL) != 0) {
		fprintf(stderr, "bench_count: cannot size a shard for %u sensors\n", sensors);
		return 1;
	}
	conf.flow_cells = FLOW_CELLS;
	s = tt_counters_create(&conf);
	if (s == NULL) {
		fprintf(stderr, "bench_count: out of memory\n");
		return 1;
	}
	/* the worker on the last CPU, the merges on the first, as -l 0-1 places them */
	if (pin_to((int)cpus - 1) != 0)
		fprintf(stderr, "bench_count: cannot pin to CPU %ld; unpinned\n", cpus - 1);
	if (with_merges) {
		uint64_t other_seed = 2, unused = 0;

		other = tt_counters_create(&conf);
		b.target = tt_counters_merged_create(1 << 12);
		if (other == NULL || b.target == NULL) {
			fprintf(stderr, "bench_count: out of memory\n");
			return 1;
		}
		count_interval(other, sensors, packets, &other_seed, &unused);
		b.shard = other;
		b.cpu = 0;
		if (pthread_create(&merger, NULL, merge_beside, &b) != 0) {
			fprintf(stderr, "bench_count: cannot start the merging thread\n");
			return 1;
		}
	}
	for (r = 0; r < rounds; r++)
		per_pkt[r] = (double)count_interval(s, sensors, packets, &seed, &record_off) /
			packets;
	if (with_merges) {
		__atomic_store_n(&b.stop, true, __ATOMIC_RELAXED);
		pthread_join(merger, NULL);
		if (b.rc != 0) {
			fprintf(stderr, "bench_count: the merging thread failed (%d)\n", b.rc);
			return 1;
		}
	}
	qsort(per_pkt, rounds, sizeof(*per_pkt), bench_by_value);
	bursts = (uint64_t)rounds * ((packets + BURST - 1) / BURST);
	printf("sensors %u packets %u: counting %.1f %s a packet (median of %u, %.1f-%.1f), "
		"shard %.1f MiB, registers' record off in %.0f%% of bursts",
		sensors, packets, per_pkt[rounds / 2], tick_unit, rounds, per_pkt[0],
		per_pkt[rounds - 1], (double)tt_counters_memory(s) / (1 << 20),
		100.0 * (double)record_off / (double)bursts);
	if (with_merges)
		printf("; %" PRIu64 " merges beside", b.merges);
	printf("\n");
	tt_counters_free(s);
	tt_counters_free(other);
	tt_counters_merged_free(b.target);
	return 0;
}
