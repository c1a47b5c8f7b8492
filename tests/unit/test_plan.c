/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flush plan (lib/publisher/plan.c) against the Redis schema of DESIGN.md
 * section 5 and docs/redis-schema.md. The plan is pure, so most of this
 * needs no Redis.
 *
 * Packets whose answers are known are counted as the data path counts them
 * (two worker shards, each source on one worker as RSS steers it) and merged
 * as the publisher merges them (per minute and per hour, with the all
 * scope). The plan writes to a sink that records every command, and the
 * commands are applied to a small model of Redis: what Redis would hold
 * after the flush. What the schema promises is computed here from the packet
 * list alone, by the schema's rules, into the same kind of model. Each schema
 * row is one test that compares its keys both ways: names (prefix, hash tag,
 * scope, bucket), fields or members, values, HyperLogLog registers, TTLs and
 * whether they were set with NX. The model also refuses what Redis would
 * refuse or silently drop (a type clash, an EXPIRE before the key exists, a
 * PFMERGE of something that is no HyperLogLog).
 *
 * The publisher writes three keys itself, around the plan: the health hash,
 * the instance key and the sensors' metadata. Those, and what Redis makes of
 * the plan's scripts and HyperLogLogs, are tested last against a throwaway
 * redis-server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cunit_main.h"
#include "tt_plan.h"
#include "redis_server.h"
#include "tt_classify.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_publisher.h"
#include "tt_sources.h"

/* An assertion whose failure says which key and what differs. */
static void
check_at(bool ok, unsigned int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* CUnit copies the message of a failure */
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, msg, __FILE__, "", CU_FALSE);
}
#define CHECK(ok, ...) check_at((ok), __LINE__, __VA_ARGS__)

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL) {
		perror("calloc");
		exit(2);
	}
	return p;
}

static void *
xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (p == NULL) {
		perror("realloc");
		exit(2);
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL) {
		perror("strdup");
		exit(2);
	}
	return d;
}

/* ------------------------------------------------------------------------ */
/* The recording sink                                                       */

enum ev_kind { EV_BEGIN, EV_CMD, EV_END };

struct event {
	enum ev_kind kind;
	uint32_t tag;                  /* the transaction's (EV_CMD: the open one) */
	int argc;
	char **argv;                   /* copies, each NUL-terminated after its length */
	size_t *lens;
	char *line;                    /* words joined by spaces; binary ones as <N bytes> */
};

struct record {
	struct event *ev;
	unsigned int n;
	unsigned int cmds;             /* EV_CMD events */
	uint32_t tag;
	int fail_cmd;                  /* the command (counted from 0) that fails, or -1 */
	int fail_begin;                /* the tag whose begin fails, or -1 */
};

#define RECORD_INIT { .fail_cmd = -1, .fail_begin = -1 }

static struct event *
rec_push(struct record *r, enum ev_kind kind, uint32_t tag)
{
	struct event *e;

	r->ev = xrealloc(r->ev, (r->n + 1) * sizeof(*r->ev));
	e = &r->ev[r->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->tag = tag;
	return e;
}

static int
rec_begin(void *ctx, uint32_t tag)
{
	struct record *r = ctx;
	char s[32];

	if (r->fail_begin >= 0 && (uint32_t)r->fail_begin == tag)
		return -EPIPE;
	r->tag = tag;
	snprintf(s, sizeof(s), "BEGIN %u", tag);
	rec_push(r, EV_BEGIN, tag)->line = xstrdup(s);
	return 0;
}

static int
rec_end(void *ctx, uint32_t tag)
{
	struct record *r = ctx;
	char s[32];

	snprintf(s, sizeof(s), "END %u", tag);
	rec_push(r, EV_END, tag)->line = xstrdup(s);
	return 0;
}

static bool
is_binary(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL || len > 200 || strncmp(s, "HYLL", 4) == 0;
}

static int
rec_command(void *ctx, int argc, const char **argv, const size_t *lens)
{
	struct record *r = ctx;
	struct event *e;
	size_t total = 1;
	int i;

	if (r->fail_cmd >= 0 && r->cmds == (unsigned int)r->fail_cmd)
		return -EIO;
	e = rec_push(r, EV_CMD, r->tag);
	e->argc = argc;
	e->argv = xcalloc((size_t)argc, sizeof(*e->argv));
	e->lens = xcalloc((size_t)argc, sizeof(*e->lens));
	for (i = 0; i < argc; i++) {
		e->lens[i] = lens[i];
		e->argv[i] = xcalloc(lens[i] + 1, 1);
		memcpy(e->argv[i], argv[i], lens[i]);
		total += lens[i] + 24;
	}
	e->line = xcalloc(total, 1);
	for (i = 0; i < argc; i++) {
		size_t at = strlen(e->line);

		if (is_binary(argv[i], lens[i]))
			snprintf(e->line + at, total - at, "%s<%zu bytes>", i ? " " : "", lens[i]);
		else
			snprintf(e->line + at, total - at, "%s%s", i ? " " : "", e->argv[i]);
	}
	r->cmds++;
	return 0;
}

static void
rec_free(struct record *r)
{
	unsigned int i;
	int j;

	for (i = 0; i < r->n; i++) {
		for (j = 0; j < r->ev[i].argc; j++)
			free(r->ev[i].argv[j]);
		free(r->ev[i].argv);
		free(r->ev[i].lens);
		free(r->ev[i].line);
	}
	free(r->ev);
	memset(r, 0, sizeof(*r));
	r->fail_cmd = -1;
	r->fail_begin = -1;
}

static bool
rec_has(const struct record *r, const char *line)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->ev[i].line, line) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------------ */
/* A model of what Redis holds                                              */

enum kv_type {
	KV_HASH_INCR,                  /* written with HINCRBY */
	KV_HASH_SET,                   /* HSET */
	KV_ZSET_INCR,                  /* ZINCRBY */
	KV_ZSET_MAX,                   /* ZADD GT */
	KV_HLL,                        /* PFMERGE */
	KV_STRING,                     /* SET */
};

static const char *const kv_type_name[] = {
	"hash by HINCRBY", "hash by HSET", "zset by ZINCRBY", "zset by ZADD GT",
	"HyperLogLog by PFMERGE", "string by SET",
};

struct kv_field {
	char *name;
	int64_t n;                     /* a count or a score */
	char *s;                       /* an HSET value */
};

struct kv_key {
	char *name;
	enum kv_type type;
	struct kv_field *f;
	unsigned int n_f;
	struct kv_field *trimmed;      /* members a ZREMRANGEBYSCORE removed */
	unsigned int n_trimmed;
	char trim[32];                 /* that command's max argument */
	uint8_t *regs;                 /* KV_HLL */
	uint8_t *bytes;                /* KV_STRING */
	size_t len;
	int64_t ttl;                   /* -1: none */
	bool ttl_nx;                   /* every EXPIRE of it had NX */
	unsigned int n_expire;
};

struct kv {
	struct kv_key *k;
	unsigned int n;
	unsigned int errors;           /* what Redis would refuse, or do nothing with */
	char **hosts;                  /* host record merges: key and ARGV joined by '|' */
	unsigned int n_hosts;
	char **stream;                 /* XADD arguments after the command, joined by ' ' */
	unsigned int n_stream;
	char **pub;                    /* PUBLISH channel and message */
	unsigned int n_pub;
};

static void
kv_error(struct kv *m, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "redis model: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	m->errors++;
}

static struct kv_key *
kv_find(const struct kv *m, const char *name)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->k[i].name, name) == 0)
			return &m->k[i];
	return NULL;
}

/* The key, made if missing; NULL (and an error) when it holds another type. */
static struct kv_key *
kv_get(struct kv *m, const char *name, enum kv_type type)
{
	struct kv_key *k = kv_find(m, name);

	if (k != NULL) {
		if (k->type == type)
			return k;
		kv_error(m, "%s: %s written as %s (WRONGTYPE)", name, kv_type_name[k->type],
			kv_type_name[type]);
		return NULL;
	}
	m->k = xrealloc(m->k, (m->n + 1) * sizeof(*m->k));
	k = &m->k[m->n++];
	memset(k, 0, sizeof(*k));
	k->name = xstrdup(name);
	k->type = type;
	k->ttl = -1;
	if (type == KV_HLL)
		k->regs = xcalloc(TT_HLL_REGISTERS, 1);
	return k;
}

static struct kv_field *
kv_field(struct kv_key *k, const char *name)
{
	unsigned int i;

	for (i = 0; i < k->n_f; i++)
		if (strcmp(k->f[i].name, name) == 0)
			return &k->f[i];
	k->f = xrealloc(k->f, (k->n_f + 1) * sizeof(*k->f));
	memset(&k->f[k->n_f], 0, sizeof(*k->f));
	k->f[k->n_f].name = xstrdup(name);
	return &k->f[k->n_f++];
}

static const struct kv_field *
kv_field_find(const struct kv_key *k, const char *name)
{
	unsigned int i;

	for (i = 0; i < k->n_f; i++)
		if (strcmp(k->f[i].name, name) == 0)
			return &k->f[i];
	return NULL;
}

static void
kv_key_free(struct kv_key *k)
{
	unsigned int i;

	for (i = 0; i < k->n_f; i++) {
		free(k->f[i].name);
		free(k->f[i].s);
	}
	for (i = 0; i < k->n_trimmed; i++)
		free(k->trimmed[i].name);
	free(k->f);
	free(k->trimmed);
	free(k->regs);
	free(k->bytes);
	free(k->name);
}

static void
kv_free(struct kv *m)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		kv_key_free(&m->k[i]);
	for (i = 0; i < m->n_hosts; i++)
		free(m->hosts[i]);
	for (i = 0; i < m->n_stream; i++)
		free(m->stream[i]);
	for (i = 0; i < m->n_pub; i++)
		free(m->pub[i]);
	free(m->k);
	free(m->hosts);
	free(m->stream);
	free(m->pub);
	memset(m, 0, sizeof(*m));
}

static void
kv_del(struct kv *m, const char *name)
{
	struct kv_key *k = kv_find(m, name);

	if (k == NULL)
		return;
	kv_key_free(k);
	*k = m->k[--m->n];
}

static void
kv_hincr(struct kv *m, const char *key, const char *field, int64_t by)
{
	struct kv_key *k = kv_get(m, key, KV_HASH_INCR);

	if (k != NULL)
		kv_field(k, field)->n += by;
}

static void
kv_hset(struct kv *m, const char *key, const char *field, const char *value)
{
	struct kv_key *k = kv_get(m, key, KV_HASH_SET);
	struct kv_field *f;

	if (k == NULL)
		return;
	f = kv_field(k, field);
	free(f->s);
	f->s = xstrdup(value);
}

static void
kv_zincr(struct kv *m, const char *key, const char *member, int64_t by)
{
	struct kv_key *k = kv_get(m, key, KV_ZSET_INCR);

	if (k != NULL)
		kv_field(k, member)->n += by;
}

/* ZADD GT: a new member, or a higher score. */
static void
kv_zmax(struct kv *m, const char *key, const char *member, int64_t score)
{
	struct kv_key *k = kv_get(m, key, KV_ZSET_MAX);
	bool fresh;
	struct kv_field *f;

	if (k == NULL)
		return;
	fresh = kv_field_find(k, member) == NULL;
	f = kv_field(k, member);
	if (fresh || score > f->n)
		f->n = score;
}

static void
kv_hll_add(struct kv *m, const char *key, uint16_t index, uint8_t rank)
{
	struct kv_key *k = kv_get(m, key, KV_HLL);

	if (k != NULL && k->regs[index] < rank)
		k->regs[index] = rank;
}

static void
kv_expire(struct kv *m, const char *key, int64_t ttl, bool nx)
{
	struct kv_key *k = kv_find(m, key);

	if (k == NULL) {
		/* Redis ignores the EXPIRE of a missing key: the TTL would be lost */
		kv_error(m, "EXPIRE %s before the key exists", key);
		return;
	}
	k->ttl_nx = k->n_expire == 0 ? nx : k->ttl_nx && nx;
	k->n_expire++;
	if (!nx || k->ttl < 0)
		k->ttl = ttl;
}

