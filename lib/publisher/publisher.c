/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Redis transport of the publisher. Two threads touch it:
 *  - the control thread submits shards and reads stats (under `lock`);
 *  - the publisher thread owns the connection and the in-flight batch.
 *
 * Exactly once: a flush has a sequence number unique to this appliance
 * (wall-clock microseconds at start plus a counter, so restarts never reuse
 * one). Each tag's MULTI/EXEC ends with HSET <p>:{tag}:flushed <id> <seq>.
 * When a connection breaks, the next one first kills the old client (Redis
 * runs a client's buffered MULTI...EXEC whole or not at all, so after the
 * kill it has either committed or vanished), then reads `flushed` back: a
 * tag whose field equals the in-flight seq is committed; the rest is re-sent.
 *
 * Refusals: a transaction Redis refuses is never dropped. Transient answers
 * (LOADING, BUSY, OOM, ...) leave the batch in flight and retry it with
 * back-off; a permanent one (NOPERM, WRONGTYPE, ...) fails the publisher,
 * which then sends nothing more and says why (tt_publisher_failed()).
 *
 * Redis losing data: the flushed record of a tag that this run committed to
 * must still be there. HSET answering 1 (a new field) or a read-back finding
 * it missing or older means Redis lost what it had taken; that is logged as
 * an error and counted (data_lost), since the counts cannot be sent again.
 *
 * One id, one appliance: each run claims <p>:appliance:<id>:instance with a
 * token of its own (SET NX, refreshed with the health key). Another live run
 * under the same id would break the read-back (both write the same flushed
 * field), so finding the key held by another token fails the publisher.
 */
#define _GNU_SOURCE
#include "tt_publisher.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <maxminddb.h>
#include <rte_common.h>
#include <rte_log.h>

#include "tt_plan.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_sources.h"

RTE_LOG_REGISTER(tt_logtype_publish, tt.publish, NOTICE);
/* The name of a sensor index no sensor has used yet (none of its counts exist). */
#define UNUSED_SLOT "-"

#define PUB_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_publish, "publish: " fmt "\n", ##__VA_ARGS__)

enum {
	CONNECT_TIMEOUT_MS = 1000,
	COMMAND_TIMEOUT_MS = 2000,
	/*
	 * A transaction's replies may take this much more per command: EXEC runs
	 * them all before it answers. Redis 7 on the 2-core machine runs a
	 * ZINCRBY in ~1 us and a PFMERGE of a dense HLL in ~20 us; 100 us a
	 * command leaves room for a loaded host without letting a dead one hang.
	 * A reply that still times out doubles it (up to 1 ms), so the resend of
	 * the same transaction is given the time the first one lacked.
	 */
	COMMAND_TIMEOUT_PER_CMD_US = 100,
	COMMAND_TIMEOUT_PER_CMD_MAX_US = 1000,
	BACKOFF_MIN_MS = 100,
	BACKOFF_MAX_MS = 5000,
	SHED_LOG_INTERVAL_MS = 60000,
	HEALTH_INTERVALS = 3,          /* the health key lives 3 flush intervals */
	SENSOR_META_INTERVAL_MS = 60000,
	INSTANCE_TTL_MIN_MS = 15000,
	/* Alerts held while Redis is away: a day of a busy appliance's. */
	ALERTS_PENDING_MAX = 100000,
	/* A backlog part past this keeps no capacity once emptied: memory goes back. */
	SHRINK_BYTES = 16u << 20,
	/* A backlog's first size; it grows with what an interval brings. */
	BACKLOG_PORT_CELLS = 1 << 10,
	BACKLOG_SOURCE_CELLS = 1 << 8,
	WHY_MAX = 512,
};

/* Stream entries: each one allocation holding its field pointers and strings. */
struct alert_list {
	struct tt_plan_alert *e;
	uint32_t n;
	uint32_t cap;
};

static void
alert_list_clear(struct alert_list *l)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		free((void *)l->e[i].fields);
	l->n = 0;
}

static void
alert_list_free(struct alert_list *l)
{
	alert_list_clear(l);
	free(l->e);
	l->e = NULL;
	l->cap = 0;
}

/*
 * What a flush writes: the counts keyed by minute and by hour (days derive
 * from hours), and the source deltas of the {src} tag. One is pending
 * (filled by the control thread under the lock), one in flight (the
 * publisher thread's); a flush swaps them.
 */
struct backlog {
	struct tt_merged *min;
	struct tt_merged *hour;
	struct tt_sources_deltas *src;
};

struct tt_publisher {
	const struct tt_config *cfg;       /* the start's: what only a restart changes */
	struct tt_plan_conf plan;          /* publisher thread (after start) */
	const char **sensor_names;         /* [slot]: the plan's; publisher thread (after start) */
	const struct tt_config *sensors_cfg;   /* names, labels, retention: publisher thread */
	uint32_t n_tags;
	uint32_t n_workers;
	char *password;
	uint64_t started_s;
	MMDB_s asn_db;                     /* publisher thread: host records' ASN */
	bool asn_open;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t wake;

	/* under lock: written by the control thread, taken by the publisher */
	struct backlog pending;
	const struct tt_config *next_cfg;  /* a reload's, until the publisher takes it */
	bool stopping;
	bool kicked;
	uint64_t stop_deadline_ms;
	uint64_t last_shed_log_ms;
	struct tt_publisher_health health;
	struct tt_publisher_stats stats;
	uint64_t inflight_bytes;           /* written by the publisher */
	uint64_t inflight_cells;
	bool inflight_locked;              /* the publisher's `inflight`, for readers */
	struct alert_list pending_alerts;  /* entries for <prefix>:alerts */
	uint64_t inflight_alert_count;
	char why[WHY_MAX];                 /* set once with stats.failed */

