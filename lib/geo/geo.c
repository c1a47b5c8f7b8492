/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building the country tables. Control thread only; the lookups, run by
 * every worker on the finished tables, are in geo_dp.c.
 */
#include "tt_geo.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "tt_classify.h"
#include "geo_internal.h"

RTE_LOG_REGISTER(tt_logtype_geo, tt.geo, NOTICE);
#define GEO_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_geo, "geo: " fmt "\n", ##__VA_ARGS__)

enum {
	CC_CACHE = 1 << 16,            /* distinct data records remembered */
	FIB_NH_2B_MAX = (1 << 15) - 1,
	BLOCKS16 = 1 << 16,
	BLOCKS24 = 1 << 24,
};

struct range6 {
	uint8_t start[16];
	uint8_t end[16];
	uint16_t country;
};

struct alias {
	uint8_t prefix[16];
	uint8_t depth;                 /* the IPv4 address follows these bits */
};

/* Depth <= 96 (the builder's rule), so the IPv4 address fits below it. */
static struct alias6
alias6_of(const struct alias *al)
{
	struct alias6 r = { .depth = al->depth };
	unsigned __int128 mask = al->depth == 0 ? 0 : ~(unsigned __int128)0 << (128 - al->depth);

	r.mask.hi = (uint64_t)(mask >> 64);
	r.mask.lo = (uint64_t)mask;
	r.prefix = addr6_of(al->prefix);
	r.prefix.hi &= r.mask.hi;
	r.prefix.lo &= r.mask.lo;
	return r;
}

struct builder {
	MMDB_s db;
	char *err;
	size_t errlen;
	uint32_t *cache_off;           /* data record offset + 1, 0 = empty */
	uint16_t *cache_cc;
	struct range6 *v4;             /* IPv4 ranges, in the last 4 bytes */
	uint32_t n_v4, cap_v4;
	struct range6 *v6;
	uint32_t n_v6, cap_v6;
	struct alias aliases[MAX_ALIASES];
	uint32_t n_aliases;
	uint32_t v4_prefixes, v6_prefixes;
	uint32_t records_without_country;
};

static uint16_t
country_of(struct builder *b, MMDB_entry_s *entry)
{
	uint32_t h = (entry->offset * 2654435761u) & (CC_CACHE - 1);
	MMDB_entry_data_s data;
	char cc[3];
	int idx;

	while (b->cache_off[h] != 0) {
		if (b->cache_off[h] == entry->offset + 1)
			return b->cache_cc[h];
		h = (h + 1) & (CC_CACHE - 1);
	}
	if ((MMDB_get_value(entry, &data, "country_code", NULL) != MMDB_SUCCESS ||
			!data.has_data) &&
			(MMDB_get_value(entry, &data, "country", "iso_code", NULL) != MMDB_SUCCESS ||
			!data.has_data))
		data.has_data = false;
	idx = -1;
	if (data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size == 2) {
		cc[0] = (char)toupper((unsigned char)data.utf8_string[0]);
		cc[1] = (char)toupper((unsigned char)data.utf8_string[1]);
		cc[2] = '\0';
		idx = tt_classify_country_index(cc);
	}
	if (idx < 0)
		b->records_without_country++;
	b->cache_off[h] = entry->offset + 1;
	b->cache_cc[h] = idx < 0 ? TT_COUNTRY_ZZ : (uint16_t)idx;
	return b->cache_cc[h];
}

