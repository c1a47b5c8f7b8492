/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key slots and the slot map of a Redis Cluster (see tt_slots.h). Publisher
 * thread only; pure.
 */
#include "tt_slots.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { NO_OWNER = 0xffff };

struct node {
	char host[TT_SLOTS_HOST_MAX];
	uint16_t port;
};

struct tt_slots_map {
	struct node *node;
	uint32_t n_nodes;
	uint32_t cap;
	uint32_t served;               /* slots with an owner */
	uint16_t owner[TT_SLOTS_COUNT];  /* node index, NO_OWNER */
};

/*
 * Bit by bit: the publisher hashes a few dozen short keys a flush (a tag's
 * flushed record, the health keys), so a 512-byte table would buy nothing
 * measurable.
 */
uint16_t
tt_slots_crc16(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint16_t crc = 0;
	size_t i;
	int bit;

	for (i = 0; i < len; i++) {
		crc ^= (uint16_t)(b[i] << 8);
		for (bit = 0; bit < 8; bit++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

uint16_t
tt_slots_of_key(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len), *close;

	if (open != NULL) {
		close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
		if (close != NULL && close != open + 1)
			return tt_slots_crc16(open + 1, (size_t)(close - open - 1)) &
				(TT_SLOTS_COUNT - 1);
	}
	return tt_slots_crc16(key, len) & (TT_SLOTS_COUNT - 1);
}

struct tt_slots_map *
tt_slots_map_create(void)
{
	struct tt_slots_map *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(m->owner, 0xff, sizeof(m->owner));
	return m;
}

void
tt_slots_map_free(struct tt_slots_map *m)
{
	if (m == NULL)
		return;
	free(m->node);
	free(m);
}

int32_t
tt_slots_map_find(const struct tt_slots_map *m, const char *host, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < m->n_nodes; i++)
		if (m->node[i].port == port && strcmp(m->node[i].host, host) == 0)
			return (int32_t)i;
	return -1;
}

int
tt_slots_map_add(struct tt_slots_map *m, uint32_t first, uint32_t last, const char *host,
		uint16_t port)
{
	int32_t n;
	uint32_t s;

	if (first > last || last >= TT_SLOTS_COUNT || host[0] == '\0' || port == 0 ||
			strlen(host) >= TT_SLOTS_HOST_MAX)
		return -EINVAL;
	n = tt_slots_map_find(m, host, port);
	for (s = first; s <= last; s++)
		if (m->owner[s] != NO_OWNER && (n < 0 || m->owner[s] != (uint16_t)n))
			return -EINVAL;
	if (n < 0) {
		if (m->n_nodes == NO_OWNER)
			return -EINVAL;
		if (m->n_nodes == m->cap) {
			uint32_t cap = m->cap ? 2 * m->cap : 8;
			struct node *a = realloc(m->node, cap * sizeof(*a));

			if (a == NULL)
				return -ENOMEM;
			m->node = a;
			m->cap = cap;
		}
		n = (int32_t)m->n_nodes++;
		strcpy(m->node[n].host, host);
		m->node[n].port = port;
	}
	for (s = first; s <= last; s++) {
		if (m->owner[s] == NO_OWNER)
			m->served++;
		m->owner[s] = (uint16_t)n;
	}
	return 0;
}

bool
tt_slots_map_complete(const struct tt_slots_map *m)
{
	return m->served == TT_SLOTS_COUNT;
}

uint32_t
tt_slots_map_nodes(const struct tt_slots_map *m)
{
	return m->n_nodes;
}

const char *
tt_slots_map_host(const struct tt_slots_map *m, uint32_t node)
{
	return node < m->n_nodes ? m->node[node].host : NULL;
}

uint16_t
tt_slots_map_port(const struct tt_slots_map *m, uint32_t node)
{
	return node < m->n_nodes ? m->node[node].port : 0;
}

int32_t
tt_slots_map_owner(const struct tt_slots_map *m, uint16_t slot)
{
	if (slot >= TT_SLOTS_COUNT || m->owner[slot] == NO_OWNER)
		return -1;
	return m->owner[slot];
}