/* ZREMRANGEBYSCORE key -inf (cutoff: members scored below cutoff go. */
static void
kv_trim(struct kv *m, const char *key, const char *max)
{
	struct kv_key *k = kv_find(m, key);
	int64_t cutoff;
	unsigned int i;

	if (k == NULL || k->type != KV_ZSET_MAX || max[0] != '(') {
		kv_error(m, "ZREMRANGEBYSCORE %s -inf %s: not a rolling set", key, max);
		return;
	}
	snprintf(k->trim, sizeof(k->trim), "%s", max);
	cutoff = strtoll(max + 1, NULL, 10);
	for (i = 0; i < k->n_f;) {
		if (k->f[i].n < cutoff) {
			k->trimmed = xrealloc(k->trimmed, (k->n_trimmed + 1) * sizeof(*k->trimmed));
			k->trimmed[k->n_trimmed++] = k->f[i];
			k->f[i] = k->f[--k->n_f];
		} else {
			i++;
		}
	}
}

static void
push_str(char ***list, unsigned int *n, const char *s)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = xstrdup(s);
}

static char *
join(char *buf, size_t len, char sep, char *const *words, int n)
{
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t at = strlen(buf);

		snprintf(buf + at, len - at, "%s%s", i ? (char[]){ sep, '\0' } : "", words[i]);
	}
	return buf;
}

/*
 * Redis's HyperLogLog string (hyperloglog.c): "HYLL", the encoding (0 dense,
 * 1 sparse), three unused bytes, the cached cardinality; then 16384 6-bit
 * registers, least significant bits first, or the sparse opcodes ZERO
 * 00xxxxxx (1-64 zero registers), XZERO 01xxxxxx yyyyyyyy (1-16384) and VAL
 * 1vvvvvxx (1-4 registers of value 1-32). Decoded here from the format,
 * apart from lib/hll, so that an encoding mistake there shows.
 */
static int
hll_decode(const uint8_t *s, size_t len, uint8_t *regs)
{
	const uint8_t *p = s + 16, *end = s + len;
	uint32_t i = 0, run, value;

	if (len < 16 || memcmp(s, "HYLL", 4) != 0)
		return -1;
	memset(regs, 0, TT_HLL_REGISTERS);
	if (s[4] == 0) {
		if (len != 16 + TT_HLL_REGISTERS * 6 / 8)
			return -1;
		for (i = 0; i < TT_HLL_REGISTERS; i++) {
			size_t bit = (size_t)i * 6, byte = 16 + bit / 8;
			unsigned int shift = bit % 8, v = s[byte] >> shift;

			if (shift > 2)
				v |= (unsigned int)s[byte + 1] << (8 - shift);
			regs[i] = v & 63;
		}
		return 0;
	}
	if (s[4] != 1)
		return -1;
	while (p < end) {
		if ((*p & 0xc0) == 0x00) {
			i += (*p & 0x3f) + 1u;
			p++;
		} else if ((*p & 0xc0) == 0x40) {
			if (p + 1 >= end)
				return -1;
			i += ((unsigned int)(*p & 0x3f) << 8 | p[1]) + 1u;
			p += 2;
		} else {
			run = (*p & 3) + 1u;
			value = ((*p >> 2) & 0x1f) + 1u;
			if (i + run > TT_HLL_REGISTERS)
				return -1;
			while (run-- > 0)
				regs[i++] = (uint8_t)value;
			p++;
		}
		if (i > TT_HLL_REGISTERS)
			return -1;
	}
	return i == TT_HLL_REGISTERS ? 0 : -1;
}

static void
kv_pfmerge(struct kv *m, const char *dst, const char *src)
{
	static uint8_t regs[TT_HLL_REGISTERS];
	struct kv_key *s = kv_find(m, src), *d;
	uint32_t i;

	if (s == NULL || s->type != KV_STRING || hll_decode(s->bytes, s->len, regs) != 0) {
		kv_error(m, "PFMERGE %s %s: the source is no HyperLogLog", dst, src);
		return;
	}
	d = kv_get(m, dst, KV_HLL);
	if (d == NULL)
		return;
	for (i = 0; i < TT_HLL_REGISTERS; i++)
		if (regs[i] > d->regs[i])
			d->regs[i] = regs[i];
}

static void
kv_set(struct kv *m, const char *key, const char *v, size_t len)
{
	struct kv_key *k = kv_find(m, key);

	if (k != NULL)
		kv_del(m, key);                 /* SET replaces any type */
	k = kv_get(m, key, KV_STRING);
	k->bytes = xcalloc(len, 1);
	memcpy(k->bytes, v, len);
	k->len = len;
}

/* What the recorded commands leave in Redis. */
static void
kv_apply(struct kv *m, const struct record *r)
{
	char buf[8192];
	unsigned int i;
	int j;

	for (i = 0; i < r->n; i++) {
		const struct event *e = &r->ev[i];
		char *const *a = e->argv;
		int n = e->argc;

		if (e->kind != EV_CMD)
			continue;
		if ((strcmp(a[0], "MULTI") == 0 || strcmp(a[0], "EXEC") == 0) && n == 1)
			continue;
		if (strcmp(a[0], "HINCRBY") == 0 && n == 4)
			kv_hincr(m, a[1], a[2], strtoll(a[3], NULL, 10));
		else if (strcmp(a[0], "ZINCRBY") == 0 && n == 4)
			kv_zincr(m, a[1], a[3], strtoll(a[2], NULL, 10));
		else if (strcmp(a[0], "ZADD") == 0 && n == 5 && strcmp(a[2], "GT") == 0)
			kv_zmax(m, a[1], a[4], strtoll(a[3], NULL, 10));
		else if (strcmp(a[0], "SET") == 0 && n == 3)
			kv_set(m, a[1], a[2], e->lens[2]);
		else if (strcmp(a[0], "PFMERGE") == 0 && n >= 3)
			for (j = 2; j < n; j++)
				kv_pfmerge(m, a[1], a[j]);
		else if (strcmp(a[0], "DEL") == 0 && n >= 2)
			for (j = 1; j < n; j++)
				kv_del(m, a[j]);
		else if (strcmp(a[0], "EXPIRE") == 0 && n == 3)
			kv_expire(m, a[1], strtoll(a[2], NULL, 10), false);
		else if (strcmp(a[0], "EXPIRE") == 0 && n == 4 && strcmp(a[3], "NX") == 0)
			kv_expire(m, a[1], strtoll(a[2], NULL, 10), true);
		else if (strcmp(a[0], "HSET") == 0 && n >= 4 && n % 2 == 0)
			for (j = 2; j < n; j += 2)
				kv_hset(m, a[1], a[j], a[j + 1]);
		else if (strcmp(a[0], "ZREMRANGEBYSCORE") == 0 && n == 4 &&
				strcmp(a[2], "-inf") == 0)
			kv_trim(m, a[1], a[3]);
		else if (strcmp(a[0], "EVAL") == 0 && n >= 4 && strcmp(a[2], "1") == 0)
			push_str(&m->hosts, &m->n_hosts, join(buf, sizeof(buf), '|', a + 3, n - 3));
		else if (strcmp(a[0], "XADD") == 0 && n >= 2)
			push_str(&m->stream, &m->n_stream,
				join(buf, sizeof(buf), ' ', a + 1, n - 1));
		else if (strcmp(a[0], "PUBLISH") == 0 && n == 3)
			push_str(&m->pub, &m->n_pub, join(buf, sizeof(buf), ' ', a + 1, 2));
		else
			kv_error(m, "a command outside the schema: %s", e->line);
	}
}

/* ------------------------------------------------------------------------ */
/* The rows of the schema, and which row a key name belongs to              */

#define PREFIX "ut-teiten"
#define APPLIANCE "box-7"
#define HOME_CC "JP"

enum row {
	ROW_TOTALS,
	ROW_PORT,
	ROW_PORT_HOME,
	ROW_PORT_CLASS,
	ROW_PORT_HOME_MIRAI,
	ROW_COUNTRY,
	ROW_COUNTRY_MIRAI,
	ROW_SRCS,
	ROW_SRCS_SVC,
	ROW_SRC_MIRAI,
	ROW_SRC_MIRAI_HOME,
	ROW_SRC_DAY_MIRAI,
	ROW_SRC_CLASS,
	ROW_SRC_VICTIMS,
	ROW_FLUSHED,
	ROW_TMP,
	ROW_NONE,
};

enum { N_SENSORS = 2 };
static const char *const sensor_names[N_SENSORS] = { "tokyo-a", "osaka" };

/* The fingerprint classes as the schema spells them, by enum tt_class. */
static const char *const class_names[TT_CLASS_COUNT] = {
	"other", "backscatter", "mirai", "masscan", "zmap", "nmap", "unicorn",
};

static bool
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A service key as the schema writes it: tcp/N udp/N ip/N icmp icmp6 tcp udp overflow. */
static bool
is_service(const char *s, size_t n)
{
	static const char *const bare[] = { "icmp", "icmp6", "tcp", "udp", "overflow" };
	static const char *const numbered[] = { "tcp/", "udp/", "ip/" };
	unsigned int i;

	for (i = 0; i < sizeof(bare) / sizeof(bare[0]); i++)
		if (n == strlen(bare[i]) && strncmp(s, bare[i], n) == 0)
			return true;
	for (i = 0; i < sizeof(numbered) / sizeof(numbered[0]); i++) {
		size_t l = strlen(numbered[i]);

		if (n > l && n <= l + 5 && strncmp(s, numbered[i], l) == 0 &&
				all_digits(s + l, n - l))
			return true;
	}
	return false;
}

static bool
is_class(const char *s, bool scanners_only)
{
	unsigned int c;

	for (c = scanners_only ? TT_CLASS_MASSCAN : TT_CLASS_BACKSCATTER; c < TT_CLASS_COUNT; c++)
		if (strcmp(s, class_names[c]) == 0)
			return true;
	return false;
}

/* The metric of a bucket key: "totals", "port:home", "srcs:tcp/23:mirai", ... */
static enum row
metric_row(const char *m)
{
	static const char *const variants[] = { "", ":home", ":mirai", ":home:mirai",
		":home:nonmirai" };
	enum { N_VARIANTS = sizeof(variants) / sizeof(variants[0]) };
	unsigned int v;

	if (strcmp(m, "totals") == 0)
		return ROW_TOTALS;
	if (strcmp(m, "port") == 0)
		return ROW_PORT;
	if (strcmp(m, "port:home") == 0)
		return ROW_PORT_HOME;
	if (strcmp(m, "port:home:mirai") == 0)
		return ROW_PORT_HOME_MIRAI;
	if (strncmp(m, "port:", 5) == 0 && is_class(m + 5, false))
		return ROW_PORT_CLASS;
	if (strcmp(m, "country") == 0)
		return ROW_COUNTRY;
	if (strcmp(m, "country:mirai") == 0)
		return ROW_COUNTRY_MIRAI;
	if (strncmp(m, "srcs", 4) != 0)
		return ROW_NONE;
	for (v = 0; v < N_VARIANTS; v++)
		if (strcmp(m + 4, variants[v]) == 0)
			return ROW_SRCS;
	if (m[4] != ':')
		return ROW_NONE;
	for (v = 0; v < N_VARIANTS; v++) {
		size_t n = strlen(m + 5), l = strlen(variants[v]);

		if (n > l && strcmp(m + 5 + n - l, variants[v]) == 0 && is_service(m + 5, n - l))
			return ROW_SRCS_SVC;
	}
	return ROW_NONE;
}

/*
 * The schema row of a key, and its bucket kind ('m', 'h', 'd'; 0 for keys
 * of no bucket).
 */
static enum row
key_row(const char *name, char *bucket)
{
	const char *tag, *close, *rest;
	size_t pl = strlen(PREFIX), digits;
	bool known_scope = false;
	unsigned int s;

	*bucket = 0;
	if (strcmp(name, "{" PREFIX ":alerts}:flushed") == 0)
		return ROW_FLUSHED;
	if (strncmp(name, PREFIX ":{", pl + 2) != 0)
		return ROW_NONE;
	tag = name + pl + 2;
	close = strchr(tag, '}');
	if (close == NULL || close == tag || close[1] != ':')
		return ROW_NONE;
	rest = close + 2;
	if (strcmp(rest, "flushed") == 0)
		return ROW_FLUSHED;
	if (strcmp(rest, "tmp:" APPLIANCE) == 0)
		return ROW_TMP;
	if ((size_t)(close - tag) == 3 && strncmp(tag, "src", 3) == 0) {
		if (strcmp(rest, "mirai") == 0)
			return ROW_SRC_MIRAI;
		if (strcmp(rest, "mirai:home") == 0)
			return ROW_SRC_MIRAI_HOME;
		if (is_class(rest, true))
			return ROW_SRC_CLASS;
		if (strncmp(rest, "d:", 2) == 0 && all_digits(rest + 2, 8) && rest[10] == ':') {
			*bucket = 'd';
			if (strcmp(rest + 11, "mirai") == 0)
				return ROW_SRC_DAY_MIRAI;
			if (strcmp(rest + 11, "victims") == 0)
				return ROW_SRC_VICTIMS;
		}
		return ROW_NONE;
	}
	for (s = 0; s < N_SENSORS; s++)
		known_scope |= (size_t)(close - tag) == strlen(sensor_names[s]) &&
			strncmp(tag, sensor_names[s], strlen(sensor_names[s])) == 0;
	known_scope |= (size_t)(close - tag) == 3 && strncmp(tag, "all", 3) == 0;
	if (!known_scope)
		return ROW_NONE;
	digits = rest[0] == 'm' ? 12 : rest[0] == 'h' ? 10 : rest[0] == 'd' ? 8 : 0;
	if (digits == 0 || rest[1] != ':' || !all_digits(rest + 2, digits) ||
			rest[2 + digits] != ':')
		return ROW_NONE;
	*bucket = rest[0];
	return metric_row(rest + 3 + digits);
}

