/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_WORKER_H
#define TT_WORKER_H

/*
 * A worker lcore: polls its rx queues, parses, finds the sensor, classifies
 * and counts into its own counter shard, and notes fingerprinted sources in
 * its source deltas (DESIGN.md section 1).
 *
 * Hand-off without locks: a worker owns two intervals (a counter shard and
 * source deltas each) and writes one. The control plane asks for a swap
 * (swap_request), the worker flips at its next housekeeping tick and
 * acknowledges (swap_ack, release); from then on the control plane owns the
 * retired interval until it asks again. Stats are cumulative, single-writer,
 * read with relaxed loads.
 *
 * Backed module (ethdev, mbufs). Thread of each function as stated.
 */

#include <stdbool.h>
#include <stdint.h>

#include "tt_classify.h"
#include "tt_counters.h"
#include "tt_sources.h"

struct rte_rcu_qsbr;
struct tt_geo;
struct tt_sensor_table;
struct tt_shard;
struct tt_worker;

enum {
	TT_WORKER_MAX_RXQ = 64,
	/*
	 * Packets a worker takes from a queue at a time (receive_burst() asks
	 * again while its calls bring packets). A burst's stages each run a
	 * prefetch pipeline whose first packets wait for their lines, and a
	 * burst pays its figures' publication and its checks once: the
	 * longer the burst, the less of both a packet carries. Busy cycles
	 * a packet, 32 -> 128, the median of interleaved pairs' ratios in
	 * three runs (8 pairs of 3 s, 6 of 6 s, scripts/bench --baseline's
	 * 3 of 3 s): mixed 20,000-frame loop 0.93, 0.87, 1.00; flood at one
	 * sensor 0.91 and 0.81 (two runs); at 4,096 sensors 1.01, 1.06 (3
	 * pairs of 12 s), 1.05; Mirai-type flood 1.05 and 1.09 (two runs).
	 * Single pairs spread from 0.7 to 1.2 on this machine. The stage
	 * table (3 rounds, later in a run) put the 4,096-sensor row's whole
	 * path at 476 against 361; runs as long as a stage table's, 5 pairs
	 * of 18 s, gave 0.89 there. 64 measured no better. The stage arrays
	 * index a burst's packets in bytes.
	 */
	TT_WORKER_BURST = 128,
};

struct tt_worker_rxq {
	uint16_t port;
	uint16_t queue;
	bool replay;                   /* a pcap file: empty means consumed */
};

/*
 * What a burst looks things up with. Owned by the control thread. A reload
 * hands every worker a new set (tt_worker_set_tables()); a worker takes it
 * with its next interval at a swap, a burst boundary, so every interval is
 * counted with one set throughout. The swap's acknowledgement is the grace
 * period: once every worker has swapped after tt_worker_set_tables(), none
 * reads the set before it, which may then be freed. (rte_rcu_qsbr would
 * give the same guarantee with a second handshake; the swap is already one.)
 */
struct tt_worker_tables {
	const struct tt_sensor_table *sensors;
	const struct tt_geo *geo;          /* NULL: every source is ZZ */
	uint16_t home_country;         /* country index (tt_classify.h) */
	uint8_t watched[TT_WATCH_BITS / 8];  /* watch_ports, by tt_classify_watch_bit() */
	/*
	 * Where the worker reports, as thread `index`, that it is between
	 * bursts (DPDK's RCU; the capture guard, tt_capture.h, waits on it),
	 * or NULL. Set up for at least index + 1 threads.
	 */
	struct rte_rcu_qsbr *readers;
};

struct tt_worker_conf {
	unsigned int lcore_id;
	uint16_t index;                /* 0..n_workers-1 */
	const struct tt_sensor_table *sensors;   /* the tables until a reload */
	const struct tt_geo *geo;          /* NULL: every source is ZZ */
	struct tt_worker_rxq rxq[TT_WORKER_MAX_RXQ];
	uint16_t n_rxq;
	bool packet_clock;             /* bucket by mbuf rx timestamp */
	int timestamp_offset;          /* mbuf dynfield, or -1 */
	uint64_t timestamp_flag;       /* ol_flags bit, or 0 */
	uint16_t home_country;         /* country index (tt_classify.h) */
	struct tt_counters_conf counters;  /* each of the worker's two shards */
	uint32_t source_deltas;            /* each interval's source deltas (capacity) */
	struct tt_sources_conf sources;        /* the worker's source memory */
	uint8_t watched[TT_WATCH_BITS / 8];  /* watch_ports, by tt_classify_watch_bit() */
	/*
	 * Where the worker reports, as thread `index`, that it is between
	 * bursts (DPDK's RCU; the capture guard, tt_capture.h, waits on it),
	 * or NULL. Set up for at least index + 1 threads.
	 */
	struct rte_rcu_qsbr *readers;
};