static int
push_range(struct range6 **a, uint32_t *n, uint32_t *cap, const uint8_t *addr,
		unsigned int bits, unsigned int depth, uint16_t cc)
{
	struct range6 *r;
	unsigned int i;

	/* Adjacent and of one country: extend the previous range. */
	if (*n != 0) {
		struct range6 *prev = &(*a)[*n - 1];
		uint8_t next[16];
		int carry = 1;

		memcpy(next, prev->end, 16);
		for (i = 16; i-- > 0 && carry;) {
			next[i]++;
			carry = next[i] == 0;
		}
		if (prev->country == cc && memcmp(next, addr, 16) == 0) {
			memcpy(prev->end, addr, 16);
			for (i = depth; i < bits; i++)
				prev->end[16 - bits / 8 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
			return 0;
		}
	}
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 1 << 16;

		r = realloc(*a, c * sizeof(*r));
		if (r == NULL)
			return -ENOMEM;
		*a = r;
		*cap = c;
	}
	r = &(*a)[(*n)++];
	memcpy(r->start, addr, 16);
	memcpy(r->end, addr, 16);
	for (i = depth; i < bits; i++)
		r->end[16 - bits / 8 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	r->country = cc;
	return 0;
}

struct frame {
	uint32_t node;
	uint8_t depth;
	bool leaf;                     /* a data record: emit when popped */
	uint8_t addr[16];
	MMDB_entry_s entry;
};

/*
 * Depth-first, left before right, so ranges come out in address order: data
 * records go through the stack like subtrees, or a node's right-hand data
 * would come out before its left-hand subtree.
 * @param bits  32 for the IPv4 subtree (addresses in the last 4 bytes), 128.
 */
static int
walk(struct builder *b, uint32_t root, unsigned int bits)
{
	uint32_t ipv4_start = b->db.ipv4_start_node.node_value;
	uint32_t node_count = b->db.metadata.node_count;
	struct frame *stack = malloc(2 * 130 * sizeof(*stack));
	unsigned int sp = 0, off = 16 - bits / 8;
	int rc = 0;

	if (stack == NULL)
		return -ENOMEM;
	memset(&stack[0], 0, sizeof(stack[0]));
	stack[sp++].node = root;
	while (sp > 0 && rc == 0) {
		struct frame f = stack[--sp];
		MMDB_search_node_s n;
		int side;

		if (f.leaf) {
			if (bits == 32) {
				b->v4_prefixes++;
				rc = push_range(&b->v4, &b->n_v4, &b->cap_v4, f.addr, 32, f.depth,
					country_of(b, &f.entry));
			} else {
				b->v6_prefixes++;
				rc = push_range(&b->v6, &b->n_v6, &b->cap_v6, f.addr, 128, f.depth,
					country_of(b, &f.entry));
			}
			continue;
		}
		if (MMDB_read_node(&b->db, f.node, &n) != MMDB_SUCCESS) {
			snprintf(b->err, b->errlen, "search tree node %u unreadable", f.node);
			rc = -EINVAL;
			break;
		}
		/* right first onto the stack, so the left side is walked first */
		for (side = 1; side >= 0 && rc == 0; side--) {
			uint64_t rec = side ? n.right_record : n.left_record;
			uint8_t type = side ? n.right_record_type : n.left_record_type;
			MMDB_entry_s entry = side ? n.right_record_entry : n.left_record_entry;
			struct frame c = f;

			c.depth = (uint8_t)(f.depth + 1);
			c.leaf = false;
			if (side)
				c.addr[off + f.depth / 8] |= (uint8_t)(0x80 >> (f.depth % 8));
			if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
				if (bits == 128 && rec == ipv4_start) {
					/* IPv4 inside IPv6: answered by the IPv4 table */
					if (b->n_aliases < MAX_ALIASES && c.depth <= 96) {
						memcpy(b->aliases[b->n_aliases].prefix, c.addr, 16);
						b->aliases[b->n_aliases++].depth = c.depth;
					}
					continue;
				}
				if (rec >= node_count || c.depth >= bits) {
					snprintf(b->err, b->errlen, "search tree malformed at node %u", f.node);
					rc = -EINVAL;
					break;
				}
				c.node = (uint32_t)rec;
				stack[sp++] = c;
			} else if (type == MMDB_RECORD_TYPE_DATA) {
				c.leaf = true;
				c.entry = entry;
				stack[sp++] = c;
			}
		}
	}
	free(stack);
	return rc;
}

static uint32_t
be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Largest CIDR block starting at `start` that does not pass `end`. */
static unsigned int
block_len(uint32_t start, uint32_t end)
{
	unsigned int len = start == 0 ? 0 : 32 - (unsigned int)__builtin_ctz(start);

	while (len < 32 && (uint64_t)start + ((uint64_t)1 << (32 - len)) - 1 > end)
		len++;
	return len;
}

/* A CIDR block of one range, for the FIB. */
struct route4 {
	uint32_t start;
	uint8_t len;
	uint16_t country;
};

/* Does the block of @p len bits at @p start touch a /24 of several countries? */
static bool
touches_mixed(const uint16_t *by24, uint32_t start, unsigned int len)
{
	uint32_t x, last = len >= 24 ? start >> 8 : (start >> 8) + (1u << (24 - len)) - 1;

	for (x = start >> 8; x <= last; x++)
		if (by24[x] == TT_GEO_MIXED)
			return true;
	return false;
}