	/* publisher thread only */
	redisContext *rc;
	long long client_id;
	long long old_client_id;           /* a broken connection's id, to kill */
	bool need_readback;
	bool inflight;
	uint64_t inflight_seq;
	struct backlog inflight_batch;
	struct alert_list inflight_alerts;
	uint8_t *has;                      /* [tag]: the in-flight batch writes it */
	uint8_t *done;                     /* [tag]: committed */
	uint64_t *committed;               /* [tag]: this run's last committed seq, 0 none */
	uint64_t seq_next;
	uint64_t backoff_ms;
	uint64_t next_connect_ms;
	uint64_t retry_ms;                 /* after a transient refusal: not before */
	uint64_t per_cmd_us;               /* reply time allowed a command (grows on timeouts) */
	uint64_t retry_backoff_ms;
	uint64_t refused_since_ms;         /* the refusal episode's start, 0 none */
	uint64_t next_sensor_meta_ms;
	bool down_logged;
	char token[33];                    /* this run's instance token */
	bool claimed;                      /* the instance key was ours once */
	/* the tag transaction being written: its commands' names, for errors */
	uint32_t cur_commands;
	const char **cur_names;
	uint32_t cur_names_cap;
	uint64_t flush_commands;           /* of the in-flight batch, all tags */
	uint64_t flush_started_us;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct tt_merged *
backlog_counts_create(void)
{
	return tt_counters_merged_create(BACKLOG_PORT_CELLS);
}

static struct tt_sources_deltas *
backlog_sources_create(void)
{
	return tt_sources_deltas_create(BACKLOG_SOURCE_CELLS, true);
}

static int
backlog_init(struct backlog *b)
{
	b->min = backlog_counts_create();
	b->hour = backlog_counts_create();
	b->src = backlog_sources_create();
	return b->min != NULL && b->hour != NULL && b->src != NULL ? 0 : -ENOMEM;
}

static void
backlog_fini(struct backlog *b)
{
	tt_counters_merged_free(b->min);
	tt_counters_merged_free(b->hour);
	tt_sources_deltas_free(b->src);
	memset(b, 0, sizeof(*b));
}

static char *
read_password(const char *path, int *err)
{
	char buf[512];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		*err = errno;
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return strdup(buf);
}

/* A host record's ASN: a control-plane MMDB lookup, a few per flush. */
static uint32_t
asn_of(void *ctx, const uint8_t *addr, uint8_t family)
{
	struct tt_publisher *p = ctx;
	struct sockaddr_storage ss = { 0 };
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	int err;

	if (family == 4) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&ss;

		sa->sin_family = AF_INET;
		memcpy(&sa->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;

		sa->sin6_family = AF_INET6;
		memcpy(&sa->sin6_addr, addr, 16);
	}
	r = MMDB_lookup_sockaddr(&p->asn_db, (struct sockaddr *)&ss, &err);
	if (err != MMDB_SUCCESS || !r.found_entry ||
			MMDB_get_value(&r.entry, &d, "autonomous_system_number", NULL) != MMDB_SUCCESS ||
			!d.has_data || d.type != MMDB_DATA_TYPE_UINT32)
		return 0;
	return d.uint32;
}

struct tt_publisher *
tt_publisher_create(const struct tt_publisher_conf *conf)
{
	const struct tt_config *cfg = conf->cfg;
	struct tt_publisher *p = calloc(1, sizeof(*p));
	uint32_t i;
	int err = ENOMEM;

	if (p == NULL)
		return NULL;
	p->cfg = cfg;
	p->n_workers = conf->n_workers;
	p->sensors_cfg = cfg;
	p->n_tags = RTE_MAX(conf->sensor_slots, cfg->n_sensors) + 3;  /* sensors, all, src, alerts */
	p->started_s = now_ms() / 1000;
	p->seq_next = now_ms() * 1000;
	p->per_cmd_us = COMMAND_TIMEOUT_PER_CMD_US;
	p->sensor_names = calloc(p->n_tags - 3, sizeof(*p->sensor_names));
	p->has = calloc(p->n_tags, 1);
	p->done = calloc(p->n_tags, 1);
	p->committed = calloc(p->n_tags, sizeof(*p->committed));
	if (p->sensor_names == NULL || p->has == NULL || p->done == NULL || p->committed == NULL ||
			backlog_init(&p->pending) != 0 || backlog_init(&p->inflight_batch) != 0)
		goto err_free;
	for (i = 0; i < p->n_tags - 3; i++)
		p->sensor_names[i] = i < cfg->n_sensors ? cfg->sensors[i].name : UNUSED_SLOT;
	{
		uint8_t rnd[16];

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			err = errno;
			goto err_free;
		}
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(p->token + 2 * i, 3, "%02x", rnd[i]);
	}
	if (cfg->redis_password_file != NULL) {
		p->password = read_password(cfg->redis_password_file, &err);
		if (p->password == NULL) {
			PUB_LOG(ERR, "password_file %s: %s", cfg->redis_password_file,
				strerror(err));
			goto err_free;
		}
	}
	p->plan = (struct tt_plan_conf){
		.prefix = cfg->redis_prefix, .appliance_id = cfg->id,
		.sensor_names = p->sensor_names, .n_sensors = p->n_tags - 3,
		.ttl_minute = cfg->retention_minute, .ttl_hour = cfg->retention_hour,
		.ttl_day = cfg->retention_day, .horizon = cfg->retention_sources,
		.wall_clock = conf->wall_clock,
	};
	if (cfg->asn_db != NULL) {
		int status = MMDB_open(cfg->asn_db, MMDB_MODE_MMAP, &p->asn_db);

		if (status != MMDB_SUCCESS) {
			PUB_LOG(ERR, "asn_db %s: %s", cfg->asn_db, MMDB_strerror(status));
			err = EINVAL;
			goto err_free;
		}
		p->asn_open = true;
		p->plan.asn_of = asn_of;
		p->plan.asn_ctx = p;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	return p;

err_free:
	tt_publisher_free(p);
	errno = err;
	return NULL;
}

static const char *
redis_where(const struct tt_publisher *p, char *buf, size_t len)
{
	if (p->cfg->redis_unix != NULL)
		snprintf(buf, len, "%s", p->cfg->redis_unix);
	else
		snprintf(buf, len, "%s:%u", p->cfg->redis_host, p->cfg->redis_port);
	return buf;
}

/*
 * Redis's answers that retrying cures: it is loading its data, busy with a
 * script, out of memory until something expires, or a cluster or replica
 * that is failing over. Everything else (NOPERM, WRONGTYPE, a script error,
 * a syntax error) fails again however often it is sent.
 */
static bool
is_transient(const char *err)
{
	static const char *const codes[] = {
		"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "OOM",
		"NOREPLICAS", "MISCONF", "READONLY",
	};
	size_t i, n;

	for (i = 0; i < RTE_DIM(codes); i++) {
		n = strlen(codes[i]);
		if (strncmp(err, codes[i], n) == 0 && (err[n] == ' ' || err[n] == '\0'))
			return true;
	}
	return false;
}

/* What fixes a permanent refusal, for the one line that reports it. */
static void
refusal_hint(const struct tt_publisher *p, const char *err, char *buf, size_t len)
{
	const char *q = strchr(err, '\'');
	const char *user = p->cfg->redis_user ? p->cfg->redis_user : "default";

	if (strncmp(err, "NOPERM", 6) == 0 && strstr(err, "keys") != NULL)
		snprintf(buf, len, "; the ACL user '%s' needs the key pattern ~%s:* "
			"(config/redis-acl.conf lists every rule teiten needs)", user,
			p->cfg->redis_prefix);
	else if (strncmp(err, "NOPERM", 6) == 0 && q != NULL)
		snprintf(buf, len, "; the ACL user '%s' needs +%.*s (config/redis-acl.conf "
			"lists every rule teiten needs)", user, (int)strcspn(q + 1, "'"), q + 1);
	else if (strncmp(err, "WRONGTYPE", 9) == 0)
		snprintf(buf, len, "; a key under the prefix '%s' holds another type: "
			"another program writes there, or give teiten a prefix of its own",
			p->cfg->redis_prefix);
	else
		buf[0] = '\0';
}

/* Refused for good: log it once, stop sending, let the control thread know. */
static void
fail(struct tt_publisher *p, const char *fmt, ...)
{
	char why[WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&p->lock);
	if (!p->stats.failed) {
		p->stats.failed = true;
		snprintf(p->why, sizeof(p->why), "%s", why);
		PUB_LOG(ERR, "%s; publishing stops", why);
	}
	pthread_mutex_unlock(&p->lock);
}

/* The tag's name as it appears in keys, for messages. */
static const char *
tag_label(const struct tt_publisher *p, uint32_t tag)
{
	uint32_t n = p->plan.n_sensors;

	return tag < n ? p->sensor_names[tag] : tag == n ? "all" : tag == n + 1 ? "src" : "alerts";
}

/*
 * A refused command. Transient: the batch stays in flight and is retried
 * with back-off (the first refusal of an episode is logged). Permanent: the
 * publisher fails. @p where names the key's tag ("{all}", "the health key").
 * @return -EAGAIN or -EPERM.
 */
static int
refused(struct tt_publisher *p, const char *where, const char *cmd, const char *err)
{
	char hint[256];

	if (is_transient(err)) {
		uint64_t now = now_ms();

		if (p->refused_since_ms == 0) {
			p->refused_since_ms = now;
			PUB_LOG(WARNING, "redis refused %s for %s: %s; retrying with back-off, "
				"the counts wait in memory", cmd, where, err);
		}
		p->retry_backoff_ms = p->retry_backoff_ms ?
			RTE_MIN(p->retry_backoff_ms * 2, (uint64_t)BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
		p->retry_ms = now + p->retry_backoff_ms;
		pthread_mutex_lock(&p->lock);
		p->stats.refusals++;
		p->stats.errors++;
		p->stats.retrying = true;
		pthread_mutex_unlock(&p->lock);
		return -EAGAIN;
	}
	refusal_hint(p, err, hint, sizeof(hint));
	pthread_mutex_lock(&p->lock);
	p->stats.errors++;
	pthread_mutex_unlock(&p->lock);
	fail(p, "redis refused %s for %s: %s%s", cmd, where, err, hint);
	return -EPERM;
}

/* A transaction went through after refusals: say so once. */
static void
accepted(struct tt_publisher *p)
{
	if (p->refused_since_ms == 0)
		return;
	PUB_LOG(NOTICE, "redis takes writes again after %" PRIu64 " ms of refusals",
		now_ms() - p->refused_since_ms);
	p->refused_since_ms = 0;
	p->retry_backoff_ms = 0;
	p->retry_ms = 0;
	pthread_mutex_lock(&p->lock);
	p->stats.retrying = false;
	pthread_mutex_unlock(&p->lock);
}

/* Redis no longer has a flush it took: the counts of it are gone. */
static void
data_lost(struct tt_publisher *p, uint32_t tag, const char *what)
{
	PUB_LOG(ERR, "redis lost data: the flushed record of {%s} %s (this run committed "
		"flush %" PRIu64 " there): Redis restarted without its data, or the key was "
		"removed; what it had taken before is gone and cannot be sent again",
		tag_label(p, tag), what, p->committed[tag]);
	pthread_mutex_lock(&p->lock);
	p->stats.data_lost++;
	pthread_mutex_unlock(&p->lock);
}

static bool
failed(struct tt_publisher *p)
{
	return tt_publisher_failed(p, NULL, 0);
}

static void
drop_connection(struct tt_publisher *p, const char *why)
{
	char where[300];

	if (p->rc == NULL)
		return;
	/* A reply timed out (SO_RCVTIMEO): Redis may only be slow; give it more. */
	if (p->rc->err == REDIS_ERR_IO && strstr(p->rc->errstr, "temporarily unavailable") &&
			p->per_cmd_us < COMMAND_TIMEOUT_PER_CMD_MAX_US) {
		p->per_cmd_us = RTE_MIN(2 * p->per_cmd_us, (uint64_t)COMMAND_TIMEOUT_PER_CMD_MAX_US);
		PUB_LOG(NOTICE, "a reply timed out: each command of a transaction may take "
			"%" PRIu64 " us from now on", p->per_cmd_us);
	}
	PUB_LOG(WARNING, "redis %s: %s; reconnecting", redis_where(p, where, sizeof(where)),
		why);
	p->old_client_id = p->client_id;
	/* What the broken connection committed, and what Redis still has. */
	p->need_readback = true;
	redisFree(p->rc);
	p->rc = NULL;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->next_connect_ms = now_ms() + p->backoff_ms;
	pthread_mutex_lock(&p->lock);
	p->stats.connected = false;
	p->stats.errors++;
	pthread_mutex_unlock(&p->lock);
}

/* The next pipelined reply; NULL means the connection broke (and was dropped). */
static redisReply *
next_reply(struct tt_publisher *p)
{
	redisReply *r = NULL;

	if (redisGetReply(p->rc, (void **)&r) == REDIS_OK)
		return r;
	drop_connection(p, p->rc->errstr[0] ? p->rc->errstr : "no reply");
	return NULL;
}

/* A command on the connection; NULL reply means the connection broke. */
static redisReply *
command(struct tt_publisher *p, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(p->rc, argc, argv, NULL);

	if (r == NULL)
		drop_connection(p, p->rc->errstr[0] ? p->rc->errstr : "no reply");
	return r;
}

/*
 * Replies to @p commands pipelined commands may take this long: EXEC runs a
 * whole transaction before it answers, so a fixed timeout would turn a big
 * interval into a reconnect loop.
 */
static void
set_reply_timeout(redisContext *rc, uint64_t commands, uint64_t per_cmd_us)
{
	uint64_t us = (uint64_t)COMMAND_TIMEOUT_MS * 1000 + commands * per_cmd_us;
	struct timeval tv = { .tv_sec = (time_t)(us / 1000000), .tv_usec = (long)(us % 1000000) };

	redisSetTimeout(rc, tv);
}

static void
instance_key(const struct tt_publisher *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s:appliance:%s:instance", p->cfg->redis_prefix, p->cfg->id);
}

/*
 * The instance key outlives many health writes, so a run that is slow for a
 * while (a long flush, a loaded host) does not lose its claim; a run that
 * died frees the id after this long at most.
 */
static uint64_t
instance_ttl_ms(const struct tt_publisher *p)
{
	return RTE_MAX((uint64_t)HEALTH_INTERVALS * p->cfg->flush_interval_ms,
		(uint64_t)INSTANCE_TTL_MIN_MS);
}

static void
id_in_use(struct tt_publisher *p, const char *other)
{
	fail(p, "appliance id '%s' is in use: another teiten (instance %s) publishes into "
		"this Redis under it, and two would corrupt each other's exactly-once "
		"record; give each appliance its own [appliance] id", p->cfg->id, other);
}

static void
sleep_for_ms(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The instance key's remaining life, or -1 when Redis did not answer. */
static long long
instance_pttl(struct tt_publisher *p, const char *key)
{
	const char *pttl[2] = { "PTTL", key };
	redisReply *r = command(p, 2, pttl);
	long long left;

	if (r == NULL)
		return -1;
	left = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	freeReplyObject(r);
	return left;
}

/*
 * Claim the appliance id for this run (SET NX). A key held by another token
 * is watched for a few health intervals: a live run refreshes it (its life
 * goes back up), a run that ended lets it expire, and then it is ours.
 * @return 0 claimed, -EEXIST taken (the publisher failed), -EAGAIN Redis did
 *   not answer it now (claimed at the next health write), -EIO connection lost.
 */
static int
claim_instance(struct tt_publisher *p)
{
	long long watch = (long long)(HEALTH_INTERVALS + 1) * p->cfg->flush_interval_ms + 200;
	char key[300], ttl[24];

	instance_key(p, key, sizeof(key));
	snprintf(ttl, sizeof(ttl), "%" PRIu64, instance_ttl_ms(p));
	for (;;) {
		const char *set[6] = { "SET", key, p->token, "PX", ttl, "NX" };
		const char *get[2] = { "GET", key };
		redisReply *r = command(p, 6, set);
		long long before, after;
		bool ours;

		if (r == NULL)
			return -EIO;
		if (r->type == REDIS_REPLY_ERROR) {
			int rc = is_transient(r->str) ? -EAGAIN : refused(p, "the instance key",
				"SET", r->str);

			freeReplyObject(r);
			return rc;
		}
		if (r->type == REDIS_REPLY_STATUS) {
			freeReplyObject(r);
			p->claimed = true;
			return 0;
		}
		freeReplyObject(r);
		r = command(p, 2, get);
		if (r == NULL)
			return -EIO;
		ours = r->type == REDIS_REPLY_STRING && strcmp(r->str, p->token) == 0;
		if (r->type != REDIS_REPLY_STRING || ours) {
			/* ours already, or gone since the SET: claim again */
			freeReplyObject(r);
			if (ours)
				return 0;
			continue;
		}
		if (p->claimed) {
			/* This run held it before: another took it over since. */
			id_in_use(p, r->str);
			freeReplyObject(r);
			return -EEXIST;
		}
		before = instance_pttl(p, key);
		if (before > 0) {
			long long wait = RTE_MIN(before + 50, watch);

			sleep_for_ms(wait);
			after = instance_pttl(p, key);
			if (after > before - wait + 50) {
				/* refreshed while we watched: a live run holds the id */
				id_in_use(p, r->str);
				freeReplyObject(r);
				return -EEXIST;
			}
			if (after > 0) {
				PUB_LOG(NOTICE, "appliance id '%s': the instance key of a run that "
					"ended lives %lld ms more; waiting for it", p->cfg->id, after);
				sleep_for_ms(after + 50);
			}
		}
		freeReplyObject(r);
	}
}

/*
 * @return 0 connected, -EACCES credentials rejected, -ECONNREFUSED (or
 *   another error) when Redis cannot be reached.
 */
static int
connect_redis(struct tt_publisher *p)
{
	const struct tt_config *cfg = p->cfg;
	struct timeval ctv = { 0, CONNECT_TIMEOUT_MS * 1000 };
	char where[300];
	redisContext *rc;
	redisReply *r;
	int ret = 0;

	redis_where(p, where, sizeof(where));
	rc = cfg->redis_unix ? redisConnectUnixWithTimeout(cfg->redis_unix, ctv) :
		redisConnectWithTimeout(cfg->redis_host, cfg->redis_port, ctv);
	if (rc == NULL || rc->err) {
		if (!p->down_logged)
			PUB_LOG(WARNING, "redis %s: %s; backing up in memory and retrying", where,
				rc ? rc->errstr : "out of memory");
		p->down_logged = true;
		redisFree(rc);
		return -ECONNREFUSED;
	}
	set_reply_timeout(rc, 0, 0);
	if (p->password != NULL || cfg->redis_user != NULL) {
		r = cfg->redis_user ?
			redisCommand(rc, "AUTH %s %s", cfg->redis_user, p->password ? p->password : "") :
			redisCommand(rc, "AUTH %s", p->password);
		if (r == NULL) {
			/* No answer (a Redis still loading its data may give none): retried. */
			if (!p->down_logged)
				PUB_LOG(WARNING, "redis %s: AUTH: %s; backing up in memory and "
					"retrying", where, rc->errstr);
			p->down_logged = true;
			ret = -EIO;
			goto err_free;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			PUB_LOG(ERR, "redis %s: AUTH%s%s: %s", where, cfg->redis_user ? " as " : "",
				cfg->redis_user ? cfg->redis_user : "", r->str);
			ret = -EACCES;
			goto err_free;
		}
		freeReplyObject(r);
	}
	r = redisCommand(rc, "CLIENT ID");
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		bool denied = r && r->type == REDIS_REPLY_ERROR &&
			(strncmp(r->str, "NOAUTH", 6) == 0 || strncmp(r->str, "NOPERM", 6) == 0);

		if (denied)
			PUB_LOG(ERR, "redis %s: CLIENT ID: %s", where, r->str);
		else if (!p->down_logged)
			PUB_LOG(WARNING, "redis %s: CLIENT ID: %s; retrying", where,
				r ? r->str : rc->errstr);
		p->down_logged = !denied;
		ret = denied ? -EACCES : -EIO;
		goto err_free;
	}
	p->client_id = r->integer;
	freeReplyObject(r);
	p->rc = rc;
	/* The broken connection's transaction: committed or discarded, not pending. */
	if (p->old_client_id != 0) {
		r = redisCommand(rc, "CLIENT KILL ID %lld", p->old_client_id);
		freeReplyObject(r);
		p->old_client_id = 0;
	}
	if (p->down_logged || p->stats.reconnects != 0)
		PUB_LOG(NOTICE, "redis %s: connected", where);
	p->down_logged = false;
	pthread_mutex_lock(&p->lock);
	p->stats.connected = true;
	p->stats.reconnects++;
	pthread_mutex_unlock(&p->lock);
	p->next_sensor_meta_ms = 0;
	if (claim_instance(p) == -EIO)
		return -EIO;
	return 0;

err_free:
	freeReplyObject(r);
	redisFree(rc);
	return ret;
}

/* --- the plan's sink: one pipelined transaction per tag --- */

static int
sink_begin(void *ctx, uint32_t tag)
{
	struct tt_publisher *p = ctx;

	(void)tag;
	p->cur_commands = 0;
	return 0;
}

static int
sink_command(void *ctx, int argc, const char **argv, const size_t *lens)
{
	struct tt_publisher *p = ctx;

	if (p->cur_commands == p->cur_names_cap) {
		uint32_t cap = p->cur_names_cap ? 2 * p->cur_names_cap : 1024;
		const char **n = realloc(p->cur_names, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		p->cur_names = n;
		p->cur_names_cap = cap;
	}
	if (redisAppendCommandArgv(p->rc, argc, argv, lens) != REDIS_OK)
		return -ENOMEM;
	/* The plan's command names are string literals: they outlive the flush. */
	p->cur_names[p->cur_commands++] = argv[0];
	p->flush_commands++;
	return 0;
}

/*
 * Read the transaction's replies: +OK, +QUEUED..., then EXEC's. An array is
 * a commit; anything else is a refusal whose cause is the first command
 * Redis refused to queue (NOPERM, OOM, LOADING...), else EXEC's own error.
 */
static int
sink_end(void *ctx, uint32_t tag)
{
	struct tt_publisher *p = ctx;
	char where[64], err[WHY_MAX] = "";
	const char *cmd = NULL;
	bool committed = false, lost = false;
	redisReply *r = NULL;
	uint32_t i;
	size_t e;

	set_reply_timeout(p->rc, p->cur_commands, p->per_cmd_us);
	for (i = 0; i < p->cur_commands; i++) {
		r = next_reply(p);
		if (r == NULL)
			return -EIO;
		if (i + 1 < p->cur_commands) {
			if (r->type == REDIS_REPLY_ERROR && cmd == NULL) {
				cmd = p->cur_names[i];
				snprintf(err, sizeof(err), "%s", r->str);
			}
		} else if (r->type == REDIS_REPLY_ARRAY) {
			committed = true;
			/* EXEC's elements answer the commands between MULTI and EXEC. */
			for (e = 0; e < r->elements && cmd == NULL; e++)
				if (r->element[e]->type == REDIS_REPLY_ERROR) {
					cmd = p->cur_names[e + 1];
					snprintf(err, sizeof(err), "%s", r->element[e]->str);
				}
			/* The flushed HSET, second last: 1 is a new field. */
			lost = r->elements >= 2 && p->committed[tag] != 0 &&
				r->element[r->elements - 2]->type == REDIS_REPLY_INTEGER &&
				r->element[r->elements - 2]->integer == 1;
		} else if (cmd == NULL) {
			cmd = "EXEC";
			snprintf(err, sizeof(err), "%s", r->type == REDIS_REPLY_ERROR ? r->str :
				"no EXEC reply");
		}
		freeReplyObject(r);
	}
	set_reply_timeout(p->rc, 0, 0);
	snprintf(where, sizeof(where), "{%s}", tag_label(p, tag));
	if (!committed)
		return refused(p, where, cmd, err);
	p->done[tag] = 1;
	if (lost)
		data_lost(p, tag, "had vanished");
	p->committed[tag] = p->inflight_seq;
	if (cmd != NULL) {
		/* Applied but for the failed commands: resending would double the rest. */
		char hint[256];

		refusal_hint(p, err, hint, sizeof(hint));
		fail(p, "redis ran the %s transaction of flush %" PRIu64 " but %s failed in it: "
			"%s%s", where, p->inflight_seq, cmd, err, hint);
		return -EPERM;
	}
	return 0;
}

/* Does the in-flight batch still owe this tag a commit? */
static bool
owed(const struct tt_publisher *p, uint32_t tag)
{
	return p->inflight && p->has[tag] && !p->done[tag];
}

/*
 * After a broken connection, pipelined HGETs of every tag's flushed record:
 * a tag the in-flight batch owes is committed if it holds the batch's seq;
 * a tag this run committed to must hold at least that commit, or Redis has
 * lost data.
 */
static int
read_back(struct tt_publisher *p)
{
	char key[300];
	uint32_t tag, n = 0;
	int ret = 0;

	for (tag = 0; tag < p->n_tags; tag++) {
		if (!owed(p, tag) && p->committed[tag] == 0)
			continue;
		tt_plan_flushed_key(&p->plan, tag, key, sizeof(key));
		if (redisAppendCommand(p->rc, "HGET %s %s", key, p->cfg->id) != REDIS_OK)
			return -ENOMEM;
		n++;
	}
	set_reply_timeout(p->rc, n, p->per_cmd_us);
	for (tag = 0; tag < p->n_tags; tag++) {
		redisReply *r;
		uint64_t v;

		if (!owed(p, tag) && p->committed[tag] == 0)
			continue;
		r = next_reply(p);
		if (r == NULL)
			return -EIO;
		if (r->type == REDIS_REPLY_ERROR) {
			char where[64];

			snprintf(where, sizeof(where), "{%s}", tag_label(p, tag));
			if (ret == 0)
				ret = refused(p, where, "HGET", r->str);
			freeReplyObject(r);
			continue;
		}
		v = r->type == REDIS_REPLY_STRING ? strtoull(r->str, NULL, 10) : 0;
		freeReplyObject(r);
		if (owed(p, tag) && v == p->inflight_seq) {
			p->done[tag] = 1;
			p->committed[tag] = v;
			pthread_mutex_lock(&p->lock);
			p->stats.tags_resent_skipped++;
			pthread_mutex_unlock(&p->lock);
		} else if (p->committed[tag] != 0 && v < p->committed[tag]) {
			data_lost(p, tag, v == 0 ? "is missing" : "is older than this run's");
			/* Reported once: later checks hold Redis to what it has now. */
			p->committed[tag] = 0;
		}
	}
	if (p->rc != NULL)
		set_reply_timeout(p->rc, 0, 0);
	if (ret == 0) {
		p->need_readback = false;
		accepted(p);
	}
	return ret;
}

static bool
counts_empty(const struct tt_merged *m)
{
	return tt_counters_cells(m) == 0;
}

/* Packets a merged shard counts: its port cells of the "all" scope. */
static uint64_t
counts_packets(const struct tt_merged *m)
{
	return tt_counters_scope_pkts(m, TT_SCOPE_ALL);
}

static uint32_t
sources_held(const struct backlog *b)
{
	return tt_sources_deltas_count(b->src);
}

static bool
backlog_empty(const struct backlog *b)
{
	return counts_empty(b->min) && counts_empty(b->hour) && sources_held(b) == 0;
}

/* Memory and cells held by the hours and the sources (which go together). */
static bool
hours_empty(const struct backlog *b)
{
	return counts_empty(b->hour) && sources_held(b) == 0;
}

static uint64_t
hours_bytes(const struct backlog *b)
{
	return tt_counters_merged_memory(b->hour) + tt_sources_deltas_memory(b->src);
}

/*
 * Empty a backlog's part. One that grew past @p keep_bytes (an outage, a
 * flood of sources) is replaced by a new small one, so its memory goes back
 * instead of staying held at its peak.
 */
static void
empty_counts(struct tt_merged **m, uint64_t keep_bytes)
{
	struct tt_merged *fresh;

	if (tt_counters_merged_memory(*m) > keep_bytes &&
			(fresh = backlog_counts_create()) != NULL) {
		tt_counters_merged_free(*m);
		*m = fresh;
		return;
	}
	tt_counters_merged_reset(*m);
}

static void
empty_sources(struct tt_sources_deltas **d, uint64_t keep_bytes)
{
	struct tt_sources_deltas *fresh;

	if (tt_sources_deltas_memory(*d) > keep_bytes && (fresh = backlog_sources_create()) != NULL) {
		tt_sources_deltas_free(*d);
		*d = fresh;
		return;
	}
	tt_sources_deltas_reset(*d);
}

static void
empty_backlog(struct backlog *b, uint64_t keep_bytes)
{
	empty_counts(&b->min, keep_bytes);
	empty_counts(&b->hour, keep_bytes);
	empty_sources(&b->src, keep_bytes);
}

/*
 * What is held and not yet committed, with p->lock held: the memory of the
 * shards that hold data (an emptied shard keeps its capacity, but that is no
 * backlog), and their cells. Zero once Redis has everything.
 */
static void
backlog_locked(const struct tt_publisher *p, uint64_t *bytes, uint64_t *cells)
{
	const struct backlog *b = &p->pending;

	*bytes = p->inflight_bytes;
	*cells = p->inflight_cells;
	if (!counts_empty(b->min)) {
		*bytes += tt_counters_merged_memory(b->min);
		*cells += tt_counters_cells(b->min);
	}
	if (!hours_empty(b)) {
		*bytes += hours_bytes(b);
		*cells += tt_counters_cells(b->hour) + sources_held(b);
	}
}

/*
 * A reload's config, under the lock, before the batch it precedes: the
 * control thread reconfigured before it submitted any count of a new
 * sensor index, so the names are in place when such a count is written.
 */
static void
adopt_config_locked(struct tt_publisher *p)
{
	const struct tt_config *cfg = p->next_cfg;
	uint32_t i;

	if (cfg == NULL)
		return;
	p->next_cfg = NULL;
	p->sensors_cfg = cfg;
	for (i = 0; i < cfg->n_sensors && i < p->plan.n_sensors; i++)
		p->sensor_names[i] = cfg->sensors[i].name;
	p->plan.ttl_minute = cfg->retention_minute;
	p->plan.ttl_hour = cfg->retention_hour;
	p->plan.ttl_day = cfg->retention_day;
	p->next_sensor_meta_ms = 0;        /* labels and new sensors: at the next health write */
}

/* Take the backlog as the next in-flight batch. */
static bool
take_pending(struct tt_publisher *p)
{
	struct backlog *b = &p->inflight_batch, taken;

	pthread_mutex_lock(&p->lock);
	adopt_config_locked(p);
	if (backlog_empty(&p->pending) && p->pending_alerts.n == 0) {
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	{
		struct alert_list l = p->inflight_alerts;    /* empty: finished */

		p->inflight_alerts = p->pending_alerts;
		p->pending_alerts = l;
	}
	taken = p->pending;
	p->pending = *b;
	*b = taken;
	p->inflight_bytes = tt_counters_merged_memory(b->min) + hours_bytes(b);
	p->inflight_cells = tt_counters_cells(b->min) + tt_counters_cells(b->hour) +
		sources_held(b);
	p->inflight_locked = true;
	pthread_mutex_unlock(&p->lock);
	p->inflight = true;
	p->inflight_seq = ++p->seq_next;
	p->flush_commands = 0;
	p->flush_started_us = now_us();
	memset(p->has, 0, p->n_tags);
	memset(p->done, 0, p->n_tags);
	tt_plan_tags_with_data(&p->plan, b->min, b->hour, b->src,
		&(struct tt_plan_alerts){ p->inflight_alerts.e, p->inflight_alerts.n }, p->has);
	return true;
}

static void
finish_inflight(struct tt_publisher *p)
{
	uint64_t took = now_us() - p->flush_started_us;

	empty_backlog(&p->inflight_batch, SHRINK_BYTES);
	p->inflight_alert_count = p->inflight_alerts.n;
	alert_list_clear(&p->inflight_alerts);
	p->inflight = false;
	pthread_mutex_lock(&p->lock);
	p->inflight_locked = false;
	p->stats.commands += p->flush_commands;
	p->stats.last_flush_us = took;
	if (took > p->stats.max_flush_us)
		p->stats.max_flush_us = took;
	p->inflight_bytes = 0;
	p->inflight_cells = 0;
	p->stats.flushes++;
	p->stats.alerts += p->inflight_alert_count;
	p->stats.flush_seq = p->inflight_seq;
	p->stats.last_flush_ms = now_ms();
	pthread_mutex_unlock(&p->lock);
}

static int
flush_inflight(struct tt_publisher *p)
{
	const struct tt_plan_sink sink = {
		.begin_tag = sink_begin, .command = sink_command, .end_tag = sink_end, .ctx = p,
	};
	uint32_t tag;
	int rc;

	rc = tt_plan_flush(&p->plan, p->inflight_batch.min, p->inflight_batch.hour,
		p->inflight_batch.src,
		&(struct tt_plan_alerts){ p->inflight_alerts.e, p->inflight_alerts.n },
		p->inflight_seq, p->done, &sink);
	if (rc != 0)
		return rc;
	for (tag = 0; tag < p->n_tags; tag++)
		if (p->has[tag] && !p->done[tag])
			return -EAGAIN;
	accepted(p);
	finish_inflight(p);
	return 0;
}

/*
 * Each sensor's metadata (DESIGN.md section 5, operations), so a consumer
 * needs no config: at every connection and once a minute. It lives as long
 * as the day buckets it describes.
 */
static void
append_sensor_meta(struct tt_publisher *p, uint32_t *n)
{
	const struct tt_config *cfg = p->sensors_cfg;
	char key[300], port[8], ttl[16];
	uint32_t i;

	snprintf(ttl, sizeof(ttl), "%u", cfg->retention_day);
	for (i = 0; i < cfg->n_sensors; i++) {
		const struct tt_sensor_conf *sc = &cfg->sensors[i];
		const char *hset[10] = {
			"HSET", key, "label", sc->label, "location",
			sc->location == TT_LOCATION_DOMESTIC ? "domestic" : "overseas",
			"port", port, "appliance", cfg->id,
		};
		const char *expire[3] = { "EXPIRE", key, ttl };

		if (sc->retired)       /* its hash lives out its TTL with its buckets */
			continue;
		snprintf(key, sizeof(key), "%s:sensor:%s", cfg->redis_prefix, sc->name);
		snprintf(port, sizeof(port), "%u", sc->port);
		redisAppendCommandArgv(p->rc, 10, hset, NULL);
		redisAppendCommandArgv(p->rc, 3, expire, NULL);
		*n += 2;
	}
}

/*
 * The health hash (DESIGN.md section 5), the instance key's refresh (SET
 * ... GET: Redis >= 6.2) and, now and then, the sensors' metadata, as one
 * pipeline. A transient refusal is left for the next interval; a permanent
 * one, or the instance key held by another run, fails the publisher.
 */
static void
write_health(struct tt_publisher *p)
{
	const struct tt_config *cfg = p->cfg;
	struct tt_publisher_health h;
	struct tt_publisher_stats st;
	char key[300], ikey[300], ttl[24], ittl[24];
	redisReply *other = NULL;
	const char *argv[64];
	char v[24][24];
	uint32_t n_cmds = 0, i;
	int n = 0, k = 0;
	uint64_t now = now_ms();
	bool meta = now >= p->next_sensor_meta_ms;

	pthread_mutex_lock(&p->lock);
	h = p->health;
	st = p->stats;
	backlog_locked(p, &st.backlog_bytes, &st.backlog_cells);
	pthread_mutex_unlock(&p->lock);
	snprintf(key, sizeof(key), "%s:appliance:%s", cfg->redis_prefix, cfg->id);
	argv[n++] = "HSET";
	argv[n++] = key;
	argv[n++] = "version";
	argv[n++] = TT_VERSION;
	argv[n++] = "instance";
	argv[n++] = p->token;
#define FIELD(name, fmt, val) do { \
		snprintf(v[k], sizeof(v[k]), fmt, val); \
		argv[n++] = name; \
		argv[n++] = v[k++]; \
	} while (0)
	FIELD("started", "%" PRIu64, p->started_s);
	FIELD("last_flush", "%" PRIu64, st.last_flush_ms / 1000);
	FIELD("flush_seq", "%" PRIu64, st.flush_seq);
	FIELD("rx_pkts", "%" PRIu64, h.rx_pkts);
	FIELD("rx_missed", "%" PRIu64, h.rx_missed);
	FIELD("not_dark", "%" PRIu64, h.not_dark);
	FIELD("malformed", "%" PRIu64, h.malformed);
	FIELD("redis_backlog_bytes", "%" PRIu64, st.backlog_bytes);
	FIELD("workers", "%u", p->n_workers);
	FIELD("shed_minute_cells", "%" PRIu64, st.shed_minute_cells);
	FIELD("shed_minute_bytes", "%" PRIu64, st.shed_minute_bytes);
	FIELD("shed_minute_packets", "%" PRIu64, st.shed_minute_packets);
	FIELD("shed_hour_cells", "%" PRIu64, st.shed_hour_cells);
	FIELD("shed_hour_packets", "%" PRIu64, st.shed_hour_packets);
	FIELD("shed_source_keys", "%" PRIu64, st.shed_source_keys);
	FIELD("redis_errors", "%" PRIu64, st.errors);
	FIELD("redis_refusals", "%" PRIu64, st.refusals);
	FIELD("redis_data_lost", "%" PRIu64, st.data_lost);
#undef FIELD
	redisAppendCommandArgv(p->rc, n, argv, NULL);
	snprintf(ttl, sizeof(ttl), "%u", HEALTH_INTERVALS * cfg->flush_interval_ms);
	snprintf(ittl, sizeof(ittl), "%" PRIu64, instance_ttl_ms(p));
	{
		const char *px[3] = { "PEXPIRE", key, ttl };
		const char *set[6] = { "SET", ikey, p->token, "PX", ittl, "GET" };

		instance_key(p, ikey, sizeof(ikey));
		redisAppendCommandArgv(p->rc, 3, px, NULL);
		redisAppendCommandArgv(p->rc, 6, set, NULL);
	}
	n_cmds = 3;
	if (meta) {
		append_sensor_meta(p, &n_cmds);
		p->next_sensor_meta_ms = now + SENSOR_META_INTERVAL_MS;
	}
	set_reply_timeout(p->rc, n_cmds, p->per_cmd_us);
	for (i = 0; i < n_cmds; i++) {
		redisReply *r;

		r = next_reply(p);
		if (r == NULL)
			return;
		if (r->type == REDIS_REPLY_ERROR && !is_transient(r->str))
			refused(p, i < 3 ? "the health key" : "a sensor's metadata",
				i == 0 ? "HSET" : i == 1 ? "PEXPIRE" : i == 2 ? "SET" :
				i % 2 ? "HSET" : "EXPIRE", r->str);
		else if (i == 2 && r->type == REDIS_REPLY_STRING && strcmp(r->str, p->token) != 0)
			other = r;      /* another run took the id while this one was silent */
		else if (i == 2 && r->type != REDIS_REPLY_ERROR)
			p->claimed = true;
		if (r != other)
			freeReplyObject(r);
	}
	set_reply_timeout(p->rc, 0, 0);
	if (other != NULL) {
		/* The newer run keeps the id: its token goes back, this run stops. */
		const char *back[4] = { "SET", ikey, other->str, "KEEPTTL" };
		redisReply *r = command(p, 4, back);

		id_in_use(p, other->str);
		freeReplyObject(r);
		freeReplyObject(other);
	}
}

/* How long the publisher thread may sleep: an interval, or less to a retry. */
static uint64_t
sleep_ms(const struct tt_publisher *p, uint64_t now)
{
	uint64_t ms = p->cfg->flush_interval_ms;

	if (p->rc == NULL && p->next_connect_ms > now)
		ms = RTE_MIN(ms, p->next_connect_ms - now);
	if (p->rc != NULL && p->retry_ms > now)
		ms = RTE_MIN(ms, p->retry_ms - now);
	return ms;
}

static void *
publisher_main(void *arg)
{
	struct tt_publisher *p = arg;
	uint64_t now = now_ms();

	for (;;) {
		struct timespec until;
		uint64_t wait = sleep_ms(p, now);
		bool stopping;
		int rc;

		pthread_mutex_lock(&p->lock);
		if (!p->stopping && !p->kicked) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += (time_t)(wait / 1000);
			until.tv_nsec += (long)(wait % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&p->wake, &p->lock, &until);
		}
		p->kicked = false;
		stopping = p->stopping;
		pthread_mutex_unlock(&p->lock);
		now = now_ms();

		if (failed(p)) {
			if (stopping)
				break;
			continue;
		}
		if (p->rc == NULL && now >= p->next_connect_ms) {
			rc = connect_redis(p);
			if (rc != 0) {
				p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
				if (p->backoff_ms > BACKOFF_MAX_MS)
					p->backoff_ms = BACKOFF_MAX_MS;
				p->next_connect_ms = now + p->backoff_ms;
			} else {
				p->backoff_ms = 0;
			}
		}
		if (p->rc != NULL && p->need_readback && now >= p->retry_ms)
			read_back(p);
		/* Drain: each round commits the in-flight batch, then takes the next. */
		while (p->rc != NULL && !p->need_readback && !failed(p) && now_ms() >= p->retry_ms &&
				(p->inflight || take_pending(p))) {
			rc = flush_inflight(p);
			if (rc != 0)
				break;
		}
		if (p->rc != NULL && !failed(p))
			write_health(p);

		if (stopping) {
			bool empty;

			pthread_mutex_lock(&p->lock);
			empty = !p->inflight && backlog_empty(&p->pending) &&
				p->pending_alerts.n == 0;
			pthread_mutex_unlock(&p->lock);
			if (empty || now_ms() >= p->stop_deadline_ms)
				break;
			/* Redis away or refusing at the end: keep trying until the deadline. */
			if (p->rc == NULL || p->retry_ms > now_ms()) {
				struct timespec ts = { 0, 50 * 1000000 };

				nanosleep(&ts, NULL);
			}
		}
		now = now_ms();
	}
	return NULL;
}

int
tt_publisher_start(struct tt_publisher *p)
{
	int rc = connect_redis(p);

	if (rc == -EACCES)
		return rc;
	if (failed(p))
		return -EEXIST;
	if (rc != 0)
		p->next_connect_ms = now_ms() + BACKOFF_MIN_MS;
	rc = pthread_create(&p->thread, NULL, publisher_main, p);
	if (rc != 0)
		return -rc;
	pthread_setname_np(p->thread, "tt-publish");
	p->thread_started = true;
	return 0;
}

static uint64_t
held_locked(const struct tt_publisher *p)
{
	uint64_t bytes, cells;

	backlog_locked(p, &bytes, &cells);
	return bytes;
}

/*
 * Past backlog_max_mb, with p->lock held: shed minute buckets first (hours
 * and days carry the same counts), then the source deltas (host records and
 * rolling sets), then hour buckets, until what is held fits. What is shed is
 * freed, not kept as capacity. Each step is counted in packets or keys, and
 * logged at most once a minute.
 */
static void
shed_locked(struct tt_publisher *p, uint64_t cap)
{
	struct tt_publisher_stats *st = &p->stats;
	struct backlog *b = &p->pending;
	uint64_t now = now_ms();

	if (!counts_empty(b->min)) {
		st->shed_minute_cells += tt_counters_cells(b->min);
		st->shed_minute_bytes += tt_counters_merged_memory(b->min);
		st->shed_minute_packets += counts_packets(b->min);
		empty_counts(&b->min, 0);
	}
	if (held_locked(p) > cap && sources_held(b) != 0) {
		st->shed_source_keys += sources_held(b);
		empty_sources(&b->src, 0);
	}
	if (held_locked(p) > cap && !counts_empty(b->hour)) {
		st->shed_hour_cells += tt_counters_cells(b->hour);
		st->shed_hour_packets += counts_packets(b->hour);
		empty_counts(&b->hour, 0);
	}
	if (now - p->last_shed_log_ms >= SHED_LOG_INTERVAL_MS) {
		PUB_LOG(WARNING, "backlog over backlog_max_mb = %u: shed so far: minute buckets "
			"(%" PRIu64 " cells, %" PRIu64 " packets), source keys %" PRIu64
			", hour buckets (%" PRIu64 " cells, %" PRIu64 " packets)",
			p->cfg->backlog_max_mb, st->shed_minute_cells, st->shed_minute_packets,
			st->shed_source_keys, st->shed_hour_cells, st->shed_hour_packets);
		p->last_shed_log_ms = now;
	}
}

int
tt_publisher_submit(struct tt_publisher *p, const struct tt_shard *s,
		const struct tt_sources_deltas *sources)
{
	uint64_t cap = (uint64_t)p->cfg->backlog_max_mb << 20;
	int rc;

	pthread_mutex_lock(&p->lock);
	rc = tt_counters_merge(p->pending.min, s, 1, true);
	if (rc == 0)
		rc = tt_counters_merge(p->pending.hour, s, 60, true);
	if (rc == 0 && sources != NULL)
		rc = tt_sources_deltas_merge(p->pending.src, sources);
	if (held_locked(p) > cap)
		shed_locked(p, cap);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int
tt_publisher_submit_alert(struct tt_publisher *p, uint32_t n_fields,
		const char *const *fields, const char *json)
{
	struct alert_list *l = &p->pending_alerts;
	size_t size = 2 * n_fields * sizeof(char *) + strlen(json) + 1;
	const char **block;
	char *at;
	uint32_t f;

	for (f = 0; f < 2 * n_fields; f++)
		size += strlen(fields[f]) + 1;
	block = malloc(size);
	if (block == NULL)
		return -ENOMEM;
	at = (char *)(block + 2 * n_fields);
	for (f = 0; f < 2 * n_fields; f++) {
		block[f] = at;
		at = stpcpy(at, fields[f]) + 1;
	}
	strcpy(at, json);
	pthread_mutex_lock(&p->lock);
	if (l->n == ALERTS_PENDING_MAX) {
		/* Redis away for long: the oldest goes, counted. */
		free((void *)l->e[0].fields);
		memmove(l->e, l->e + 1, (l->n - 1) * sizeof(*l->e));
		l->n--;
		p->stats.shed_alerts++;
	}
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 64;
		struct tt_plan_alert *e = realloc(l->e, cap * sizeof(*e));

		if (e == NULL) {
			pthread_mutex_unlock(&p->lock);
			free(block);
			return -ENOMEM;
		}
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n++] = (struct tt_plan_alert){ .n_fields = n_fields, .fields = block,
		.json = at };
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void
tt_publisher_reconfigure(struct tt_publisher *p, const struct tt_config *cfg)
{
	pthread_mutex_lock(&p->lock);
	p->next_cfg = cfg;
	pthread_mutex_unlock(&p->lock);
}

void
tt_publisher_kick(struct tt_publisher *p)
{
	pthread_mutex_lock(&p->lock);
	p->kicked = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void
tt_publisher_set_health(struct tt_publisher *p, const struct tt_publisher_health *h)
{
	pthread_mutex_lock(&p->lock);
	p->health = *h;
	pthread_mutex_unlock(&p->lock);
}

void
tt_publisher_get_stats(struct tt_publisher *p, struct tt_publisher_stats *out)
{
	pthread_mutex_lock(&p->lock);
	*out = p->stats;
	backlog_locked(p, &out->backlog_bytes, &out->backlog_cells);
	out->behind = p->inflight_locked && !backlog_empty(&p->pending);
	out->alerts_pending = p->pending_alerts.n;
	pthread_mutex_unlock(&p->lock);
}

bool
tt_publisher_failed(struct tt_publisher *p, char *why, size_t len)
{
	bool f;

	pthread_mutex_lock(&p->lock);
	f = p->stats.failed;
	if (f && why != NULL)
		snprintf(why, len, "%s", p->why);
	pthread_mutex_unlock(&p->lock);
	return f;
}

/* A clean stop frees the id at once, so a restart need not wait for it. */
static void
release_instance(struct tt_publisher *p)
{
	char key[300];
	const char *get[2] = { "GET", key }, *del[2] = { "DEL", key };
	redisReply *r;

	if (p->rc == NULL || !p->claimed || failed(p))
		return;
	instance_key(p, key, sizeof(key));
	r = command(p, 2, get);
	if (r != NULL && r->type == REDIS_REPLY_STRING && strcmp(r->str, p->token) == 0) {
		freeReplyObject(r);
		r = command(p, 2, del);
	}
	freeReplyObject(r);
}

int
tt_publisher_stop(struct tt_publisher *p, unsigned int timeout_ms)
{
	uint64_t pkts, keys;
	bool undelivered;

	if (!p->thread_started)
		return -EIO;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	p->stop_deadline_ms = now_ms() + timeout_ms;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	p->thread_started = false;
	release_instance(p);
	undelivered = p->inflight || !backlog_empty(&p->pending) || p->pending_alerts.n != 0;
	if (!undelivered)
		return failed(p) ? -EPERM : 0;
	if (p->pending_alerts.n + (p->inflight ? p->inflight_alerts.n : 0) != 0)
		PUB_LOG(ERR, "final flush: %u alerts were not delivered",
			p->pending_alerts.n + (p->inflight ? p->inflight_alerts.n : 0));
	/* Hours hold every packet (minutes are the same ones, finer). */
	pkts = counts_packets(p->pending.hour) +
		(p->inflight ? counts_packets(p->inflight_batch.hour) : 0);
	keys = sources_held(&p->pending) + (p->inflight ? sources_held(&p->inflight_batch) : 0);
	pthread_mutex_lock(&p->lock);
	p->stats.undelivered_packets = pkts;
	pthread_mutex_unlock(&p->lock);
	PUB_LOG(ERR, "final flush: %s: the counts of %" PRIu64 " packets and %" PRIu64
		" source keys were not delivered", failed(p) ? "publishing had stopped" :
		"Redis did not take everything in time ([redis] final_flush_s)", pkts, keys);
	return failed(p) ? -EPERM : -EIO;
}

void
tt_publisher_free(struct tt_publisher *p)
{
	if (p == NULL)
		return;
	if (p->rc != NULL)
		redisFree(p->rc);
	backlog_fini(&p->pending);
	backlog_fini(&p->inflight_batch);
	alert_list_free(&p->pending_alerts);
	alert_list_free(&p->inflight_alerts);
	if (p->asn_open)
		MMDB_close(&p->asn_db);
	free(p->sensor_names);
	free(p->has);
	free(p->done);
	free(p->committed);
	free(p->cur_names);
	if (p->password != NULL) {
		memset(p->password, 0, strlen(p->password));
		free(p->password);
	}
	if (p->thread_started || p->plan.prefix != NULL) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->wake);
	}
	free(p);
}