/* ------------------------------------------------------------------------ */
/* The packets, and what the schema says they make                          */

#define T_FLOOD 1709251080u            /* 2024-02-29 23:58:00 UTC, a leap day */
#define T1 1709251090u                 /* 23:58:10 */
#define T2 1709251170u                 /* 23:59:30 */
#define T3 1709251205u                 /* 2024-03-01 00:00:05: the next day and month */
#define T4 1709255700u                 /* 2024-03-01 01:15:00 */

/* Retention: distinct values, so a TTL given to the wrong bucket shows. */
enum {
	TTL_MINUTE = 172801,
	TTL_HOUR = 7776002,
	TTL_DAY = 69120003,
	/*
	 * [retention] sources: 75 minutes. The newest packet is T4 + 2, so the
	 * rolling sets keep what is newer than T4 + 2 - 4500 = T3 - 3: the bot
	 * last seen at T1 is trimmed, the one seen at T3 stays.
	 */
	HORIZON = 4500,
	MIRAI_MIN_PORTS = 2,
	SEQ = 42,
};

#define TCP(p) TT_SVC(TT_SVC_TCP, p)
#define UDP(p) TT_SVC(TT_SVC_UDP, p)

struct pkt {
	uint32_t sec;
	uint16_t sensor;
	const char *src;
	uint32_t svc;                  /* the service key the classifier gives */
	const char *svc_name;          /* ... as the schema writes it */
	const char *cc;
	uint8_t klass;
	uint16_t sport;
	uint16_t bytes;
	bool malformed;
};

/* Services in watch_ports: they get srcs:<svc> HyperLogLogs. */
static const char *const watched[] = { "tcp/22", "tcp/23", "tcp/2323", "udp/53", "icmp" };

static const struct pkt fixed_pkts[] = {
	/*
	 * A home Mirai-type bot: 23/TCP then 2323/TCP (two ports: confirmed),
	 * the next day 23/TCP at the other sensor.
	 */
	{ T1, 0, "203.0.113.7", TCP(23), "tcp/23", "JP", TT_CLASS_MIRAI, 40001, 60, false },
	{ T2, 0, "203.0.113.7", TCP(2323), "tcp/2323", "JP", TT_CLASS_MIRAI, 40001, 60, false },
	{ T3, 1, "203.0.113.7", TCP(23), "tcp/23", "JP", TT_CLASS_MIRAI, 40001, 60, false },
	/* A Mirai-type bot abroad, seen once, then older than the horizon. */
	{ T1, 1, "198.51.100.9", TCP(23), "tcp/23", "US", TT_CLASS_MIRAI, 51000, 54, false },
	/* A home Telnet scan with no fingerprint: counted, no source record. */
	{ T1, 0, "192.0.2.33", TCP(23), "tcp/23", "JP", TT_CLASS_OTHER, 50000, 74, false },
	/* masscan, then Nmap from the same source at the other sensor. */
	{ T3, 0, "192.0.2.50", TCP(80), "tcp/80", "CN", TT_CLASS_MASSCAN, 61000, 60, false },
	{ T4, 1, "192.0.2.50", TCP(443), "tcp/443", "CN", TT_CLASS_NMAP, 61001, 58, false },
	/* ZMap's UDP probe from home, to a watched service. */
	{ T3, 1, "203.0.113.99", UDP(53), "udp/53", "JP", TT_CLASS_ZMAP, 53535, 70, false },
	/* Unicorn over IPv6, and ICMPv6 from the same source. */
	{ T4, 0, "2001:db8:77::1", TCP(22), "tcp/22", "DE", TT_CLASS_UNICORN, 33000, 78, false },
	{ T4, 0, "2001:db8:77::1", TT_SVC(TT_SVC_ICMP6, 0), "icmp6", "DE", TT_CLASS_OTHER, 0, 70,
		false },
	/* Backscatter short of the DoS rule: ICMP unreachables from an unknown country. */
	{ T4, 1, "198.51.100.77", TT_SVC(TT_SVC_ICMP, 0), "icmp", "ZZ", TT_CLASS_BACKSCATTER, 0,
		70, false },
	{ T4 + 1, 1, "198.51.100.77", TT_SVC(TT_SVC_ICMP, 0), "icmp", "ZZ",
		TT_CLASS_BACKSCATTER, 0, 70, false },
	{ T4 + 2, 1, "198.51.100.77", TT_SVC(TT_SVC_ICMP, 0), "icmp", "ZZ",
		TT_CLASS_BACKSCATTER, 0, 70, false },
	/* A malformed GRE packet, and a TCP fragment with no port to read. */
	{ T2, 1, "198.51.100.200", TT_SVC(TT_SVC_IP, 47), "ip/47", "US", TT_CLASS_OTHER, 0, 34,
		true },
	{ T3, 0, "203.0.113.150", TT_SVC(TT_SVC_TCP_BARE, 0), "tcp", "KR", TT_CLASS_OTHER, 0,
		1514, false },
};

/*
 * A DoS victim: 31 SYN-ACKs from 80/TCP and 443/TCP over 60 s (DESIGN: at
 * least 25 packets over at least 60 s at 30 a minute or more).
 */
enum { FLOOD = 31 };
#define VICTIM "192.0.2.200"

static struct pkt pkts[sizeof(fixed_pkts) / sizeof(fixed_pkts[0]) + FLOOD];
static unsigned int n_pkts;