/*
 * The routes the FIB needs: the CIDR blocks of the ranges that touch a /24
 * of several countries, the only addresses tt_geo_country_v4() asks it
 * about (build_by24() first). Blocks of ZZ are left out: it is the
 * default next hop. Every /24 is read once, as the blocks are disjoint.
 * @return 0, or -ENOMEM.
 */
static int
collect_routes(const struct builder *b, const uint16_t *by24, struct route4 **routes,
		uint32_t *n_routes)
{
	struct route4 *r = NULL;
	uint32_t i, n = 0, cap = 0;

	for (i = 0; i < b->n_v4; i++) {
		uint32_t s = be32_at(b->v4[i].start + 12), e = be32_at(b->v4[i].end + 12);

		if (b->v4[i].country == TT_COUNTRY_ZZ)
			continue;
		for (;;) {
			unsigned int len = block_len(s, e);

			if (touches_mixed(by24, s, len)) {
				if (n == cap) {
					struct route4 *grown;

					cap = cap ? 2 * cap : 4096;
					grown = realloc(r, cap * sizeof(*r));
					if (grown == NULL) {
						free(r);
						return -ENOMEM;
					}
					r = grown;
				}
				r[n].start = s;
				r[n].len = (uint8_t)len;
				r[n++].country = b->v4[i].country;
			}
			if (len == 0 || (uint64_t)s + ((uint64_t)1 << (32 - len)) > e)
				break;
			s += 1u << (32 - len);
		}
	}
	*routes = r;
	*n_routes = n;
	return 0;
}

/* Routes -> the DIR-24-8 FIB, next hop = country + 1. */
static struct rte_fib *
build_fib4(struct builder *b, const struct route4 *r, uint32_t n, uint64_t *memory,
		int socket_id)
{
	struct rte_fib_conf conf = { .type = RTE_FIB_DIR24_8, .default_nh = 0 };
	uint32_t i, tbl8 = 0, last24 = UINT32_MAX;
	struct rte_fib *fib;
	static unsigned int serial;
	char name[32];

	/* The /24 blocks that need a tbl8 group (the routes are in address order). */
	for (i = 0; i < n; i++) {
		if (r[i].len > 24 && (r[i].start >> 8) != last24) {
			tbl8++;
			last24 = r[i].start >> 8;
		}
	}
	conf.max_routes = (int)RTE_MAX(n, 1u);
	/* 2-byte entries keep a flag bit: past 32767 tbl8 groups, 4 bytes. */
	conf.dir24_8.num_tbl8 = RTE_MAX(tbl8 + 1, 16u);
	conf.dir24_8.nh_sz = conf.dir24_8.num_tbl8 < FIB_NH_2B_MAX ?
		RTE_FIB_DIR24_8_2B : RTE_FIB_DIR24_8_4B;
	snprintf(name, sizeof(name), "tt_geo4_%u", serial++);
	fib = rte_fib_create(name, socket_id, &conf);
	if (fib == NULL) {
		/* the RIB keeps ~128 B a route beside the DIR-24-8 tables */
		uint64_t need = (uint64_t)n * 128 + ((uint64_t)1 << 24) * 4 +
			(uint64_t)conf.dir24_8.num_tbl8 * 256 * 4;

		snprintf(b->err, b->errlen, "IPv4 FIB of %u routes (about %" PRIu64 " MiB of DPDK "
			"memory; raise -m): %s", n, need >> 20, rte_strerror(rte_errno));
		return NULL;
	}
	*memory += ((uint64_t)1 << 24) * (conf.dir24_8.nh_sz == RTE_FIB_DIR24_8_2B ? 2 : 4) +
		(uint64_t)conf.dir24_8.num_tbl8 * 256 * 4 + (uint64_t)n * 128;
	for (i = 0; i < n; i++) {
		int rc = rte_fib_add(fib, r[i].start, r[i].len, r[i].country + 1u);

		if (rc != 0) {
			snprintf(b->err, b->errlen, "IPv4 FIB add: %s", rte_strerror(-rc));
			rte_fib_free(fib);
			rte_errno = -rc;
			return NULL;
		}
	}
	return fib;
}

