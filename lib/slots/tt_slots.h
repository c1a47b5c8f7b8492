/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_SLOTS_H
#define TT_SLOTS_H

/*
 * Redis Cluster routing, the part no packaged library does for us: Debian 12
 * ships hiredis 0.14 and neither hiredis-cluster (which needs hiredis >= 1.0)
 * nor libvalkey, so the publisher routes by hand. This module is its pure
 * half: a key's slot (CRC16/XMODEM of its hash tag, modulo 16384, as the
 * Redis Cluster specification defines it) and the map from slot to master
 * that the publisher fills from CLUSTER SHARDS or CLUSTER SLOTS.
 *
 * Pure: no hiredis, no DPDK. Publisher thread only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	TT_SLOTS_COUNT = 16384,
	TT_SLOTS_HOST_MAX = 256,       /* bytes of a node's host, with the NUL */
};

/** CRC16/XMODEM (polynomial 0x1021, initial 0), Redis's crc16(). */
uint16_t tt_slots_crc16(const void *buf, size_t len);

/**
 * The slot of a key: of the text between its first '{' and the next '}'
 * when that is not empty (the hash tag), else of the whole key.
 */
uint16_t tt_slots_of_key(const char *key, size_t len);

struct tt_slots_map;                   /* opaque */

/** An empty map (no slot served). @return NULL with errno ENOMEM. */
struct tt_slots_map *tt_slots_map_create(void);
void tt_slots_map_free(struct tt_slots_map *m);    /* NULL is a no-op */

/**
 * Slots @p first..@p last (inclusive) are served by the master at
 * @p host:@p port; a master named twice is one node.
 * @return 0, -EINVAL (a range past 16383 or reversed, an empty host, port 0,
 *   a host too long, a slot already given to another master), -ENOMEM.
 */
int tt_slots_map_add(struct tt_slots_map *m, uint32_t first, uint32_t last,
		const char *host, uint16_t port);

/** Does every slot have a master? */
bool tt_slots_map_complete(const struct tt_slots_map *m);

/** The masters, numbered 0..n-1 in the order they were first added. */
uint32_t tt_slots_map_nodes(const struct tt_slots_map *m);
const char *tt_slots_map_host(const struct tt_slots_map *m, uint32_t node);
uint16_t tt_slots_map_port(const struct tt_slots_map *m, uint32_t node);

/** The master of @p slot, or -1 when none serves it. */
int32_t tt_slots_map_owner(const struct tt_slots_map *m, uint16_t slot);

/** The master at @p host:@p port, or -1 when it serves no slot. */
int32_t tt_slots_map_find(const struct tt_slots_map *m, const char *host, uint16_t port);

#endif /* TT_SLOTS_H */