static int
pkt_cmp(const void *a, const void *b)
{
	const struct pkt *x = a, *y = b;

	/* by time; the order of the list among equals (pointers into one array) */
	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void
make_packets(void)
{
	unsigned int i;

	n_pkts = 0;
	for (i = 0; i < sizeof(fixed_pkts) / sizeof(fixed_pkts[0]); i++)
		pkts[n_pkts++] = fixed_pkts[i];
	for (i = 0; i < FLOOD; i++)
		pkts[n_pkts++] = (struct pkt){ T_FLOOD + 2 * i, 0, VICTIM, TCP(33333), "tcp/33333",
			"BR", TT_CLASS_BACKSCATTER, i % 2 ? 443 : 80, 60, false };
	/* the workers see each source's packets in time order */
	qsort(pkts, n_pkts, sizeof(pkts[0]), pkt_cmp);
}

static int
addr_of(const char *text, uint8_t *addr)
{
	if (inet_pton(AF_INET, text, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return 6;
	return 0;
}

static bool
is_watched(const char *svc)
{
	unsigned int i;

	for (i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		if (strcmp(svc, watched[i]) == 0)
			return true;
	return false;
}

/* Mistakes in the fixture's packets, found while building it outside any test. */
static unsigned int fixture_errors;

/* The days of the fixture, checked with `date -u -d @SECONDS`. */
static const struct {
	uint32_t start;
	const char *ymd;
} days[] = {
	{ 1709164800u, "20240229" },
	{ 1709251200u, "20240301" },
};

/* "m:YYYYMMDDHHMM", "h:YYYYMMDDHH" or "d:YYYYMMDD" of a second, in UTC. */
static void
bucket_of(char kind, uint32_t sec, char *buf, size_t len)
{
	unsigned int d;

	for (d = 0; d < sizeof(days) / sizeof(days[0]); d++) {
		uint32_t in = sec - days[d].start;

		if (sec < days[d].start || in >= 86400)
			continue;
		if (kind == 'm')
			snprintf(buf, len, "m:%s%02u%02u", days[d].ymd, in / 3600, in % 3600 / 60);
		else if (kind == 'h')
			snprintf(buf, len, "h:%s%02u", days[d].ymd, in / 3600);
		else
			snprintf(buf, len, "d:%s", days[d].ymd);
		return;
	}
	/* a mistake in the fixture: suite_init() fails on it */
	snprintf(buf, len, "?");
	fixture_errors++;
}

static void
hll_position_of(const struct pkt *p, uint16_t *index, uint8_t *rank)
{
	uint8_t addr[16];
	int family = addr_of(p->src, addr);

	/* the element is the raw address (docs/redis-schema.md) */
	tt_hll_position(addr, family == 4 ? 4 : 16, index, rank);
}

/*
 * The scope keys of every packet, by DESIGN.md section 5: hour and day
 * buckets carry every metric, minute buckets totals, port, country and srcs.
 */
static void
expect_scopes(struct kv *e)
{
	static const char kinds[3] = { 'm', 'h', 'd' };
	static const int64_t ttls[3] = { TTL_MINUTE, TTL_HOUR, TTL_DAY };
	char key[256], bucket[32], base[128];
	unsigned int i, s, k, v;

#define KEY(metric) (snprintf(key, sizeof(key), "%s:%s", base, (metric)), key)
	for (i = 0; i < n_pkts; i++) {
		const struct pkt *p = &pkts[i];
		const char *scopes[2] = { sensor_names[p->sensor], "all" };
		bool home = strcmp(p->cc, HOME_CC) == 0, mirai = p->klass == TT_CLASS_MIRAI;
		bool v6 = strchr(p->src, ':') != NULL;
		const char *proto = strncmp(p->svc_name, "tcp", 3) == 0 ? "tcp" :
			strncmp(p->svc_name, "udp", 3) == 0 ? "udp" :
			strncmp(p->svc_name, "icmp", 4) == 0 ? "icmp" : "other";
		/* the srcs variants a packet belongs to */
		const bool in[5] = { true, home, mirai, home && mirai, home && !mirai };
		static const char *const suffix[5] = { "", ":home", ":mirai", ":home:mirai",
			":home:nonmirai" };
		uint16_t index;
		uint8_t rank;

		hll_position_of(p, &index, &rank);
		for (s = 0; s < 2; s++) {
			for (k = 0; k < 3; k++) {
				char metric[64];

				bucket_of(kinds[k], p->sec, bucket, sizeof(bucket));
				snprintf(base, sizeof(base), PREFIX ":{%s}:%s", scopes[s], bucket);
				kv_hincr(e, KEY("totals"), "pkts", 1);
				kv_hincr(e, key, "bytes", p->bytes);
				kv_hincr(e, key, proto, 1);
				kv_hincr(e, key, home ? "home" : "abroad", 1);
				if (v6)
					kv_hincr(e, key, "v6", 1);
				if (p->malformed)
					kv_hincr(e, key, "malformed", 1);
				if (p->klass != TT_CLASS_OTHER)
					kv_hincr(e, key, class_names[p->klass], 1);
				if (home && mirai)
					kv_hincr(e, key, "home_mirai", 1);
				kv_zincr(e, KEY("port"), p->svc_name, 1);
				kv_zincr(e, KEY("country"), p->cc, 1);
				kv_hll_add(e, KEY("srcs"), index, rank);
				if (kinds[k] != 'm') {
					if (home)
						kv_zincr(e, KEY("port:home"), p->svc_name, 1);
					if (p->klass != TT_CLASS_OTHER) {
						snprintf(metric, sizeof(metric), "port:%s",
							class_names[p->klass]);
						kv_zincr(e, KEY(metric), p->svc_name, 1);
					}
					if (home && mirai)
						kv_zincr(e, KEY("port:home:mirai"), p->svc_name, 1);
					if (mirai)
						kv_zincr(e, KEY("country:mirai"), p->cc, 1);
					for (v = 1; v < 5; v++) {
						if (!in[v])
							continue;
						snprintf(metric, sizeof(metric), "srcs%s",
							suffix[v]);
						kv_hll_add(e, KEY(metric), index, rank);
					}
					for (v = 0; v < 5 && is_watched(p->svc_name); v++) {
						if (!in[v])
							continue;
						snprintf(metric, sizeof(metric), "srcs:%s%s",
							p->svc_name, suffix[v]);
						kv_hll_add(e, KEY(metric), index, rank);
					}
				}
			}
		}
	}
#undef KEY
	/* every bucket key lives as long as its bucket's retention, set with NX */
	for (i = 0; i < e->n; i++) {
		char b;

		if (key_row(e->k[i].name, &b) <= ROW_SRCS_SVC && b != 0)
			kv_expire(e, e->k[i].name,
				b == 'm' ? ttls[0] : b == 'h' ? ttls[1] : ttls[2], true);
	}
}

static uint32_t
asn_of(void *ctx, const uint8_t *addr, uint8_t family)
{
	static const uint8_t bot[4] = { 203, 0, 113, 7 };
	uint8_t v6[16];

	(void)ctx;
	addr_of("2001:db8:77::1", v6);
	if (family == 4 && memcmp(addr, bot, 4) == 0)
		return 64500;
	if (family == 6 && memcmp(addr, v6, 16) == 0)
		return 64501;
	return 0;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted distinct values, joined: names[v] or the number. */
static void
csv_of(uint32_t *v, unsigned int n, const char *const *names, char *buf, size_t len)
{
	unsigned int i;

	qsort(v, n, sizeof(*v), u32_cmp);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t at = strlen(buf);

		if (i > 0 && v[i] == v[i - 1])
			continue;
		if (names != NULL)
			snprintf(buf + at, len - at, "%s%s", at ? "," : "", names[v[i]]);
		else
			snprintf(buf + at, len - at, "%s%u", at ? "," : "", v[i]);
	}
}

/* Services joined in service-key order (the order the host record keeps). */
static void
services_csv(const struct pkt *const *g, unsigned int n, char *buf, size_t len)
{
	uint32_t keys[64];
	unsigned int i, j, k = 0;

	for (i = 0; i < n; i++)
		keys[k++] = g[i]->svc;
	qsort(keys, k, sizeof(keys[0]), u32_cmp);
	buf[0] = '\0';
	for (i = 0; i < k; i++) {
		size_t at = strlen(buf);

		if (i > 0 && keys[i] == keys[i - 1])
			continue;
		for (j = 0; j < n; j++)
			if (g[j]->svc == keys[i])
				break;
		snprintf(buf + at, len - at, "%s%s", at ? "," : "", g[j]->svc_name);
	}
}

/*
 * Is the source a confirmed Mirai-type source at second @p at: have its
 * Mirai-type packets hit MIRAI_MIN_PORTS distinct TCP ports within the
 * horizon, at any of its packets up to then?
 */
static bool
confirmed_at(const char *src, uint32_t at)
{
	unsigned int i, j, k;

	for (i = 0; i < n_pkts; i++) {
		uint32_t ports[16];
		unsigned int n = 0;

		if (strcmp(pkts[i].src, src) != 0 || pkts[i].klass != TT_CLASS_MIRAI ||
				pkts[i].sec > at)
			continue;
		for (j = 0; j <= i; j++) {
			bool seen = false;

			if (strcmp(pkts[j].src, src) != 0 || pkts[j].klass != TT_CLASS_MIRAI ||
					pkts[j].sec + HORIZON < pkts[i].sec)
				continue;
			for (k = 0; k < n; k++)
				seen |= ports[k] == TT_SVC_VALUE(pkts[j].svc);
			if (!seen && n < 16)
				ports[n++] = TT_SVC_VALUE(pkts[j].svc);
		}
		if (n >= MIRAI_MIN_PORTS)
			return true;
	}
	return false;
}

/*
 * The {src} keys (DESIGN.md section 5, "Sources"): every fingerprinted
 * packet's source gets a host record per day, Mirai-type ones the rolling
 * and daily sets, scanners their class's set, DoS victims the day's victims.
 */
static void
expect_sources(struct kv *e)
{
	const char *rolling[] = { "mirai", "mirai:home", "masscan", "zmap", "nmap", "unicorn" };
	char key[256], day[32], rec[2048], cutoff[32];
	uint32_t newest = 0;
	unsigned int i, j, d, r;

	for (i = 0; i < n_pkts; i++) {
		const struct pkt *g[64];
		const char *src = pkts[i].src;
		uint32_t first = 0, bs_first = 0, bs_last = 0, bs_n = 0;
		bool victim = false, first_of_src = true;

		if (pkts[i].klass == TT_CLASS_OTHER)
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(pkts[j].src, src) == 0 && pkts[j].klass != TT_CLASS_OTHER)
				first_of_src = false;
		if (!first_of_src)
			continue;
		first = pkts[i].sec;
		/* one record per source and day */
		for (d = 0; d < sizeof(days) / sizeof(days[0]); d++) {
			uint32_t classes[64], sensors[64], sports[64];
			uint32_t last = 0, mirai_last = 0, class_last[TT_CLASS_COUNT] = { 0 };
			unsigned int n = 0, n_mirai = 0, n_sports = 0, victim_pkts = 0;
			const struct pkt *latest = NULL;
			char ip[64], cls[128], ports[512], sens[128], att[128];
			uint8_t addr[16];

			for (j = 0; j < n_pkts; j++) {
				const struct pkt *p = &pkts[j];

				if (strcmp(p->src, src) != 0 || p->klass == TT_CLASS_OTHER ||
						p->sec < days[d].start ||
						p->sec >= days[d].start + 86400)
					continue;
				g[n] = p;
				classes[n] = p->klass;
				sensors[n] = p->sensor;
				n++;
				latest = p;
				if (p->sec > last)
					last = p->sec;
				if (p->sec > class_last[p->klass])
					class_last[p->klass] = p->sec;
				if (p->klass == TT_CLASS_MIRAI) {
					n_mirai++;
					mirai_last = p->sec;
				}
				if (p->klass == TT_CLASS_BACKSCATTER) {
					sports[n_sports++] = p->sport;
					/* the DoS rule, judged as the packets come */
					if (bs_n == 0)
						bs_first = p->sec;
					bs_last = p->sec;
					bs_n++;
					if (victim) {
						victim_pkts++;
					} else if (bs_n >= 25 && bs_last - bs_first >= 60 &&
							bs_n * 60 >= 30 * (bs_last - bs_first)) {
						victim = true;
						victim_pkts += bs_n;
					}
				}
			}
			if (n == 0)
				continue;
			if (last > newest)
				newest = last;
			bucket_of('d', days[d].start, day, sizeof(day));
			addr_of(src, addr);
			inet_ntop(strchr(src, ':') ? AF_INET6 : AF_INET, addr, ip, sizeof(ip));
			if (n_mirai > 0) {
				kv_zmax(e, PREFIX ":{src}:mirai", ip, mirai_last);
				if (strcmp(latest->cc, HOME_CC) == 0)
					kv_zmax(e, PREFIX ":{src}:mirai:home", ip, mirai_last);
				snprintf(key, sizeof(key), PREFIX ":{src}:%s:mirai", day);
				kv_zincr(e, key, ip, n_mirai);
				kv_expire(e, key, TTL_DAY, true);
			}
			for (r = TT_CLASS_MASSCAN; r < TT_CLASS_COUNT; r++) {
				if (class_last[r] == 0)
					continue;
				snprintf(key, sizeof(key), PREFIX ":{src}:%s", class_names[r]);
				kv_zmax(e, key, ip, class_last[r]);
			}
			if (victim_pkts > 0) {
				snprintf(key, sizeof(key), PREFIX ":{src}:%s:victims", day);
				kv_zincr(e, key, ip, victim_pkts);
				kv_expire(e, key, TTL_DAY, true);
			}
			/*
			 * ARGV: pkts first last classes country asn ports
			 * sensors confirmed attacked ttl
			 */
			csv_of(classes, n, class_names, cls, sizeof(cls));
			services_csv(g, n, ports, sizeof(ports));
			csv_of(sensors, n, (const char *const *)sensor_names, sens, sizeof(sens));
			csv_of(sports, n_sports, NULL, att, sizeof(att));
			{
				uint32_t asn = asn_of(NULL, addr, strchr(src, ':') ? 6 : 4);
				char asn_s[16] = "";

				if (asn != 0)
					snprintf(asn_s, sizeof(asn_s), "%u", asn);
				snprintf(rec, sizeof(rec), PREFIX ":{src}:host:%s"
					"|%u|%u|%u|%s|%s|%s|%s|%s|%s|%s|%u", ip, n, first,
					last, cls, latest->cc, asn_s, ports, sens,
					confirmed_at(src, last) ? "1" : "0", att, HORIZON);
			}
			push_str(&e->hosts, &e->n_hosts, rec);
		}
	}
	/* rolling sets: trimmed against the newest packet, kept alive for the horizon */
	snprintf(cutoff, sizeof(cutoff), "(%u", newest - HORIZON);
	for (r = 0; r < sizeof(rolling) / sizeof(rolling[0]); r++) {
		snprintf(key, sizeof(key), PREFIX ":{src}:%s", rolling[r]);
		if (kv_find(e, key) == NULL)
			continue;
		kv_trim(e, key, cutoff);
		kv_expire(e, key, HORIZON, false);
	}
}

static const char *const alert_fields[] = {
	"ts", "1709251200", "kind", "surge", "scope", "tokyo-a", "subject", "tcp/23",
	"res", "m", "metric", "pkts", "observed", "40", "baseline", "2.5", "score", "12.1",
	"breadth", "local", "message", "tcp/23 surges at tokyo-a: 40 packets against 2.5",
};
#define ALERT_JSON "{\"ts\":1709251200,\"kind\":\"surge\"}"

/* The bookkeeping: each transaction records the flush in its own slot. */
static void
expect_bookkeeping(struct kv *e)
{
	const char *keys[] = {
		PREFIX ":{tokyo-a}:flushed", PREFIX ":{osaka}:flushed", PREFIX ":{all}:flushed",
		PREFIX ":{src}:flushed", "{" PREFIX ":alerts}:flushed",
	};
	char seq[16];
	unsigned int i;

	snprintf(seq, sizeof(seq), "%u", SEQ);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		kv_hset(e, keys[i], APPLIANCE, seq);
		kv_expire(e, keys[i], TTL_DAY, false);
	}
	push_str(&e->stream, &e->n_stream, PREFIX ":alerts MAXLEN ~ 100000 * "
		"ts 1709251200 kind surge scope tokyo-a subject tcp/23 res m metric pkts "
		"observed 40 baseline 2.5 score 12.1 breadth local "
		"message tcp/23 surges at tokyo-a: 40 packets against 2.5");
	push_str(&e->pub, &e->n_pub, PREFIX ":alerts " ALERT_JSON);
}

/* ------------------------------------------------------------------------ */
/* Counting the packets as the data path and the publisher do               */

static const struct tt_plan_conf conf = {
	.prefix = PREFIX, .appliance_id = APPLIANCE, .sensor_names = sensor_names,
	.n_sensors = N_SENSORS, .ttl_minute = TTL_MINUTE, .ttl_hour = TTL_HOUR,
	.ttl_day = TTL_DAY, .horizon = HORIZON, .asn_of = asn_of,
};

enum { TAG_TOKYO, TAG_OSAKA, TAG_ALL, TAG_SRC, TAG_ALERTS, N_TAGS };

struct fixture {
	struct tt_merged *minutes;     /* the publisher's minute backlog */
	struct tt_merged *hours;       /* its hour backlog */
	struct tt_sources_deltas *sources; /* and the source deltas beside it */
	struct record rec;             /* the plan of one flush, with an alert */
	struct kv got;                 /* what it leaves in Redis */
	struct kv want;                /* what the schema says it should */
	int rc;
};

static struct fixture fx;

static struct tt_shard *
worker_shard(uint32_t port_cells, uint32_t country_cells)
{
	return tt_counters_create(&(struct tt_counters_conf){ .port_cells = port_cells,
		.country_cells = country_cells, .hll_cells = 64, .hll_sparse = 64,
		.hll_dense = 8 });
}

/* A worker interval's source deltas, beside its shard. */
static struct tt_sources_deltas *
worker_deltas(void)
{
	return tt_sources_deltas_create(64, false);
}

/* The publisher's backlog (publisher.c): minutes, hours, and the source deltas. */
static void
merged_shards(struct fixture *f)
{
	f->minutes = tt_counters_merged_create(64);
	f->hours = tt_counters_merged_create(64);
	f->sources = tt_sources_deltas_create(64, true);
}

static void
merged_shards_free(struct fixture *f)
{
	tt_counters_merged_free(f->minutes);
	tt_counters_merged_free(f->hours);
	tt_sources_deltas_free(f->sources);
}

/* One packet into a worker's shard and source table, as worker_dp.c does. */
static int
count_packet(struct tt_shard *w, struct tt_sources_deltas *d, struct tt_sources_table *t,
		const struct pkt *p)
{
	uint8_t addr[16];
	int family = addr_of(p->src, addr);
	struct tt_count_pkt cp = {
		.minute = p->sec / 60, .svc = p->svc, .bytes = p->bytes, .sensor = p->sensor,
		.country = (uint16_t)tt_classify_country_index(p->cc), .klass = p->klass,
		.home = strcmp(p->cc, HOME_CC) == 0, .v6 = family == 6,
		.malformed = p->malformed, .watched = is_watched(p->svc_name),
	};
	struct tt_sources_pkt sp = {
		.addr = addr, .family = (uint8_t)family, .klass = p->klass, .home = cp.home,
		.country = cp.country, .sensor = p->sensor, .sport = p->sport,
		.dport = TT_SVC_KIND(p->svc) == TT_SVC_TCP || TT_SVC_KIND(p->svc) == TT_SVC_UDP ?
			TT_SVC_VALUE(p->svc) : 0,
		.svc = p->svc, .sec = p->sec,
	};

	if (family == 0 || cp.country >= TT_COUNTRY_COUNT) {
		fixture_errors++;
		return -EINVAL;
	}
	hll_position_of(p, &cp.hll_index, &cp.hll_rank);
	tt_counters_add(w, &cp);
	if (p->klass != TT_CLASS_OTHER)
		tt_sources_update(t, d, &sp);
	return 0;
}

static int
plan_flush(const struct fixture *f, struct record *r, const uint8_t *done, bool with_alert,
		const struct tt_plan_conf *c)
{
	const struct tt_plan_sink sink = {
		.begin_tag = rec_begin, .command = rec_command, .end_tag = rec_end, .ctx = r,
	};
	const struct tt_plan_alert a = { .n_fields = 11, .fields = alert_fields,
		.json = ALERT_JSON };
	const struct tt_plan_alerts alerts = { .e = &a, .n = 1 };

	return tt_plan_flush(c, f->minutes, f->hours, f->sources, with_alert ? &alerts : NULL,
		SEQ, done, &sink);
}

static int
suite_init(void)
{
	struct tt_sources_conf sc = { .entries = 64, .mirai_min_ports = MIRAI_MIN_PORTS,
		.horizon = HORIZON };
	struct tt_shard *w[2];
	struct tt_sources_deltas *d[2];
	struct tt_sources_table *t[2];
	unsigned int i;
	int rc = -1;

	memset(&fx, 0, sizeof(fx));
	fx.rec = (struct record)RECORD_INIT;
	make_packets();
	for (i = 0; i < 2; i++) {
		w[i] = worker_shard(256, 64);
		d[i] = worker_deltas();
		t[i] = tt_sources_table_create(&sc);
	}
	merged_shards(&fx);
	if (w[0] == NULL || w[1] == NULL || d[0] == NULL || d[1] == NULL || t[0] == NULL ||
			t[1] == NULL || fx.minutes == NULL || fx.hours == NULL || fx.sources == NULL)
		goto out;
	/* a source's packets go to one worker, as RSS on the source address steers them */
	for (i = 0; i < n_pkts; i++) {
		uint8_t addr[16];
		int family = addr_of(pkts[i].src, addr);
		unsigned int k = addr[family == 4 ? 3 : 15] & 1;

		count_packet(w[k], d[k], t[k], &pkts[i]);
	}
	for (i = 0; i < 2; i++) {
		if (tt_counters_merge(fx.minutes, w[i], 1, true) != 0 ||
				tt_counters_merge(fx.hours, w[i], 60, true) != 0 ||
				tt_sources_deltas_merge(fx.sources, d[i]) != 0)
			goto out;
	}
	fx.rc = plan_flush(&fx, &fx.rec, NULL, true, &conf);
	kv_apply(&fx.got, &fx.rec);
	expect_scopes(&fx.want);
	expect_sources(&fx.want);
	expect_bookkeeping(&fx.want);
	rc = fx.want.errors == 0 && fixture_errors == 0 ? 0 : -1;
out:
	for (i = 0; i < 2; i++) {
		tt_counters_free(w[i]);
		tt_sources_deltas_free(d[i]);
		tt_sources_table_free(t[i]);
	}
	return rc;
}

static int
suite_fini(void)
{
	merged_shards_free(&fx);
	rec_free(&fx.rec);
	kv_free(&fx.got);
	kv_free(&fx.want);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Comparing a row                                                          */

static void
compare_key(const struct kv_key *w, const struct kv_key *g, bool bucket)
{
	unsigned int i, diff = 0;

	CHECK(w->type == g->type, "%s: a %s, expected a %s", w->name, kv_type_name[g->type],
		kv_type_name[w->type]);
	if (w->type != g->type)
		return;
	CHECK(w->n_f == g->n_f, "%s: %u fields or members, expected %u", w->name, g->n_f,
		w->n_f);
	for (i = 0; i < w->n_f; i++) {
		const struct kv_field *wf = &w->f[i], *gf = kv_field_find(g, wf->name);

		CHECK(gf != NULL, "%s: %s missing", w->name, wf->name);
		if (gf == NULL)
			continue;
		if (w->type == KV_HASH_SET)
			CHECK(strcmp(wf->s, gf->s) == 0, "%s %s: \"%s\", expected \"%s\"", w->name,
				wf->name, gf->s, wf->s);
		else
			CHECK(wf->n == gf->n, "%s %s: %" PRId64 ", expected %" PRId64, w->name,
				wf->name, gf->n, wf->n);
	}
	for (i = 0; i < g->n_f; i++)
		CHECK(kv_field_find(w, g->f[i].name) != NULL, "%s: %s not expected", w->name,
			g->f[i].name);
	if (w->type == KV_HLL) {
		for (i = 0; i < TT_HLL_REGISTERS; i++)
			diff += w->regs[i] != g->regs[i];
		CHECK(diff == 0, "%s: %u registers differ", w->name, diff);
	}
	CHECK(strcmp(w->trim, g->trim) == 0, "%s: trimmed below \"%s\", expected \"%s\"",
		w->name, g->trim, w->trim);
	CHECK(w->n_trimmed == g->n_trimmed, "%s: %u members trimmed, expected %u", w->name,
		g->n_trimmed, w->n_trimmed);
	for (i = 0; i < w->n_trimmed && i < g->n_trimmed; i++)
		CHECK(strcmp(w->trimmed[i].name, g->trimmed[i].name) == 0 &&
			w->trimmed[i].n == g->trimmed[i].n, "%s: trimmed %s %" PRId64
			", expected %s %" PRId64, w->name, g->trimmed[i].name, g->trimmed[i].n,
			w->trimmed[i].name, w->trimmed[i].n);
	CHECK(w->ttl == g->ttl, "%s: TTL %" PRId64 ", expected %" PRId64, w->name, g->ttl,
		w->ttl);
	CHECK(w->ttl_nx == g->ttl_nx, "%s: EXPIRE %s NX, expected %s", w->name,
		g->ttl_nx ? "with" : "without", w->ttl_nx ? "with" : "without");
	/* a scope's bucket run closes with one EXPIRE a key it wrote */
	CHECK(bucket ? g->n_expire == 1 : g->n_expire >= 1, "%s: %u EXPIREs", w->name,
		g->n_expire);
}

/*
 * Every key of @p row the schema expects is written as expected, and no
 * other key of that row is. @return the keys expected (each row's fixture
 * must have some, or the row tests nothing).
 */
static unsigned int
compare_row(enum row row)
{
	unsigned int i, n = 0;
	char b;

	CU_ASSERT_EQUAL(fx.rc, 0);
	CU_ASSERT_EQUAL(fx.got.errors, 0);
	for (i = 0; i < fx.want.n; i++) {
		const struct kv_key *w = &fx.want.k[i], *g;

		if (key_row(w->name, &b) != row)
			continue;
		n++;
		g = kv_find(&fx.got, w->name);
		CHECK(g != NULL, "%s: not written", w->name);
		if (g != NULL)
			compare_key(w, g, row <= ROW_SRCS_SVC);
	}
	for (i = 0; i < fx.got.n; i++)
		if (key_row(fx.got.k[i].name, &b) == row)
			CHECK(kv_find(&fx.want, fx.got.k[i].name) != NULL,
				"%s: written, not expected", fx.got.k[i].name);
	CHECK(n > 0, "row %d: the fixture expects no key of it", (int)row);
	return n;
}

/* A key's fields, for the tests that name values outright. */
static int64_t
got_value(const char *key, const char *field)
{
	const struct kv_key *k = kv_find(&fx.got, key);
	const struct kv_field *f = k != NULL ? kv_field_find(k, field) : NULL;

	return f != NULL ? f->n : -1;
}

/* ------------------------------------------------------------------------ */
/* One test a row of DESIGN.md section 5                                    */

static void
test_row_totals(void)
{
	static const char *const fields[] = {
		"pkts", "bytes", "tcp", "udp", "icmp", "other", "v6", "home", "abroad", "malformed",
		"backscatter", "mirai", "masscan", "zmap", "nmap", "unicorn", "home_mirai",
	};
	const struct kv_key *day1, *day2;
	unsigned int i;

	compare_row(ROW_TOTALS);
	/* every field of the row is exercised by the fixture, in some day */
	day1 = kv_find(&fx.want, PREFIX ":{all}:d:20240229:totals");
	day2 = kv_find(&fx.want, PREFIX ":{all}:d:20240301:totals");
	CU_ASSERT_PTR_NOT_NULL_FATAL(day1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(day2);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		CHECK(kv_field_find(day1, fields[i]) != NULL ||
			kv_field_find(day2, fields[i]) != NULL,
			"the fixture has no packet for totals field %s", fields[i]);
	/* a few figures outright: 31 SYN-ACKs, two Mirai-type SYNs, a home Telnet scan */
	CU_ASSERT_EQUAL(got_value(PREFIX ":{tokyo-a}:h:2024022923:totals", "pkts"), 34);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{tokyo-a}:h:2024022923:totals", "backscatter"), 31);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{tokyo-a}:h:2024022923:totals", "home_mirai"), 2);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:d:20240229:totals", "bytes"),
		31 * 60 + 60 + 60 + 54 + 74 + 34);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:d:20240301:totals", "abroad"), 8);
	/* fields that are 0 are absent */
	CU_ASSERT_EQUAL(got_value(PREFIX ":{osaka}:d:20240229:totals", "udp"), -1);
}

static void
test_row_port(void)
{
	compare_row(ROW_PORT);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:d:20240229:port", "tcp/23"), 3);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:m:202402292358:port", "tcp/33333"), 30);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:m:202402292359:port", "tcp/33333"), 1);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{tokyo-a}:d:20240301:port", "tcp"), 1);
}