/* Cumulative per-worker figures; dp: wo, ctl: ro (relaxed). */
struct tt_worker_stats {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t dark_pkts;            /* attributed to a sensor */
	uint64_t not_dark;             /* destination in no sensor, or wrong port */
	uint64_t malformed;            /* every malformed frame, attributed or not */
	uint64_t non_ip;               /* no readable IP address */
	uint64_t no_timestamp;         /* packet clock, but the mbuf had none */
	uint64_t busy_cycles;          /* TSC spent on non-empty bursts */
	uint64_t bursts;
	/* dark packets counted with the record of HLL registers off (tt_counters_add_burst()) */
	uint64_t hll_record_off;
	/*
	 * fingerprinted packets whose source delta (the host record of DESIGN.md's
	 * {src}:host) the interval's table had no room for: a spoofed flood fills
	 * it within milliseconds (tt_sources_deltas_dropped())
	 */
	uint64_t source_deltas_dropped;
	uint64_t first_sec;            /* earliest packet time seen (UTC seconds) */
	uint64_t last_sec;             /* latest packet time seen */
};

/** Create a worker on its lcore's socket. Control thread. @return NULL with rte_errno. */
struct tt_worker *tt_worker_create(const struct tt_worker_conf *conf);

/** Free; NULL is a no-op. Control thread, after the lcore has returned. */
void tt_worker_free(struct tt_worker *w);

/** The lcore entry point (rte_eal_remote_launch). @return 0. */
int tt_worker_main(void *worker);

/** Ask the worker to return from tt_worker_main(). Any thread, signal-safe. */
void tt_worker_stop(struct tt_worker *w);

/*
 * What a worker hands over at a swap: the counts and the fingerprinted
 * sources' deltas of one interval, side by side (the counters know nothing
 * of sources; the publisher and the alert feed take both).
 */
struct tt_worker_interval {
	struct tt_shard *counts;
	struct tt_sources_deltas *sources;
};

/**
 * Take the interval the worker has been writing; it writes the other from
 * now on. The caller owns the returned interval until the next swap and
 * should merge it, then tt_worker_interval_reset() it. Control thread.
 * Waits for the worker's next housekeeping tick (microseconds); no wait once
 * the worker has returned.
 * @return the retired interval, or NULL if the worker did not answer in
 *   @p timeout_ms (its data then stays where it is, nothing is lost).
 */
const struct tt_worker_interval *tt_worker_swap(struct tt_worker *w, unsigned int timeout_ms);

/**
 * Count with @p t from the interval after the next successful
 * tt_worker_swap() on. @p t must stay valid until a later set has been
 * taken the same way (or the worker is freed). Control thread.
 */
void tt_worker_set_tables(struct tt_worker *w, const struct tt_worker_tables *t);

/** Forget a retired interval's counts and deltas, keeping their memory. Control thread. */
void tt_worker_interval_reset(const struct tt_worker_interval *i);

/** Copy the stats with relaxed loads. Any control thread. */
void tt_worker_read_stats(const struct tt_worker *w, struct tt_worker_stats *out);

/**
 * True while the worker wants its shard taken before the flush interval:
 * a worker that only replays pcap files waits for the swap because its
 * shard is nearly full (a file loses nothing by waiting); a worker with a
 * live queue never waits, and asks once a table or pool of its shard is half
 * full, so the rest absorbs the traffic until the swap. Control thread.
 */
bool tt_worker_wants_swap(const struct tt_worker *w);

/** True once every replay queue of this worker is consumed (or it has none). */
bool tt_worker_drained(const struct tt_worker *w);

/** The worker's source memory figures (relaxed reads). Any control thread. */
void tt_worker_source_stats(const struct tt_worker *w, struct tt_sources_table_stats *out);

/** The worker's configuration (read-only). */
const struct tt_worker_conf *tt_worker_get_conf(const struct tt_worker *w);

#endif /* TT_WORKER_H */
