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
 */
#define _GNU_SOURCE
#include "tt_publish.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <maxminddb.h>
#include <rte_log.h>

#include "publish_internal.h"
#include "tt_config.h"
#include "tt_counters.h"

RTE_LOG_REGISTER(tt_logtype_publish, tt.publish, NOTICE);
#define PUB_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_publish, "publish: " fmt "\n", ##__VA_ARGS__)

enum {
	CONNECT_TIMEOUT_MS = 1000,
	COMMAND_TIMEOUT_MS = 2000,
	BACKOFF_MIN_MS = 100,
	BACKOFF_MAX_MS = 5000,
	SHED_LOG_INTERVAL_MS = 60000,
	HEALTH_INTERVALS = 3,          /* the health key lives 3 flush intervals */
};

struct tt_publisher {
	const struct tt_config *cfg;
	struct tt_plan_conf plan;
	const char **sensor_names;
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
	struct tt_shard *pending_min;      /* cells keyed by minute */
	struct tt_shard *pending_hour;     /* cells keyed by hour */
	bool stopping;
	bool kicked;
	uint64_t stop_deadline_ms;
	uint64_t last_shed_log_ms;
	struct tt_publisher_health health;
	struct tt_publisher_stats stats;
	uint64_t inflight_bytes;           /* written by the publisher */
	uint64_t inflight_cells;