static void
test_row_port_home(void)
{
	compare_row(ROW_PORT_HOME);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{tokyo-a}:h:2024022923:port:home", "tcp/23"), 2);
}

static void
test_row_port_class(void)
{
	char suffix[32];
	unsigned int c, i;
	char b;

	compare_row(ROW_PORT_CLASS);
	/* each class of the schema has its keys, "other" none */
	for (c = TT_CLASS_OTHER; c < TT_CLASS_COUNT; c++) {
		unsigned int n = 0;

		snprintf(suffix, sizeof(suffix), ":port:%s", class_names[c]);
		for (i = 0; i < fx.got.n; i++) {
			const char *name = fx.got.k[i].name;
			size_t l = strlen(name);

			n += key_row(name, &b) == ROW_PORT_CLASS && l > strlen(suffix) &&
				strcmp(name + l - strlen(suffix), suffix) == 0;
		}
		CHECK(c == TT_CLASS_OTHER ? n == 0 : n > 0, "%u port:%s keys", n, class_names[c]);
	}
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:d:20240301:port:unicorn", "tcp/22"), 1);
}

static void
test_row_port_home_mirai(void)
{
	compare_row(ROW_PORT_HOME_MIRAI);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:d:20240229:port:home:mirai", "tcp/2323"), 1);
	/* the bot abroad is no home one */
	CU_ASSERT_EQUAL(got_value(PREFIX ":{osaka}:d:20240229:port:home:mirai", "tcp/23"), -1);
}

static void
test_row_country(void)
{
	compare_row(ROW_COUNTRY);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:d:20240229:country", "BR"), 31);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{osaka}:d:20240301:country", "ZZ"), 3);
}

