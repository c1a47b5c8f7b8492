/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_SOURCES_H
#define TT_SOURCES_H

/*
 * Who is scanning (DESIGN.md section 4, Mirai rule; section 5, {src} keys).
 *
 * Two structures, both pure and allocation-free per packet:
 *  - struct tt_sources_table: a worker's persistent memory of sources, what must
 *    outlive a flush interval (first/last seen, Mirai-type ports with their
 *    last-seen times, confirmation, backscatter rate). Set-associative, 8
 *    ways a bucket; a full bucket evicts its oldest source and counts it, so
 *    a flood of spoofed sources never grows memory. One writer: its worker.
 *  - struct tt_sources_deltas: what a flush interval adds per (source, day),
 *    kept in the worker's counter shard and handed to the publisher with it.
 *    Only fingerprinted packets (Mirai-type, masscan, ZMap, Nmap, Unicorn,
 *    backscatter) make deltas: what the publisher writes about. A spoofed
 *    flood of "other" packets touches the table, never the deltas.
 */

#include <stdbool.h>
#include <stdint.h>

enum {
	TT_SOURCES_WAYS = 8,
	TT_SOURCES_MIRAI_PORTS = 16,       /* Mirai-type ports remembered per source */
	TT_SOURCES_PORTS = 32,             /* distinct services per delta (DESIGN: up to 32) */
	TT_SOURCES_SENSORS = 8,
	TT_SOURCES_ATTACKED = 8,           /* a DoS victim's services (its source ports) */
	/* DoS victim thresholds (DESIGN.md section 7) */
	TT_VICTIM_MIN_PKTS = 25,
	TT_VICTIM_MIN_SECONDS = 60,
	TT_VICTIM_MIN_PER_MINUTE = 30,
};

enum tt_sources_flag {
	TT_SOURCES_CONFIRMED = 1 << 0,     /* a confirmed Mirai-type source */
	TT_SOURCES_HOME = 1 << 1,
	TT_SOURCES_VICTIM = 1 << 2,        /* a backscatter sender past the DoS thresholds */
};

struct tt_sources_conf {
	uint32_t entries;              /* persistent sources per worker (power of two >= 8) */
	uint32_t mirai_min_ports;
	uint32_t horizon;              /* seconds: Mirai-type ports count this long */
};

/* One packet as the source memory sees it. */
struct tt_sources_pkt {
	const uint8_t *addr;           /* 4 or 16 bytes, network order */
	uint8_t family;
	uint8_t klass;                 /* enum tt_class */
	bool home;
	uint8_t way;                   /* tt_sources_update_burst()'s: where its bucket's search starts */
	uint16_t country;
	uint16_t sensor;
	uint16_t sport;
	uint16_t dport;                /* TCP/UDP destination port, or 0 */
	uint32_t svc;                  /* service key */
	uint32_t sec;                  /* packet time, UTC seconds */
	uint32_t delta_slot;           /* tt_sources_update_burst()'s: its delta's home slot */
	uint64_t hash;                 /* the source's, set by tt_sources_update_burst() */
};

/* A flush interval's news about one source on one day. */
struct tt_sources_delta {
	uint8_t addr[16];
	uint8_t family;
	uint8_t flags;                 /* enum tt_sources_flag, as of the last packet */
	uint8_t n_ports;
	uint8_t n_sensors;
	uint8_t n_attacked;
	uint16_t country;
	uint32_t day;                  /* UTC days since the epoch */
	uint32_t first_seen;           /* this source's first packet, ever (as remembered) */
	uint32_t last_seen;
	uint32_t pkts;
	uint32_t mirai_pkts;
	uint32_t victim_pkts;          /* backscatter counted toward the victims set */
	uint32_t victim_since;         /* the packet that passed the DoS rule, if in this interval */
	/*
	 * Its backscatter packets when it passed the rule (with victim_since),
	 * the DoS alert's figure: unlike victim_pkts, the same however the
	 * run is cut into intervals.
	 */
	uint32_t victim_rule_pkts;
	uint32_t class_mask;           /* 1 << enum tt_class of the packets */
	uint32_t class_last[8];        /* latest packet of each class (the rolling sets' score) */
	/* Each list sorted, its n_* first; the slots past them hold UINT32_MAX. */
	uint32_t ports[TT_SOURCES_PORTS];      /* service keys */
	uint32_t sensors[TT_SOURCES_SENSORS];  /* sensor indexes */
	uint32_t attacked[TT_SOURCES_ATTACKED];/* a victim's source ports */
};