/*
 * Which /24s are one country throughout. The ranges are sorted and
 * disjoint, addresses in none of them are ZZ, and adjacent ranges of one
 * country were merged (push_range()): a /24 is one country exactly when one
 * range covers it whole or none touches it.
 */
static void
build_by24(const struct builder *b, uint16_t *by24)
{
	uint32_t i, x;

	for (x = 0; x < BLOCKS24; x++)
		by24[x] = TT_COUNTRY_ZZ;
	for (i = 0; i < b->n_v4; i++) {
		uint32_t s = be32_at(b->v4[i].start + 12), e = be32_at(b->v4[i].end + 12);

		for (x = s >> 8; x <= e >> 8; x++)
			by24[x] = (x << 8 >= s && (x << 8 | 0xff) <= e) ?
				b->v4[i].country : TT_GEO_MIXED;
	}
}

/*
 * The tables the workers read, from the /24s: a /16 whose /24s are one
 * country is that country, any other gets a block of its 256 /24 entries,
 * in address order. @return 0, or -ENOMEM.
 */
static int
keep_levels(struct tt_geo *g, const uint16_t *by24, int socket_id)
{
	uint32_t *by16;
	uint16_t *blocks;
	uint32_t x, y, n = 0;

	by16 = rte_malloc_socket("tt_geo16", BLOCKS16 * sizeof(*by16), RTE_CACHE_LINE_SIZE,
		socket_id);
	if (by16 == NULL)
		return -ENOMEM;
	g->stats.v4_uniform24 = 0;
	for (x = 0; x < BLOCKS16; x++) {
		const uint16_t *of16 = &by24[x << 8];

		by16[x] = of16[0];
		for (y = 0; y < 256; y++) {
			g->stats.v4_uniform24 += of16[y] != TT_GEO_MIXED;
			if (of16[y] != of16[0])
				by16[x] = TT_GEO_MIXED;
		}
		n += by16[x] == TT_GEO_MIXED;
	}
	g->stats.v4_uniform16 = BLOCKS16 - n;
	/*
	 * One block at least, zeroed: tt_geo_v4_entry24() reads the first
	 * block's first entry for a uniform /16 (and ignores it), and with no
	 * mixed /16 nothing else writes it.
	 */
	blocks = rte_zmalloc_socket("tt_geo24", RTE_MAX(n, 1u) * 256 * sizeof(*blocks),
		RTE_CACHE_LINE_SIZE, socket_id);
	if (blocks == NULL) {
		rte_free(by16);
		return -ENOMEM;
	}
	for (x = 0, n = 0; x < BLOCKS16; x++) {
		if (by16[x] != TT_GEO_MIXED)
			continue;
		memcpy(&blocks[n << 8], &by24[x << 8], 256 * sizeof(*blocks));
		by16[x] = TT_GEO_BLOCK + n++;
	}
	g->v4.by16 = by16;
	g->v4.blocks = blocks;
	g->stats.memory += BLOCKS16 * sizeof(*by16) + (uint64_t)n * 256 * sizeof(*blocks);
	return 0;
}