static void
test_row_country_mirai(void)
{
	compare_row(ROW_COUNTRY_MIRAI);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:d:20240229:country:mirai", "JP"), 2);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{all}:d:20240229:country:mirai", "US"), 1);
}

static unsigned int
registers_set(const char *key)
{
	const struct kv_key *k = kv_find(&fx.got, key);
	unsigned int i, n = 0;

	if (k == NULL || k->type != KV_HLL)
		return 0;
	for (i = 0; i < TT_HLL_REGISTERS; i++)
		n += k->regs[i] != 0;
	return n;
}

static void
test_row_srcs(void)
{
	compare_row(ROW_SRCS);
	/* a register a source (no two of the fixture's share one) */
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240229:srcs"), 5);
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240229:srcs:home"), 2);
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240229:srcs:mirai"), 2);
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240229:srcs:home:mirai"), 1);
	/* the home Telnet scan with no fingerprint; the next day ZMap's from home */
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240229:srcs:home:nonmirai"), 1);
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240301:srcs:home:nonmirai"), 1);
}

static void
test_row_srcs_svc(void)
{
	compare_row(ROW_SRCS_SVC);
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240229:srcs:tcp/23"), 3);
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240229:srcs:tcp/23:home"), 2);
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240229:srcs:tcp/23:home:mirai"), 1);
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240229:srcs:tcp/23:home:nonmirai"), 1);
	/* the home bot's Mirai-type 23/TCP the next day is no non-Mirai-type source */
	CU_ASSERT_PTR_NULL(kv_find(&fx.got, PREFIX ":{all}:d:20240301:srcs:tcp/23:home:nonmirai"));
	CU_ASSERT_EQUAL(registers_set(PREFIX ":{all}:d:20240301:srcs:tcp/22"), 1);
	/* unwatched services have none */
	CU_ASSERT_PTR_NULL(kv_find(&fx.got, PREFIX ":{all}:d:20240301:srcs:tcp/80"));
}

/* "Minute buckets carry only totals, port, country and srcs." */
static void
test_minute_buckets(void)
{
	unsigned int i, minute_keys = 0;
	char b;

	for (i = 0; i < fx.got.n; i++) {
		const char *name = fx.got.k[i].name;
		enum row row = key_row(name, &b);
		size_t n = strlen(name);

		if (b != 'm')
			continue;
		minute_keys++;
		CHECK(row == ROW_TOTALS || row == ROW_PORT || row == ROW_COUNTRY ||
			(row == ROW_SRCS && n > 5 && strcmp(name + n - 5, ":srcs") == 0),
			"%s: a minute bucket carries it", name);
	}
	/* 23:58, 23:59, 00:00 and 01:15 in each scope, 4 keys each */
	CU_ASSERT_EQUAL(minute_keys, 3 * 4 * 4);
}

/* Buckets m:YYYYMMDDHHMM, h:YYYYMMDDHH, d:YYYYMMDD in UTC, across a leap day's end. */
static void
test_bucket_names(void)
{
	static const char *const want[] = {
		"m:202402292358", "m:202402292359", "m:202403010000", "m:202403010115",
		"h:2024022923", "h:2024030100", "h:2024030101",
		"d:20240229", "d:20240301",
	};
	char seen[16][16];
	unsigned int i, j, n = 0;
	char b;

	for (i = 0; i < fx.got.n; i++) {
		const char *name = fx.got.k[i].name;
		const char *start = strstr(name, "}:") + 2;
		size_t len;

		if (key_row(name, &b) > ROW_SRCS_SVC || b == 0)
			continue;
		len = (size_t)(strchr(start + 2, ':') - start);
		for (j = 0; j < n; j++)
			if (strlen(seen[j]) == len && strncmp(seen[j], start, len) == 0)
				break;
		if (j == n && n < 16)
			snprintf(seen[n++], sizeof(seen[0]), "%.*s", (int)len, start);
	}
	CU_ASSERT_EQUAL(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;

		for (j = 0; j < n; j++)
			found |= strcmp(seen[j], want[i]) == 0;
		CHECK(found, "no bucket %s", want[i]);
	}
}

static void
test_row_src_mirai(void)
{
	char want[128];

	compare_row(ROW_SRC_MIRAI);
	/* the bot abroad was written, then trimmed with the horizon */
	snprintf(want, sizeof(want), "ZADD " PREFIX ":{src}:mirai GT %u 198.51.100.9", T1);
	CU_ASSERT(rec_has(&fx.rec, want));
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:mirai", "203.0.113.7"), T3);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:mirai", "198.51.100.9"), -1);
}

static void
test_row_src_mirai_home(void)
{
	compare_row(ROW_SRC_MIRAI_HOME);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:mirai:home", "203.0.113.7"), T3);
}

static void
test_row_src_day_mirai(void)
{
	compare_row(ROW_SRC_DAY_MIRAI);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:d:20240229:mirai", "203.0.113.7"), 2);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:d:20240301:mirai", "203.0.113.7"), 1);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_row_src_host(void)
{
	unsigned int i, scripts = 0;

	CU_ASSERT_EQUAL(fx.rc, 0);
	/* one merge a source and day, in any order */
	qsort(fx.got.hosts, fx.got.n_hosts, sizeof(char *), str_cmp);
	qsort(fx.want.hosts, fx.want.n_hosts, sizeof(char *), str_cmp);
	CHECK(fx.got.n_hosts == fx.want.n_hosts, "%u host records, expected %u",
		fx.got.n_hosts, fx.want.n_hosts);
	for (i = 0; i < fx.want.n_hosts && i < fx.got.n_hosts; i++)
		CHECK(strcmp(fx.got.hosts[i], fx.want.hosts[i]) == 0, "host record %s, expected %s",
			fx.got.hosts[i], fx.want.hosts[i]);
	for (i = 0; i < fx.rec.n; i++) {
		const struct event *e = &fx.rec.ev[i];

		if (e->kind != EV_CMD || strcmp(e->argv[0], "EVAL") != 0)
			continue;
		scripts++;
		CU_ASSERT_EQUAL(e->argc, 15);
		CU_ASSERT_PTR_NOT_NULL(strstr(e->argv[1], "redis.call('EXPIRE', k, ARGV[11])"));
	}
	CU_ASSERT_EQUAL(scripts, fx.want.n_hosts);
	/* a bot on two days, a bot, a victim; a scanner, ZMap, Unicorn, backscatter */
	CU_ASSERT_EQUAL(fx.want.n_hosts, 2 + 1 + 1 + 4);
}

static void
test_row_src_class(void)
{
	compare_row(ROW_SRC_CLASS);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:masscan", "192.0.2.50"), T3);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:nmap", "192.0.2.50"), T4);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:unicorn", "2001:db8:77::1"), T4);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:zmap", "203.0.113.99"), T3);
	/* backscatter and Mirai-type have sets of their own, not these */
	CU_ASSERT_PTR_NULL(kv_find(&fx.got, PREFIX ":{src}:backscatter"));
}

static void
test_row_src_victims(void)
{
	compare_row(ROW_SRC_VICTIMS);
	CU_ASSERT_EQUAL(got_value(PREFIX ":{src}:d:20240229:victims", VICTIM), FLOOD);
	/* three ICMP unreachables are no DoS */
	CU_ASSERT_PTR_NULL(kv_find(&fx.got, PREFIX ":{src}:d:20240301:victims"));
}

static void
test_row_alerts(void)
{
	CU_ASSERT_EQUAL(fx.rc, 0);
	CU_ASSERT_EQUAL_FATAL(fx.got.n_stream, fx.want.n_stream);
	CU_ASSERT_STRING_EQUAL(fx.got.stream[0], fx.want.stream[0]);
	CU_ASSERT_EQUAL_FATAL(fx.got.n_pub, fx.want.n_pub);
	CU_ASSERT_STRING_EQUAL(fx.got.pub[0], fx.want.pub[0]);
	/* the stream's transaction is the last one: its buckets are committed first */
	CU_ASSERT_STRING_EQUAL(fx.rec.ev[fx.rec.n - 1].line, "END 4");
}

static void
test_row_flushed(void)
{
	compare_row(ROW_FLUSHED);
}

/*
 * HyperLogLogs are written as unions: SET of a temporary key in the scope's
 * slot, PFMERGE into the bucket's key, and the temporary key deleted before
 * the transaction ends.
 */
static void
test_tmp_hll(void)
{
	unsigned int i, sets = 0, merges = 0, dels = 0;
	bool set_before = false;
	char tmp[128] = "";

	CU_ASSERT_EQUAL(fx.rc, 0);
	for (i = 0; i < fx.got.n; i++)
		CHECK(strstr(fx.got.k[i].name, ":tmp:") == NULL, "%s left behind",
			fx.got.k[i].name);
	for (i = 0; i < fx.rec.n; i++) {
		const struct event *e = &fx.rec.ev[i];

		if (e->kind == EV_BEGIN) {
			CHECK(!set_before, "tag %u: the temporary key left behind", e->tag);
			snprintf(tmp, sizeof(tmp), PREFIX ":{%s}:tmp:" APPLIANCE,
				e->tag < N_SENSORS ? sensor_names[e->tag] :
				e->tag == TAG_ALL ? "all" : "src");
			continue;
		}
		if (e->kind != EV_CMD)
			continue;
		if (strcmp(e->argv[0], "SET") == 0) {
			CU_ASSERT_STRING_EQUAL(e->argv[1], tmp);
			set_before = true;
			sets++;
		} else if (strcmp(e->argv[0], "PFMERGE") == 0) {
			CU_ASSERT_EQUAL(e->argc, 3);
			CU_ASSERT_STRING_EQUAL(e->argv[2], tmp);
			CU_ASSERT(set_before);
			merges++;
		} else if (strcmp(e->argv[0], "DEL") == 0) {
			CU_ASSERT_STRING_EQUAL(e->line + 4, tmp);
			set_before = false;
			dels++;
		}
	}
	CU_ASSERT_EQUAL(sets, merges);
	CU_ASSERT(merges > 0);
	CU_ASSERT_EQUAL(dels, 3);      /* tokyo-a, osaka, all */
}

/* No key outside the schema's rows; no command Redis would refuse or ignore. */
static void
test_no_other_key(void)
{
	unsigned int i;
	char b;

	CU_ASSERT_EQUAL(fx.rc, 0);
	CU_ASSERT_EQUAL(fx.got.errors, 0);
	for (i = 0; i < fx.got.n; i++)
		CHECK(key_row(fx.got.k[i].name, &b) != ROW_NONE, "%s: in no row of the schema",
			fx.got.k[i].name);
	CU_ASSERT_EQUAL(fx.got.n, fx.want.n);
}

/* The hash tag of a key, as Redis Cluster finds it. */
static void
slot_tag(const char *key, char *buf, size_t len)
{
	const char *open = strchr(key, '{'), *close = open ? strchr(open + 1, '}') : NULL;

	if (open == NULL || close == NULL || close == open + 1)
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%.*s", (int)(close - open - 1), open + 1);
}

/*
 * Delivery: one MULTI/EXEC a hash-tag slot (sensors, all, src, then the
 * alerts stream), each ending with the flush recorded, and every key a
 * transaction names in its slot, as a Redis Cluster requires.
 */
static void
test_transactions(void)
{
	static const char *const tags[N_TAGS] = { "tokyo-a", "osaka", "all", "src",
		PREFIX ":alerts" };
	unsigned int i, order = 0;
	int open = -1, j;
	char tag[128];

	CU_ASSERT_EQUAL(fx.rc, 0);
	for (i = 0; i < fx.rec.n; i++) {
		const struct event *e = &fx.rec.ev[i];

		if (e->kind == EV_BEGIN) {
			CU_ASSERT_EQUAL(open, -1);
			CU_ASSERT_EQUAL(e->tag, order);
			order++;
			open = (int)e->tag;
			CU_ASSERT_FATAL(i + 1 < fx.rec.n);
			CU_ASSERT_STRING_EQUAL(fx.rec.ev[i + 1].line, "MULTI");
			continue;
		}
		if (e->kind == EV_END) {
			CU_ASSERT_EQUAL((int)e->tag, open);
			CU_ASSERT_STRING_EQUAL(fx.rec.ev[i - 1].line, "EXEC");
			CU_ASSERT_EQUAL(strncmp(fx.rec.ev[i - 2].line, "EXPIRE ", 7), 0);
			CU_ASSERT_EQUAL(strncmp(fx.rec.ev[i - 3].line, "HSET ", 5), 0);
			open = -1;
			continue;
		}
		CHECK(open >= 0, "%s: outside a transaction", e->line);
		if (open < 0)
			continue;
		/* the keys: every argument after the command, but values and scripts */
		for (j = 1; j < e->argc; j++) {
			const char *c = e->argv[0];
			bool is_key = strcmp(c, "PFMERGE") == 0 || strcmp(c, "DEL") == 0 ||
				(j == 1 && strcmp(c, "PUBLISH") != 0 && strcmp(c, "EVAL") != 0) ||
				(j == 3 && strcmp(c, "EVAL") == 0);

			if (!is_key)
				continue;
			slot_tag(e->argv[j], tag, sizeof(tag));
			CHECK(strcmp(tag, tags[open]) == 0, "%s: key %s outside the slot {%s}",
				e->line, e->argv[j], tags[open]);
		}
	}
	CU_ASSERT_EQUAL(open, -1);
	CU_ASSERT_EQUAL(order, N_TAGS);
}