struct tt_sources_table;
struct tt_sources_deltas;

/** Create a worker's table. Control thread. @return NULL with errno (EINVAL, ENOMEM). */
struct tt_sources_table *tt_sources_table_create(const struct tt_sources_conf *conf);
void tt_sources_table_free(struct tt_sources_table *t);

/**
 * Fixed-capacity deltas (worker shards) or growable ones (publisher).
 * @return NULL with errno.
 */
struct tt_sources_deltas *tt_sources_deltas_create(uint32_t capacity, bool growable);
void tt_sources_deltas_free(struct tt_sources_deltas *d);
void tt_sources_deltas_reset(struct tt_sources_deltas *d);

/**
 * Remember one attributed packet and record the interval's delta. Per
 * packet, by the table's owner. A full delta table counts the packet in
 * tt_sources_deltas_dropped() instead (replaying workers wait before that).
 *
 * Only fingerprinted packets (Mirai-type, scanners, backscatter) reach the
 * memory: what it is for (confirmation, victims, host records) reads those
 * alone, and a spoofed flood of plain packets must not evict the bots it
 * has learnt. A plain packet costs nothing here (measured: see the commit).
 * A burst of one: tests, and the publisher's benchmark.
 */
void tt_sources_update(struct tt_sources_table *t, struct tt_sources_deltas *d, const struct tt_sources_pkt *p);

/**
 * The same for @p n packets, in their order (which source a full bucket
 * gives up depends on it), each as tt_sources_update() would: while one
 * updates its source, the bucket and delta slot of a packet a few further
 * on, then the entry that bucket names, are on their way, so the misses of
 * a large table overlap instead of stalling one by one. Sets each
 * packet's hash. By the table's owner, once a burst.
 * @return the packets whose delta @p d had no room for (counted in it too).
 */
unsigned int tt_sources_update_burst(struct tt_sources_table *t, struct tt_sources_deltas *d,
		struct tt_sources_pkt *pkts, unsigned int n);

/** Add every delta of @p src into @p dst (growable). @return 0 or -ENOMEM. */
int tt_sources_deltas_merge(struct tt_sources_deltas *dst, const struct tt_sources_deltas *src);

uint32_t tt_sources_deltas_count(const struct tt_sources_deltas *d);
const struct tt_sources_delta *tt_sources_deltas_get(const struct tt_sources_deltas *d, uint32_t i);
uint64_t tt_sources_deltas_dropped(const struct tt_sources_deltas *d);
/** True when fewer than @p packets new deltas would fit. Owner only. */
bool tt_sources_deltas_pressure(const struct tt_sources_deltas *d, uint32_t packets);
uint64_t tt_sources_deltas_memory(const struct tt_sources_deltas *d);

struct tt_sources_table_stats {
	uint64_t sources;              /* in the table now */
	uint64_t inserted;
	uint64_t evicted;              /* pushed out by newer sources (full bucket) */
	uint64_t confirmed;            /* Mirai-type sources confirmed, cumulative */
	uint64_t memory;
};

/** The table's figures; the owner's single-writer counters, read relaxed. */
void tt_sources_table_stats(const struct tt_sources_table *t, struct tt_sources_table_stats *out);

#endif /* TT_SOURCES_H */