struct tt_geo *
tt_geo_create(const char *path, int socket_id, char *err, size_t errlen)
{
	struct builder b = { .err = err, .errlen = errlen };
	struct route4 *routes = NULL;
	uint16_t *by24 = NULL;
	struct tt_geo *g = NULL;
	int status, rc;
	uint32_t i;

	err[0] = '\0';
	status = MMDB_open(path, MMDB_MODE_MMAP, &b.db);
	if (status != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, MMDB_strerror(status));
		rte_errno = EINVAL;
		return NULL;
	}
	b.cache_off = calloc(CC_CACHE, sizeof(*b.cache_off));
	b.cache_cc = calloc(CC_CACHE, sizeof(*b.cache_cc));
	g = rte_zmalloc_socket("tt_geo", sizeof(*g), RTE_CACHE_LINE_SIZE, socket_id);
	if (b.cache_off == NULL || b.cache_cc == NULL || g == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto err_free;
	}
	if (b.db.metadata.ip_version == 6) {
		/* A database without an IPv4 subtree answers ZZ for IPv4. */
		rc = b.db.ipv4_start_node.node_value < b.db.metadata.node_count ?
			walk(&b, b.db.ipv4_start_node.node_value, 32) : 0;
		if (rc == 0)
			rc = walk(&b, 0, 128);
	} else {
		rc = walk(&b, 0, 32);
	}
	if (rc != 0)
		goto err_free;
	if (b.v4_prefixes + b.v6_prefixes == 0 ||
			b.records_without_country == b.v4_prefixes + b.v6_prefixes) {
		snprintf(err, errlen, "%s: no record has country_code or country.iso_code", path);
		rc = -EINVAL;
		goto err_free;
	}
	/* Flat while building: the blocks are cut from it, the routes chosen by it. */
	by24 = malloc(BLOCKS24 * sizeof(*by24));
	if (by24 == NULL) {
		snprintf(err, errlen, "out of memory for the IPv4 /24 table");
		rc = -ENOMEM;
		goto err_free;
	}
	build_by24(&b, by24);
	rc = keep_levels(g, by24, socket_id);
	if (rc != 0) {
		snprintf(err, errlen, "out of memory for the IPv4 /16 table and /24 blocks "
			"(raise -m)");
		goto err_free;
	}
	if (collect_routes(&b, by24, &routes, &g->stats.v4_routes) != 0) {
		snprintf(err, errlen, "out of memory for the IPv4 routes");
		rc = -ENOMEM;
		goto err_free;
	}
	free(by24);
	by24 = NULL;
	g->fib4 = build_fib4(&b, routes, g->stats.v4_routes, &g->stats.memory, socket_id);
	free(routes);
	if (g->fib4 == NULL) {
		rc = -ENOMEM;
		goto err_free;
	}
	if (b.n_v6 != 0) {
		size_t starts = RTE_ALIGN_CEIL(b.n_v6 * sizeof(*g->v6_start), RTE_CACHE_LINE_SIZE);

		g->v6_start = rte_malloc_socket("tt_geo6",
			starts + b.n_v6 * sizeof(*g->v6_tail), RTE_CACHE_LINE_SIZE, socket_id);
		if (g->v6_start == NULL) {
			snprintf(err, errlen, "out of memory for %u IPv6 ranges", b.n_v6);
			rc = -ENOMEM;
			goto err_free;
		}
		g->v6_tail = (struct range6_tail *)((uint8_t *)g->v6_start + starts);
		for (i = 0; i < b.n_v6; i++) {
			g->v6_start[i] = addr6_of(b.v6[i].start);
			g->v6_tail[i].end = addr6_of(b.v6[i].end);
			g->v6_tail[i].country = b.v6[i].country;
		}
		g->n_v6 = b.n_v6;
		g->stats.memory += starts + (uint64_t)b.n_v6 * sizeof(*g->v6_tail);
	}
	for (i = 0; i < b.n_aliases; i++)
		g->aliases[i] = alias6_of(&b.aliases[i]);
	g->n_aliases = b.n_aliases;
	g->stats.v4_prefixes = b.v4_prefixes;
	g->stats.v6_prefixes = b.v6_prefixes;
	g->stats.v6_ranges = b.n_v6;
	g->stats.aliases = b.n_aliases;
	GEO_LOG(INFO, "%s: %u IPv4 prefixes in %u FIB routes (%u of 65536 /16s and %u of "
		"2^24 /24s one country), %u IPv6 prefixes in %u ranges, %u IPv4 aliases, "
		"%" PRIu64 " MiB", path, g->stats.v4_prefixes, g->stats.v4_routes,
		g->stats.v4_uniform16, g->stats.v4_uniform24,
		g->stats.v6_prefixes, g->stats.v6_ranges, g->stats.aliases, g->stats.memory >> 20);
	free(b.v4);
	free(b.v6);
	free(b.cache_off);
	free(b.cache_cc);
	MMDB_close(&b.db);
	return g;

err_free:
	tt_geo_free(g);
	free(by24);
	free(b.v4);
	free(b.v6);
	free(b.cache_off);
	free(b.cache_cc);
	MMDB_close(&b.db);
	rte_errno = -rc;
	return NULL;
}

void
tt_geo_free(struct tt_geo *g)
{
	if (g == NULL)
		return;
	rte_fib_free(g->fib4);
	rte_free((void *)(uintptr_t)g->v4.by16);
	rte_free((void *)(uintptr_t)g->v4.blocks);
	rte_free(g->v6_start);
	rte_free(g);
}

void
tt_geo_get_stats(const struct tt_geo *g, struct tt_geo_stats *out)
{
	*out = g->stats;
}