/* A resend skips the tags found committed and repeats the others exactly. */
static void
test_resend_skips_committed(void)
{
	struct record r = RECORD_INIT;
	uint8_t done[N_TAGS] = { 1, 0, 1, 1, 1 };
	unsigned int i, j = 0;

	CU_ASSERT_EQUAL(plan_flush(&fx, &r, done, true, &conf), 0);
	CU_ASSERT_EQUAL(r.ev[0].kind, EV_BEGIN);
	CU_ASSERT_EQUAL(r.ev[0].tag, TAG_OSAKA);
	CU_ASSERT_EQUAL(r.ev[r.n - 1].kind, EV_END);
	/* the same commands as osaka's in the first flush */
	for (i = 0; i < fx.rec.n; i++) {
		if (fx.rec.ev[i].tag != TAG_OSAKA || fx.rec.ev[i].kind == EV_BEGIN ||
				fx.rec.ev[i].kind == EV_END)
			continue;
		CU_ASSERT_FATAL(j + 1 < r.n);
		j++;
		CU_ASSERT_STRING_EQUAL(r.ev[j].line, fx.rec.ev[i].line);
	}
	CU_ASSERT_EQUAL(j + 2, r.n);
	rec_free(&r);
	/* everything committed: nothing to send */
	memset(done, 1, sizeof(done));
	CU_ASSERT_EQUAL(plan_flush(&fx, &r, done, true, &conf), 0);
	CU_ASSERT_EQUAL(r.n, 0);
	rec_free(&r);
}

/* A sink's error stops the plan there and is returned. */
static void
test_sink_errors(void)
{
	static const int at[] = { 0, 1, 7, 100 };
	struct record r = RECORD_INIT;
	unsigned int i;

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		r.fail_cmd = at[i];
		CU_ASSERT_EQUAL(plan_flush(&fx, &r, NULL, true, &conf), -EIO);
		CU_ASSERT_EQUAL(r.cmds, (unsigned int)at[i]);
		rec_free(&r);
	}
	r.fail_begin = TAG_ALL;
	CU_ASSERT_EQUAL(plan_flush(&fx, &r, NULL, true, &conf), -EPIPE);
	CU_ASSERT_EQUAL(r.ev[r.n - 1].kind, EV_END);
	CU_ASSERT_EQUAL(r.ev[r.n - 1].tag, TAG_OSAKA);
	rec_free(&r);
}

/* Which tags a flush has something for; nothing at all for empty shards. */
static void
test_tags_with_data(void)
{
	struct fixture e = { 0 };
	struct record r = RECORD_INIT;
	uint8_t has[N_TAGS] = { 0 };
	const struct tt_plan_alerts one = { .e = NULL, .n = 1 };
	unsigned int i;

	tt_plan_tags_with_data(&conf, fx.minutes, fx.hours, fx.sources, NULL, has);
	for (i = 0; i < N_TAGS; i++)
		CU_ASSERT_EQUAL(has[i], i != TAG_ALERTS);
	tt_plan_tags_with_data(&conf, fx.minutes, fx.hours, fx.sources, &one, has);
	CU_ASSERT_EQUAL(has[TAG_ALERTS], 1);
	merged_shards(&e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.minutes);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.hours);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.sources);
	memset(has, 0, sizeof(has));
	tt_plan_tags_with_data(&conf, e.minutes, e.hours, e.sources, NULL, has);
	for (i = 0; i < N_TAGS; i++)
		CU_ASSERT_EQUAL(has[i], 0);
	CU_ASSERT_EQUAL(tt_plan_flush(&conf, e.minutes, e.hours, e.sources, NULL, SEQ, NULL,
		&(struct tt_plan_sink){ .begin_tag = rec_begin, .command = rec_command,
			.end_tag = rec_end, .ctx = &r }), 0);
	CU_ASSERT_EQUAL(r.n, 0);
	rec_free(&r);
	merged_shards_free(&e);
}

static void
test_flushed_key(void)
{
	char key[64];

	CU_ASSERT_EQUAL(tt_plan_flushed_key(&conf, TAG_ALERTS, key, sizeof(key)),
		(int)strlen("{" PREFIX ":alerts}:flushed"));
	CU_ASSERT_STRING_EQUAL(key, "{" PREFIX ":alerts}:flushed");
	tt_plan_flushed_key(&conf, TAG_ALL, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, PREFIX ":{all}:flushed");
	tt_plan_flushed_key(&conf, TAG_OSAKA, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, PREFIX ":{osaka}:flushed");
	tt_plan_flushed_key(&conf, TAG_SRC, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, PREFIX ":{src}:flushed");
}

/* With the wall clock the rolling sets are trimmed against now, not the packets. */
static void
test_wall_clock_trim(void)
{
	struct tt_plan_conf wall = conf;
	struct record r = RECORD_INIT;
	uint32_t before, after, cut = 0;
	unsigned int i;

	wall.wall_clock = true;
	before = (uint32_t)time(NULL);
	CU_ASSERT_EQUAL(plan_flush(&fx, &r, NULL, false, &wall), 0);
	after = (uint32_t)time(NULL);
	for (i = 0; i < r.n; i++)
		if (r.ev[i].kind == EV_CMD && strcmp(r.ev[i].argv[0], "ZREMRANGEBYSCORE") == 0 &&
				strcmp(r.ev[i].argv[1], PREFIX ":{src}:mirai") == 0)
			cut = (uint32_t)strtoul(r.ev[i].argv[3] + 1, NULL, 10);
	CU_ASSERT(cut >= before - HORIZON && cut <= after - HORIZON);
	rec_free(&r);
}

/*
 * A worker's full table keeps counting under the "overflow" member (the
 * port and country rows of docs/redis-schema.md): nothing is lost.
 */
static void
test_overflow_member(void)
{
	struct fixture f = { 0 };
	struct tt_sources_conf sc = { .entries = 64, .mirai_min_ports = 2, .horizon = HORIZON };
	struct tt_shard *w = worker_shard(16, 16);
	struct tt_sources_table *t = tt_sources_table_create(&sc);
	static const char *const cc[] = { "AU", "BE", "CA", "DK", "EE", "FI", "GR", "HU",
		"IE", "JP", "KR", "LT", "MX", "NL", "OM", "PL" };
	struct record r = RECORD_INIT;
	struct kv got = { 0 };
	const struct kv_key *port, *country;
	int64_t sum = 0;
	unsigned int i, own = 0;
	char name[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	merged_shards(&f);
	for (i = 0; i < 16; i++) {
		struct pkt p = { T1, 0, "192.0.2.1", TCP(1000 + i), "", cc[i], TT_CLASS_OTHER,
			1, 60, false };

		CU_ASSERT_EQUAL(count_packet(w, f.sources, t, &p), 0);
	}
	CU_ASSERT_EQUAL(tt_counters_merge(f.minutes, w, 1, true), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(f.hours, w, 60, true), 0);
	CU_ASSERT_EQUAL(plan_flush(&f, &r, NULL, false, &conf), 0);
	kv_apply(&got, &r);
	CU_ASSERT_EQUAL(got.errors, 0);
	port = kv_find(&got, PREFIX ":{tokyo-a}:h:2024022923:port");
	country = kv_find(&got, PREFIX ":{tokyo-a}:h:2024022923:country");
	CU_ASSERT_PTR_NOT_NULL_FATAL(port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(country);
	/* the first services fed have members of their own, the rest "overflow" */
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "tcp/%u", 1000 + i);
		if (kv_field_find(port, name) == NULL)
			break;
		CU_ASSERT_EQUAL(kv_field_find(port, name)->n, 1);
		own++;
	}
	CU_ASSERT(own > 0 && own < 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kv_field_find(port, "overflow"));
	CU_ASSERT_EQUAL(kv_field_find(port, "overflow")->n, 16 - own);
	CU_ASSERT_EQUAL(port->n_f, own + 1);
	for (i = 0; i < country->n_f; i++)
		sum += country->f[i].n;
	CU_ASSERT_EQUAL(sum, 16);
	CU_ASSERT_PTR_NOT_NULL(kv_field_find(country, "overflow"));
	CU_ASSERT_EQUAL(kv_field_find(kv_find(&got, PREFIX ":{tokyo-a}:h:2024022923:totals"),
		"pkts")->n, 16);
	kv_free(&got);
	rec_free(&r);
	tt_counters_free(w);
	tt_sources_table_free(t);
	merged_shards_free(&f);
}

/* ------------------------------------------------------------------------ */
/* Against a real redis-server: what the publisher writes around the plan   */

static redisReply *
redis(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	return r;
}

/* A string reply (a bulk or status), or "" for nil and errors. */
static const char *
str_of(const redisReply *r)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ?
		r->str : "";
}

static long long
int_of(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -99;
}

/* HGET as a string the caller frees. */
static char *
hget(redisContext *c, const char *key, const char *field)
{
	redisReply *r = redis(c, "HGET %s %s", key, field);
	char *v = xstrdup(str_of(r));

	freeReplyObject(r);
	return v;
}

static long long
redis_int(redisContext *c, const char *fmt, const char *key)
{
	redisReply *r = redis(c, fmt, key);
	long long n = int_of(r);

	freeReplyObject(r);
	return n;
}

/* The health hash's fields (docs/redis-schema.md), in its order. */
static const char *const health_fields[] = {
	"version", "instance", "started", "last_flush", "flush_seq", "rx_pkts", "rx_missed",
	"not_dark", "malformed", "source_deltas_dropped", "hll_record_off_pkts",
	"redis_backlog_bytes", "workers", "shed_minute_cells", "shed_minute_bytes",
	"shed_minute_packets", "shed_hour_cells", "shed_hour_packets", "shed_source_keys",
	"redis_errors", "redis_refusals", "redis_data_lost",
};

enum { FLUSH_MS = 1000, WORKERS = 3 };
#define KEY_INSTANCE PREFIX ":appliance:" APPLIANCE ":instance"

static void
check_health(redisContext *c, uint64_t t0)
{
	const char *key = PREFIX ":appliance:" APPLIANCE;
	redisReply *r = redis(c, "HGETALL %s", key), *inst;
	const char *zero[] = { "shed_minute_cells", "shed_minute_bytes", "shed_minute_packets",
		"shed_hour_cells", "shed_hour_packets", "shed_source_keys", "redis_refusals",
		"redis_data_lost", "redis_backlog_bytes" };
	char *v, *committed;
	long long pttl;
	size_t i, j;

	CU_ASSERT_EQUAL_FATAL(r->type, REDIS_REPLY_ARRAY);
	CHECK(r->elements == 2 * sizeof(health_fields) / sizeof(health_fields[0]),
		"%s: %zu fields, expected %zu", key, r->elements / 2,
		sizeof(health_fields) / sizeof(health_fields[0]));
	for (i = 0; i < sizeof(health_fields) / sizeof(health_fields[0]); i++) {
		bool found = false;

		for (j = 0; j + 1 < r->elements; j += 2)
			found |= strcmp(r->element[j]->str, health_fields[i]) == 0;
		CHECK(found, "%s: no field %s", key, health_fields[i]);
	}
	freeReplyObject(r);
#define FIELD_IS(f, want) do { \
		v = hget(c, key, f); \
		CHECK(strcmp(v, want) == 0, "%s %s: \"%s\", expected \"%s\"", key, f, v, want); \
		free(v); \
	} while (0)
	FIELD_IS("version", TT_VERSION);
	FIELD_IS("rx_pkts", "1000");
	FIELD_IS("rx_missed", "7");
	FIELD_IS("not_dark", "12");
	FIELD_IS("malformed", "3");
	FIELD_IS("source_deltas_dropped", "5");
	FIELD_IS("hll_record_off_pkts", "9");
	FIELD_IS("workers", "3");       /* WORKERS */
	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		FIELD_IS(zero[i], "0");
	/* the run's token, the same as the instance key holds */
	inst = redis(c, "GET %s", KEY_INSTANCE);
	FIELD_IS("instance", str_of(inst));
	CU_ASSERT_EQUAL(strlen(str_of(inst)), 32);
	freeReplyObject(inst);