	/* publisher thread only */
	redisContext *rc;
	long long client_id;
	long long old_client_id;           /* a broken connection's id, to kill */
	bool need_readback;
	bool inflight;
	uint64_t inflight_seq;
	struct tt_shard *inflight_min;
	struct tt_shard *inflight_hour;
	uint8_t *has;                      /* [tag]: the in-flight batch writes it */
	uint8_t *done;                     /* [tag]: committed */
	uint64_t seq_next;
	uint64_t backoff_ms;
	uint64_t next_connect_ms;
	bool down_logged;
	/* commands of the tag transaction being written */
	uint32_t cur_commands;
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

/* Source deltas ride with the hour backlog: never shed, like hours and days. */
static struct tt_shard *
new_merged_shard(bool keep_sources)
{
	return tt_counters_create(&(struct tt_counters_conf){ .port_cells = 1 << 10,
		.country_cells = 1 << 8, .hll_cells = 1 << 8, .src_cells = 1 << 8,
		.growable = true, .keep_sources = keep_sources });
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
	p->n_tags = cfg->n_sensors + 2;     /* sensors, all, src */
	p->started_s = now_ms() / 1000;
	p->seq_next = now_ms() * 1000;
	p->sensor_names = calloc(cfg->n_sensors, sizeof(*p->sensor_names));
	p->has = calloc(p->n_tags, 1);
	p->done = calloc(p->n_tags, 1);
	p->pending_min = new_merged_shard(false);
	p->pending_hour = new_merged_shard(true);
	p->inflight_min = new_merged_shard(false);
	p->inflight_hour = new_merged_shard(true);
	if (p->sensor_names == NULL || p->has == NULL || p->done == NULL ||
			p->pending_min == NULL || p->pending_hour == NULL ||
			p->inflight_min == NULL || p->inflight_hour == NULL)
		goto err_free;
	for (i = 0; i < cfg->n_sensors; i++)
		p->sensor_names[i] = cfg->sensors[i].name;
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
		.sensor_names = p->sensor_names, .n_sensors = cfg->n_sensors,
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

static void
drop_connection(struct tt_publisher *p, const char *why)
{
	char where[300];

	if (p->rc == NULL)
		return;
	PUB_LOG(WARNING, "redis %s: %s; reconnecting", redis_where(p, where, sizeof(where)),
		why);
	p->old_client_id = p->client_id;
	p->need_readback = p->inflight;
	redisFree(p->rc);
	p->rc = NULL;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->next_connect_ms = now_ms() + p->backoff_ms;
	pthread_mutex_lock(&p->lock);
	p->stats.connected = false;
	p->stats.errors++;
	pthread_mutex_unlock(&p->lock);
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
 * @return 0 connected, -EACCES credentials rejected, -ECONNREFUSED (or
 *   another error) when Redis cannot be reached.
 */
static int
connect_redis(struct tt_publisher *p)
{
	const struct tt_config *cfg = p->cfg;
	struct timeval ctv = { 0, CONNECT_TIMEOUT_MS * 1000 };
	struct timeval ctm = { COMMAND_TIMEOUT_MS / 1000, (COMMAND_TIMEOUT_MS % 1000) * 1000 };
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
	redisSetTimeout(rc, ctm);
	if (p->password != NULL || cfg->redis_user != NULL) {
		r = cfg->redis_user ?
			redisCommand(rc, "AUTH %s %s", cfg->redis_user, p->password ? p->password : "") :
			redisCommand(rc, "AUTH %s", p->password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			PUB_LOG(ERR, "redis %s: AUTH%s%s: %s", where, cfg->redis_user ? " as " : "",
				cfg->redis_user ? cfg->redis_user : "", r ? r->str : rc->errstr);
			ret = r ? -EACCES : -EIO;
			goto err_free;
		}
		freeReplyObject(r);
	}
	r = redisCommand(rc, "CLIENT ID");
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		bool denied = r && r->type == REDIS_REPLY_ERROR &&
			(strncmp(r->str, "NOAUTH", 6) == 0 || strncmp(r->str, "NOPERM", 6) == 0);

		PUB_LOG(ERR, "redis %s: CLIENT ID: %s", where, r ? r->str : rc->errstr);
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

	if (redisAppendCommandArgv(p->rc, argc, argv, lens) != REDIS_OK)
		return -ENOMEM;
	p->cur_commands++;
	p->flush_commands++;
	return 0;
}

/* Read the transaction's replies: +OK, +QUEUED..., then EXEC's array. */
static int
sink_end(void *ctx, uint32_t tag)
{
	struct tt_publisher *p = ctx;
	redisReply *r = NULL;
	uint32_t i, queue_errors = 0;
	size_t e;
	int ret = 0;

	for (i = 0; i < p->cur_commands; i++) {
		if (redisGetReply(p->rc, (void **)&r) != REDIS_OK) {
			drop_connection(p, p->rc->errstr[0] ? p->rc->errstr : "no reply");
			return -EIO;
		}
		if (i + 1 < p->cur_commands) {
			if (r->type == REDIS_REPLY_ERROR && queue_errors++ == 0)
				PUB_LOG(ERR, "tag %u: command %u refused: %s", tag, i, r->str);
			freeReplyObject(r);
			continue;
		}
		if (r->type == REDIS_REPLY_ARRAY) {
			for (e = 0; e < r->elements; e++)
				if (r->element[e]->type == REDIS_REPLY_ERROR && queue_errors++ == 0)
					PUB_LOG(ERR, "tag %u: command failed in EXEC: %s", tag,
						r->element[e]->str);
			p->done[tag] = 1;
		} else {
			PUB_LOG(ERR, "tag %u: transaction not committed: %s", tag,
				r->type == REDIS_REPLY_ERROR ? r->str : "no EXEC reply");
			ret = -EPROTO;
		}
		freeReplyObject(r);
	}
	if (queue_errors != 0) {
		pthread_mutex_lock(&p->lock);
		p->stats.errors += queue_errors;
		pthread_mutex_unlock(&p->lock);
	}
	/* A refused transaction is not retried forever: it would fail again. */
	if (ret == -EPROTO)
		p->done[tag] = 1;
	return 0;
}

/* After a broken connection: which tags of the in-flight batch committed? */
static int
read_back(struct tt_publisher *p)
{
	char key[300], seq[24];
	uint32_t tag;

	snprintf(seq, sizeof(seq), "%" PRIu64, p->inflight_seq);
	for (tag = 0; tag < p->n_tags; tag++) {
		const char *argv[3] = { "HGET", key, p->cfg->id };
		redisReply *r;

		if (!p->has[tag] || p->done[tag])
			continue;
		tt_plan_flushed_key(&p->plan, tag, key, sizeof(key));
		r = command(p, 3, argv);
		if (r == NULL)
			return -EIO;
		if (r->type == REDIS_REPLY_STRING && strcmp(r->str, seq) == 0) {
			p->done[tag] = 1;
			pthread_mutex_lock(&p->lock);
			p->stats.tags_resent_skipped++;
			pthread_mutex_unlock(&p->lock);
		}
		freeReplyObject(r);
	}
	p->need_readback = false;
	return 0;
}

static uint64_t
shard_cells(const struct tt_shard *s)
{
	return tt_table_cells(tt_counters_port_table(s)) +
		tt_table_cells(tt_counters_country_table(s)) +
		tt_table_cells(tt_counters_hll_table(s));
}

static bool
shard_empty(const struct tt_shard *s)
{
	return shard_cells(s) == 0;
}

/*
 * What is held and not yet committed, with p->lock held: the memory of the
 * shards that hold data (an emptied shard keeps its capacity, but that is no
 * backlog), and their cells. Zero once Redis has everything.
 */
static void
backlog_locked(const struct tt_publisher *p, uint64_t *bytes, uint64_t *cells)
{
	*bytes = p->inflight_bytes;
	*cells = p->inflight_cells;
	if (!shard_empty(p->pending_min)) {
		*bytes += tt_counters_memory(p->pending_min);
		*cells += shard_cells(p->pending_min);
	}
	if (!shard_empty(p->pending_hour)) {
		*bytes += tt_counters_memory(p->pending_hour);
		*cells += shard_cells(p->pending_hour);
	}
}

/* Take the backlog as the next in-flight batch. */
static bool
take_pending(struct tt_publisher *p)
{
	struct tt_shard *m, *h;

	pthread_mutex_lock(&p->lock);
	if (shard_empty(p->pending_min) && shard_empty(p->pending_hour)) {
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	m = p->pending_min;
	h = p->pending_hour;
	p->pending_min = p->inflight_min;
	p->pending_hour = p->inflight_hour;
	p->inflight_min = m;
	p->inflight_hour = h;
	p->inflight_bytes = tt_counters_memory(m) + tt_counters_memory(h);
	p->inflight_cells = shard_cells(m) + shard_cells(h);
	pthread_mutex_unlock(&p->lock);
	p->inflight = true;
	p->inflight_seq = ++p->seq_next;
	p->flush_commands = 0;
	p->flush_started_us = now_us();
	memset(p->has, 0, p->n_tags);
	memset(p->done, 0, p->n_tags);
	tt_plan_tags_with_data(&p->plan, m, h, p->has);
	return true;
}

static void
finish_inflight(struct tt_publisher *p)
{
	uint64_t took = now_us() - p->flush_started_us;

	tt_counters_reset(p->inflight_min);
	tt_counters_reset(p->inflight_hour);
	p->inflight = false;
	pthread_mutex_lock(&p->lock);
	p->stats.commands += p->flush_commands;
	p->stats.last_flush_us = took;
	if (took > p->stats.max_flush_us)
		p->stats.max_flush_us = took;
	p->inflight_bytes = 0;
	p->inflight_cells = 0;
	p->stats.flushes++;
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

	if (p->need_readback && read_back(p) != 0)
		return -EIO;
	rc = tt_plan_flush(&p->plan, p->inflight_min, p->inflight_hour, p->inflight_seq,
		p->done, &sink);
	if (rc != 0)
		return rc;
	for (tag = 0; tag < p->n_tags; tag++)
		if (p->has[tag] && !p->done[tag])
			return -EAGAIN;
	finish_inflight(p);
	return 0;
}

static void
write_health(struct tt_publisher *p)
{
	const struct tt_config *cfg = p->cfg;
	struct tt_publisher_health h;
	struct tt_publisher_stats st;
	char key[300], v[12][24], ttl[24];
	const char *argv[2 + 2 * 14];
	redisReply *r;
	int n = 0, i;

	pthread_mutex_lock(&p->lock);
	h = p->health;
	st = p->stats;
	backlog_locked(p, &st.backlog_bytes, &st.backlog_cells);
	pthread_mutex_unlock(&p->lock);
	snprintf(key, sizeof(key), "%s:appliance:%s", cfg->redis_prefix, cfg->id);
	snprintf(v[0], sizeof(v[0]), "%" PRIu64, p->started_s);
	snprintf(v[1], sizeof(v[1]), "%" PRIu64, st.last_flush_ms / 1000);
	snprintf(v[2], sizeof(v[2]), "%" PRIu64, st.flush_seq);
	snprintf(v[3], sizeof(v[3]), "%" PRIu64, h.rx_pkts);
	snprintf(v[4], sizeof(v[4]), "%" PRIu64, h.rx_missed);
	snprintf(v[5], sizeof(v[5]), "%" PRIu64, h.not_dark);
	snprintf(v[6], sizeof(v[6]), "%" PRIu64, h.malformed);
	snprintf(v[7], sizeof(v[7]), "%" PRIu64, st.backlog_bytes);
	snprintf(v[8], sizeof(v[8]), "%u", p->n_workers);
	snprintf(v[9], sizeof(v[9]), "%" PRIu64, st.shed_minute_cells);
	snprintf(v[10], sizeof(v[10]), "%" PRIu64, st.shed_minute_bytes);
	snprintf(v[11], sizeof(v[11]), "%" PRIu64, st.errors);
	argv[n++] = "HSET";
	argv[n++] = key;
	argv[n++] = "version";
	argv[n++] = TT_VERSION;
	{
		static const char *const names[12] = {
			"started", "last_flush", "flush_seq", "rx_pkts", "rx_missed", "not_dark",
			"malformed", "redis_backlog_bytes", "workers", "shed_minute_cells",
			"shed_minute_bytes", "redis_errors",
		};

		for (i = 0; i < 12; i++) {
			argv[n++] = names[i];
			argv[n++] = v[i];
		}
	}
	r = command(p, n, argv);
	if (r == NULL)
		return;
	freeReplyObject(r);
	snprintf(ttl, sizeof(ttl), "%u", HEALTH_INTERVALS * cfg->flush_interval_ms);
	{
		const char *px[3] = { "PEXPIRE", key, ttl };

		r = command(p, 3, px);
		freeReplyObject(r);
	}
}

static void *
publisher_main(void *arg)
{
	struct tt_publisher *p = arg;
	uint64_t interval = p->cfg->flush_interval_ms;

	for (;;) {
		struct timespec until;
		bool stopping;
		uint64_t now;
		int rc;

		pthread_mutex_lock(&p->lock);
		if (!p->stopping && !p->kicked) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += (time_t)(interval / 1000);
			until.tv_nsec += (long)(interval % 1000) * 1000000;
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
		/* Drain: each round commits the in-flight batch, then takes the next. */
		while (p->rc != NULL && (p->inflight || take_pending(p))) {
			rc = flush_inflight(p);
			if (rc != 0)
				break;
		}
		if (p->rc != NULL)
			write_health(p);

		if (stopping) {
			bool empty;

			pthread_mutex_lock(&p->lock);
			empty = !p->inflight && shard_empty(p->pending_min) &&
				shard_empty(p->pending_hour);
			pthread_mutex_unlock(&p->lock);
			if (empty || now_ms() >= p->stop_deadline_ms)
				break;
			/* Redis away at the end: keep trying until the deadline. */
			if (p->rc == NULL) {
				struct timespec ts = { 0, 50 * 1000000 };

				nanosleep(&ts, NULL);
			}
		}
	}
	return NULL;
}

int
tt_publisher_start(struct tt_publisher *p)
{
	int rc = connect_redis(p);

	if (rc == -EACCES)
		return rc;
	if (rc != 0)
		p->next_connect_ms = now_ms() + BACKOFF_MIN_MS;
	rc = pthread_create(&p->thread, NULL, publisher_main, p);
	if (rc != 0)
		return -rc;
	pthread_setname_np(p->thread, "tt-publish");
	p->thread_started = true;
	return 0;
}

int
tt_publisher_submit(struct tt_publisher *p, const struct tt_shard *s)
{
	uint64_t held, cap = (uint64_t)p->cfg->backlog_max_mb << 20;
	int rc;

	pthread_mutex_lock(&p->lock);
	rc = tt_counters_merge(p->pending_min, s, 1, true);
	if (rc == 0)
		rc = tt_counters_merge(p->pending_hour, s, 60, true);
	held = tt_counters_memory(p->pending_min) + tt_counters_memory(p->pending_hour) +
		p->inflight_bytes;
	if (held > cap && !shard_empty(p->pending_min)) {
		/* Shed minute data first: hours and days are kept whole. */
		uint64_t bytes = tt_counters_memory(p->pending_min);
		uint64_t cells = shard_cells(p->pending_min);
		uint64_t now = now_ms();

		tt_counters_reset(p->pending_min);
		p->stats.shed_minute_cells += cells;
		p->stats.shed_minute_bytes += bytes;
		held = tt_counters_memory(p->pending_min) + tt_counters_memory(p->pending_hour) +
			p->inflight_bytes;
		if (now - p->last_shed_log_ms >= SHED_LOG_INTERVAL_MS) {
			PUB_LOG(WARNING, "backlog over backlog_max_mb = %u: shed minute buckets "
				"(%" PRIu64 " cells, %" PRIu64 " bytes so far); hours and days kept",
				p->cfg->backlog_max_mb, p->stats.shed_minute_cells,
				p->stats.shed_minute_bytes);
			p->last_shed_log_ms = now;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
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
	pthread_mutex_unlock(&p->lock);
}

int
tt_publisher_stop(struct tt_publisher *p, unsigned int timeout_ms)
{
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
	undelivered = p->inflight || !shard_empty(p->pending_min) ||
		!shard_empty(p->pending_hour);
	if (undelivered)
		PUB_LOG(ERR, "final flush: Redis did not take everything within %u ms; "
			"%" PRIu64 " bytes of counts not delivered", timeout_ms,
			tt_counters_memory(p->pending_min) + tt_counters_memory(p->pending_hour) +
			(p->inflight ? p->inflight_bytes : 0));
	return undelivered ? -EIO : 0;
}

void
tt_publisher_free(struct tt_publisher *p)
{
	if (p == NULL)
		return;
	if (p->rc != NULL)
		redisFree(p->rc);
	tt_counters_free(p->pending_min);
	tt_counters_free(p->pending_hour);
	tt_counters_free(p->inflight_min);
	tt_counters_free(p->inflight_hour);
	if (p->asn_open)
		MMDB_close(&p->asn_db);
	free(p->sensor_names);
	free(p->has);
	free(p->done);
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