#undef FIELD_IS
	/* the sequence number committed last, as the scopes' flushed records hold it */
	committed = hget(c, PREFIX ":{all}:flushed", APPLIANCE);
	v = hget(c, key, "flush_seq");
	CHECK(strcmp(v, committed) == 0 && v[0] != '\0', "flush_seq %s, {all} committed %s", v,
		committed);
	free(v);
	free(committed);
	v = hget(c, key, "started");
	CHECK(strtoull(v, NULL, 10) >= t0 / 1000 && strtoull(v, NULL, 10) <= (uint64_t)time(NULL),
		"started %s", v);
	free(v);
	v = hget(c, key, "last_flush");
	CHECK(strtoull(v, NULL, 10) >= t0 / 1000 && strtoull(v, NULL, 10) <= (uint64_t)time(NULL),
		"last_flush %s", v);
	free(v);
	/* EXPIRE 3 flush intervals: a missing key means a dead appliance */
	pttl = redis_int(c, "PTTL %s", key);
	CHECK(pttl > 0 && pttl <= 3 * FLUSH_MS, "%s: PTTL %lld, expected 3 x %d ms at most", key,
		pttl, FLUSH_MS);
	/* the instance key outlives many intervals: 15 s at least */
	pttl = redis_int(c, "PTTL %s", KEY_INSTANCE);
	CHECK(pttl > 3 * FLUSH_MS && pttl <= 15000, "%s: PTTL %lld", KEY_INSTANCE, pttl);
}

/* <p>:sensor:<name>: label location port appliance, kept as long as day buckets. */
static void
check_sensor(redisContext *c, const char *name, const char *label, const char *location,
		const char *port)
{
	char key[64], *v;
	redisReply *r;
	long long ttl;

	snprintf(key, sizeof(key), PREFIX ":sensor:%s", name);
	r = redis(c, "HLEN %s", key);
	CHECK(int_of(r) == 4, "%s: %lld fields, expected 4", key, int_of(r));
	freeReplyObject(r);
#define FIELD_IS(f, want) do { \
		v = hget(c, key, f); \
		CHECK(strcmp(v, want) == 0, "%s %s: \"%s\", expected \"%s\"", key, f, v, want); \
		free(v); \
	} while (0)
	FIELD_IS("label", label);
	FIELD_IS("location", location);
	FIELD_IS("port", port);
	FIELD_IS("appliance", APPLIANCE);
#undef FIELD_IS
	ttl = redis_int(c, "TTL %s", key);
	CHECK(ttl > TTL_DAY - 60 && ttl <= TTL_DAY, "%s: TTL %lld, expected %d", key, ttl, TTL_DAY);
}

/*
 * A host record as Redis merges the plan's updates (the script in the
 * transaction): over both days of the fixture, packets summed, first and
 * last seen the extremes, sets sorted (ports in service order, the rest as
 * strings or numbers), the country of the latest packet.
 */
static void
check_host(redisContext *c, const char *src, const char *want_class, const char *want_ports,
		const char *want_sensors, const char *want_attacked, const char *want_confirmed)
{
	char key[128], want[32], *v;
	uint32_t first = UINT32_MAX, last = 0, n = 0;
	const char *cc = "";
	unsigned int i;
	long long ttl;

	for (i = 0; i < n_pkts; i++) {
		if (strcmp(pkts[i].src, src) != 0 || pkts[i].klass == TT_CLASS_OTHER)
			continue;
		n++;
		if (pkts[i].sec < first)
			first = pkts[i].sec;
		if (pkts[i].sec >= last) {
			last = pkts[i].sec;
			cc = pkts[i].cc;
		}
	}
	snprintf(key, sizeof(key), PREFIX ":{src}:host:%s", src);
#define FIELD_IS(f, w) do { \
		v = hget(c, key, f); \
		CHECK(strcmp(v, (w)) == 0, "%s %s: \"%s\", expected \"%s\"", key, f, v, (w)); \
		free(v); \
	} while (0)
	snprintf(want, sizeof(want), "%u", n);
	FIELD_IS("pkts", want);
	snprintf(want, sizeof(want), "%u", first);
	FIELD_IS("first_seen", want);
	snprintf(want, sizeof(want), "%u", last);
	FIELD_IS("last_seen", want);
	FIELD_IS("country", cc);
	FIELD_IS("class", want_class);
	FIELD_IS("ports", want_ports);
	FIELD_IS("sensors", want_sensors);
	FIELD_IS("attacked", want_attacked);
	FIELD_IS("confirmed", want_confirmed);
#undef FIELD_IS
	/* no asn_db: no asn field */
	CU_ASSERT_EQUAL(redis_int(c, "HEXISTS %s asn", key), 0);
	ttl = redis_int(c, "TTL %s", key);
	CHECK(ttl > HORIZON - 60 && ttl <= HORIZON, "%s: TTL %lld, expected %d", key, ttl,
		HORIZON);
}

static void
test_publisher_rows(void)
{
	struct tt_sensor_conf sensors[N_SENSORS] = {
		{ .name = "tokyo-a", .port = 0, .label = "東京 A",
			.location = TT_LOCATION_DOMESTIC },
		{ .name = "osaka", .port = 1, .label = "Osaka",
			.location = TT_LOCATION_OVERSEAS },
	};
	struct tt_config cfg = {
		.id = APPLIANCE, .redis_enabled = true, .redis_host = "127.0.0.1",
		.redis_prefix = PREFIX, .flush_interval_ms = FLUSH_MS, .backlog_max_mb = 64,
		.final_flush_s = 5, .retention_minute = TTL_MINUTE, .retention_hour = TTL_HOUR,
		.retention_day = TTL_DAY, .retention_sources = HORIZON, .sensors = sensors,
		.n_sensors = N_SENSORS, .mirai_min_ports = MIRAI_MIN_PORTS,
	};
	struct tt_sources_conf sc = { .entries = 64, .mirai_min_ports = MIRAI_MIN_PORTS,
		.horizon = HORIZON };
	struct test_redis srv = { 0 };
	struct tt_publisher *p = NULL;
	struct tt_shard *w = worker_shard(256, 64);
	struct tt_sources_deltas *d = worker_deltas();
	struct tt_sources_table *t = tt_sources_table_create(&sc);
	redisContext *c = NULL;
	uint64_t t0 = (uint64_t)time(NULL) * 1000;
	unsigned int i, tries;
	bool started = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < n_pkts; i++)
		CU_ASSERT_EQUAL(count_packet(w, d, t, &pkts[i]), 0);
	if (test_redis_start(&srv) != 0) {
		CU_FAIL("no redis-server could be started");
		goto out;
	}
	c = test_redis_connect(srv.port);
	cfg.redis_port = (uint16_t)srv.port;
	p = tt_publisher_create(&(struct tt_publisher_conf){ .cfg = &cfg, .n_workers = WORKERS });
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(p);
	if (c == NULL || p == NULL)
		goto out;
	tt_publisher_set_health(p, &(struct tt_publisher_health){ .rx_pkts = 1000,
		.rx_missed = 7, .not_dark = 12, .malformed = 3, .source_deltas_dropped = 5,
		.hll_record_off_pkts = 9 });
	started = tt_publisher_start(p) == 0;
	CU_ASSERT(started);
	if (!started)
		goto out;
	CU_ASSERT_EQUAL(tt_publisher_submit(p, w, d), 0);
	tt_publisher_kick(p);
	/* the flush committed, and a health write after it (10 s at most) */
	for (tries = 0; tries < 500; tries++) {
		char *health_seq = hget(c, PREFIX ":appliance:" APPLIANCE, "flush_seq");
		char *seq = hget(c, PREFIX ":{all}:flushed", APPLIANCE);
		bool done = seq[0] != '\0' && strcmp(seq, health_seq) == 0;

		free(seq);
		free(health_seq);
		if (done)
			break;
		usleep(20000);
	}
	CU_ASSERT(tries < 500);
	check_health(c, t0);
	check_sensor(c, "tokyo-a", "東京 A", "domestic", "0");
	check_sensor(c, "osaka", "Osaka", "overseas", "1");
	/* Redis takes the plan's HyperLogLogs as its own: 5 sources on the leap day */
	CU_ASSERT_EQUAL(redis_int(c, "PFCOUNT %s", PREFIX ":{all}:d:20240229:srcs"), 5);
	CU_ASSERT_EQUAL(redis_int(c, "PFCOUNT %s", PREFIX ":{all}:d:20240229:srcs:tcp/23"), 3);
	/* ... and merges its host records */
	check_host(c, "203.0.113.7", "mirai", "tcp/23,tcp/2323", "osaka,tokyo-a", "", "1");
	check_host(c, "192.0.2.50", "masscan,nmap", "tcp/80,tcp/443", "osaka,tokyo-a", "", "0");
	check_host(c, VICTIM, "backscatter", "tcp/33333", "tokyo-a", "80,443", "0");
	/* a clean stop frees the id at once */
	CU_ASSERT_EQUAL(tt_publisher_stop(p, 2000), 0);
	started = false;
	CU_ASSERT_EQUAL(redis_int(c, "EXISTS %s", KEY_INSTANCE), 0);
out:
	if (started)
		tt_publisher_stop(p, 0);
	tt_publisher_free(p);
	if (c != NULL)
		redisFree(c);
	test_redis_stop(&srv);
	tt_counters_free(w);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "<p>:{<scope>}:<bucket>:totals HASH", test_row_totals },
		{ "<p>:{<scope>}:<bucket>:port ZSET", test_row_port },
		{ "<p>:{<scope>}:<bucket>:port:home ZSET", test_row_port_home },
		{ "<p>:{<scope>}:<bucket>:port:<class> ZSET", test_row_port_class },
		{ "<p>:{<scope>}:<bucket>:port:home:mirai ZSET", test_row_port_home_mirai },
		{ "<p>:{<scope>}:<bucket>:country ZSET", test_row_country },
		{ "<p>:{<scope>}:<bucket>:country:mirai ZSET", test_row_country_mirai },
		{ "<p>:{<scope>}:<bucket>:srcs HLL (and :home :mirai :home:mirai)", test_row_srcs },
		{ "<p>:{<scope>}:<bucket>:srcs:<svc> HLL (four variants)", test_row_srcs_svc },
		{ "minute buckets carry only totals, port, country and srcs", test_minute_buckets },
		{ "buckets m:YYYYMMDDHHMM h:YYYYMMDDHH d:YYYYMMDD (UTC)", test_bucket_names },
		{ "<p>:{src}:mirai ZSET (rolling, trimmed to the horizon)", test_row_src_mirai },
		{ "<p>:{src}:mirai:home ZSET", test_row_src_mirai_home },
		{ "<p>:{src}:d:YYYYMMDD:mirai ZSET", test_row_src_day_mirai },
		{ "<p>:{src}:host:<ip> HASH", test_row_src_host },
		{ "<p>:{src}:<class> ZSET (masscan zmap nmap unicorn)", test_row_src_class },
		{ "<p>:{src}:d:YYYYMMDD:victims ZSET", test_row_src_victims },
		{ "<p>:alerts STREAM (XADD MAXLEN ~ 100000) and PUBLISH", test_row_alerts },
		{ "<p>:{<scope>}:flushed and {<p>:alerts}:flushed HASH", test_row_flushed },
		{ "<p>:{<scope>}:tmp:<id>: SET, PFMERGE, DEL", test_tmp_hll },
		{ "no key outside the schema", test_no_other_key },
		{ "delivery: one MULTI/EXEC a hash-tag slot", test_transactions },
		{ "a resend skips committed tags", test_resend_skips_committed },
		{ "a sink's error stops the plan", test_sink_errors },
		{ "tags with data", test_tags_with_data },
		{ "flushed keys", test_flushed_key },
		{ "wall clock: rolling sets trimmed against now", test_wall_clock_trim },
		{ "a full worker table: the overflow member", test_overflow_member },
		{ "<p>:appliance:<id> HASH, <p>:appliance:<id>:instance, <p>:sensor:<name> HASH; "
			"the plan's writes as Redis takes them", test_publisher_rows },
		{ NULL, NULL },
	};

	return run_suite("plan", tests, suite_init, suite_fini);
}
