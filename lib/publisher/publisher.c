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
 *
 * Redis Cluster ([redis] cluster): routed by hand, since Debian 12 has no
 * hiredis-cluster or libvalkey package and hiredis-cluster needs hiredis >=
 * 1.0 where Debian ships 0.14. Every key's hash tag is its scope, so each
 * tag's transaction lies in one slot, hence on one master: the publisher
 * reads the slot map (CLUSTER SHARDS, else CLUSTER SLOTS on Redis < 7),
 * keeps one connection per master and sends each tag's MULTI/EXEC, with its
 * own flushed record, to the master of the tag's slot (lib/slots computes
 * it). The health hash, the instance key and the sensors' metadata go to
 * their own keys' masters. The exactly-once rule is unchanged: Redis refuses
 * a whole transaction sent to the wrong node (MOVED, ASK, TRYAGAIN or
 * CLUSTERDOWN for a command, then EXECABORT), so a redirected tag committed
 * nothing and is sent again: after MOVED to the master the refreshed map
 * names, after ASK to the importing node behind ASKING, after TRYAGAIN or
 * CLUSTERDOWN with back-off. A master lost mid-transaction is a broken
 * connection as above: the map is read again (its replica promoted), and the
 * read-back asks each tag's current master what committed. A transaction the
 * old master acknowledged but did not replicate before it died is gone with
 * it; the read-back finds the flushed record older and counts data_lost.
 */
#define _GNU_SOURCE
#include "tt_publisher.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <maxminddb.h>
#include <rte_common.h>
#include <rte_log.h>

#include "tt_plan.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_slots.h"
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
	/*
	 * MOVED and ASK followed in one go before a flush waits for the next
	 * round: a reshard moves a slot in milliseconds, so more than a few
	 * redirects in a row means the nodes disagree (a failover under way).
	 */
	REDIRECTS_MAX = 8,
	/*
	 * A transaction is written out whenever this much of it waits in
	 * hiredis's buffer. hiredis moves what is left of its buffer to the
	 * front after each partial write, so one buffer of a whole flush (10 MB
	 * and more) written into a 64 KiB socket buffer is quadratic: +200 ms a
	 * flush of 95,000 commands measured, against nothing with this cap.
	 */
	UNSENT_MAX = 256 << 10,
	/*
	 * After the final flush, the instance key is given back (DEL) within
	 * this much more: a key left behind holds up the next run's start for
	 * its whole life (15 s and more).
	 */
	RELEASE_GRACE_MS = 500,
};

/*
 * One Redis connection: the one Redis of [redis] host or unix, or one master
 * of a cluster (or the node an ASK sent a transaction to). Publisher thread.
 */
struct conn {
	char host[TT_SLOTS_HOST_MAX];      /* "" for [redis] unix */
	uint16_t port;
	redisContext *rc;                  /* NULL: not connected */
	long long client_id;
	long long old_client_id;           /* a broken connection's id, to kill */
	/*
	 * And its address as Redis sees it ("ip:port", "[ip]:port"), "" over a
	 * unix socket: the kill names both, so it cannot hit another client
	 * that a restarted Redis gave the same id.
	 */
	char old_addr[INET6_ADDRSTRLEN + 8];
};

/* NO_CONN in a reply's connection: the command was not sent. */
#define NO_CONN UINT32_MAX

/*
 * Cluster: a tag's transaction written to its master, whose replies are read
 * once every tag of the round is out, so the masters work side by side.
 */
struct sent {
	uint32_t tag;
	uint32_t conn;
	uint32_t first;                    /* its first command's name in cur_names */
	uint32_t commands;
	bool asking;
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
	uint64_t stop_deadline_ms;         /* monotonic (mono_ms) */
	int stop_fd;                       /* eventfd, readable once stopping: wakes a wait */
	uint32_t interrupted;              /* atomic: tt_publisher_interrupt() was called */
	bool in_start;                     /* tt_publisher_start() connects, no thread yet */
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
	struct conn *conns;                /* the one Redis, or the cluster's masters */
	uint32_t n_conns;
	uint32_t cur;                      /* the connection commands go to now */
	bool up;                           /* every connection open */
	bool cluster;                      /* [redis] cluster: route by slot */
	struct tt_slots_map *map;          /* cluster: each slot's master (conns[i] is node i) */
	bool need_refresh;                 /* cluster: read the slot map again */
	bool redirected;                   /* the last refusal was MOVED or ASK */
	bool ask_pending;                  /* ASK: ask_tag's next try goes to ask_host */
	uint32_t ask_tag;
	char ask_host[TT_SLOTS_HOST_MAX];
	uint16_t ask_port;
	bool asking;                       /* the tag being written starts with ASKING */
	uint32_t *via;                     /* a pipeline over connections: each reply's */
	uint32_t via_cap;
	char masters_logged[256];          /* the masters last logged */
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
	uint64_t wait_us;                  /* a wait on a socket may see no progress this long */
	uint64_t retry_backoff_ms;
	uint64_t refused_since_ms;         /* the refusal episode's start, 0 none */
	uint64_t next_sensor_meta_ms;
	bool down_logged;
	char token[33];                    /* this run's instance token */
	bool claimed;                      /* the instance key was ours once */
	/* the tag transaction being written: its commands' names, for errors */
	uint32_t cur_first;                /* its first in cur_names */
	uint32_t cur_commands;
	uint32_t n_names;                  /* names held: this tag's, or the round's (cluster) */
	const char **cur_names;
	uint32_t cur_names_cap;
	struct sent *sent;                 /* cluster: tags written, replies not yet read */
	uint32_t n_sent;
	uint32_t sent_cap;
	uint64_t flush_commands;           /* of the in-flight batch, all tags */
	uint64_t flush_started_us;
	uint64_t unsent_bytes;             /* of the tag being written, about (UNSENT_MAX) */
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* For waits and deadlines: a wall clock stepped by NTP moves neither. */
static uint64_t
mono_ms(void)
{
	return now_us() / 1000;
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
	p->stop_fd = -1;
	p->cfg = cfg;
	p->n_workers = conf->n_workers;
	p->sensors_cfg = cfg;
	p->n_tags = RTE_MAX(conf->sensor_slots, cfg->n_sensors) + 3;  /* sensors, all, src, alerts */
	p->started_s = now_ms() / 1000;
	p->seq_next = now_ms() * 1000;
	p->per_cmd_us = COMMAND_TIMEOUT_PER_CMD_US;
	p->wait_us = (uint64_t)COMMAND_TIMEOUT_MS * 1000;
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->stop_fd < 0) {
		err = errno;
		goto err_free;
	}
	p->sensor_names = calloc(p->n_tags - 3, sizeof(*p->sensor_names));
	p->cluster = cfg->redis_cluster != NULL;
	if (!p->cluster) {
		/* one Redis: one connection, conns[0], for everything */
		p->conns = calloc(1, sizeof(*p->conns));
		if (p->conns == NULL)
			goto err_free;
		p->n_conns = 1;
		if (cfg->redis_unix == NULL && strlen(cfg->redis_host) >= sizeof(p->conns->host)) {
			PUB_LOG(ERR, "[redis] host: longer than %zu bytes",
				sizeof(p->conns->host) - 1);
			err = ENAMETOOLONG;
			goto err_free;
		}
		if (cfg->redis_unix == NULL)
			snprintf(p->conns->host, sizeof(p->conns->host), "%s", cfg->redis_host);
		p->conns->port = cfg->redis_port;
	}
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

/* A node for messages: host:port, [IPv6]:port, or the unix socket. */
static const char *
node_where(const struct tt_publisher *p, const char *host, uint16_t port, char *buf,
		size_t len)
{
	if (host == NULL || host[0] == '\0')
		snprintf(buf, len, "%s", p->cfg->redis_unix);
	else
		snprintf(buf, len, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	return buf;
}

/* The connection commands go to now, for messages. */
static const char *
redis_where(const struct tt_publisher *p, char *buf, size_t len)
{
	if (p->n_conns == 0) {
		snprintf(buf, len, "cluster %s", p->cfg->redis_cluster);
		return buf;
	}
	return node_where(p, p->conns[p->cur].host, p->conns[p->cur].port, buf, len);
}

/* The context commands go to now; NULL when that connection is not open. */
static redisContext *
rc_of(const struct tt_publisher *p)
{
	return p->n_conns != 0 ? p->conns[p->cur].rc : NULL;
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

/* MOVED or ASK: another node serves the key's slot; the command did not run. */
static bool
is_redirect(const char *err)
{
	return strncmp(err, "MOVED ", 6) == 0 || strncmp(err, "ASK ", 4) == 0;
}

/*
 * The node of "MOVED 3999 127.0.0.1:6381" or "ASK 3999 ::1:6381" (Redis
 * writes an IPv6 address without brackets: the port is after the last ':').
 * @return true when it could be read.
 */
static bool
redirect_target(const char *err, char *host, size_t len, uint16_t *port)
{
	const char *at = strchr(err, ' '), *colon;
	unsigned long n;
	char *end;

	if (at == NULL || (at = strchr(at + 1, ' ')) == NULL)
		return false;
	at++;
	colon = strrchr(at, ':');
	if (colon == NULL || colon == at || (size_t)(colon - at) >= len)
		return false;
	n = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || n == 0 || n > 65535)
		return false;
	memcpy(host, at, (size_t)(colon - at));
	host[colon - at] = '\0';
	*port = (uint16_t)n;
	return true;
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
	else if (is_redirect(err))
		snprintf(buf, len, "; this Redis is a node of a Redis Cluster: name its "
			"nodes in [redis] cluster = host:port,... instead of host and port");
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

	if (is_redirect(err) && p->cluster) {
		/* Not a refusal: the slot moved (MOVED: read the map again) or is
		 * moving (ASK: the caller sends to the importing node). */
		p->redirected = true;
		if (err[0] == 'M')
			p->need_refresh = true;
		pthread_mutex_lock(&p->lock);
		p->stats.redirects++;
		pthread_mutex_unlock(&p->lock);
		return -EAGAIN;
	}
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

/*
 * Redis cannot be written to now (a connection dropped, the cluster's map
 * unreadable, a master unreachable): connect again from scratch, with
 * back-off.
 */
static void
mark_down(struct tt_publisher *p)
{
	p->up = false;
	p->need_refresh = p->cluster;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->next_connect_ms = now_ms() + p->backoff_ms;
	pthread_mutex_lock(&p->lock);
	p->stats.connected = false;
	p->stats.errors++;
	pthread_mutex_unlock(&p->lock);
}

/*
 * --- waiting on Redis ---
 *
 * The contexts are hiredis's non-blocking kind, so no hiredis call waits:
 * every wait on a socket is a poll() here. A wait gives up after wait_us
 * without progress (Redis slow or gone: the connection is dropped), and,
 * once a stop began, at the final flush's deadline, even for a reply to a
 * transaction sent long before it: blocking reads bounded only by a socket
 * timeout let a stop overrun [redis] final_flush_s by the whole reply time
 * of a big flush (25 s measured with final_flush_s = 2). A wait that began
 * before the stop is woken by stop_fd to take the deadline in.
 *
 * Publisher thread; before it starts and after it ends, the control thread.
 */

static const char NO_REPLY_IN_TIME[] = "no reply in time";
static const char INTERRUPTED[] = "interrupted by a stop while starting";
static const char STOP_TIME_UP[] = "no time left for the final flush ([redis] final_flush_s)";

/* A wait on any socket may see no progress for this long: @p commands' replies. */
static void
set_wait(struct tt_publisher *p, uint64_t commands)
{
	p->wait_us = (uint64_t)COMMAND_TIMEOUT_MS * 1000 + commands * p->per_cmd_us;
}

/* Is a stop under way? Then *@p deadline_ms is when the final flush ends. */
static bool
stopping_by(struct tt_publisher *p, uint64_t *deadline_ms)
{
	bool stopping;

	pthread_mutex_lock(&p->lock);
	stopping = p->stopping;
	*deadline_ms = p->stop_deadline_ms;
	pthread_mutex_unlock(&p->lock);
	return stopping;
}

/*
 * Mark @p rc broken as hiredis marks it on an I/O error: a reply given up
 * on would come later and answer the wrong command, so the connection is
 * done with.
 */
static void
give_up(redisContext *rc, const char *why)
{
	rc->err = REDIS_ERR_IO;
	snprintf(rc->errstr, sizeof(rc->errstr), "%s", why);
}

/* At start, before the thread runs: was a stop asked for (tt_publisher_interrupt())? */
static bool
start_interrupted(struct tt_publisher *p)
{
	return p->in_start && __atomic_load_n(&p->interrupted, __ATOMIC_ACQUIRE);
}

/*
 * Wait for @p events on @p fd (-1: only for time to pass) for @p us at most,
 * and not past a stop's deadline. @return 0 ready, NO_REPLY_IN_TIME,
 * STOP_TIME_UP, or INTERRUPTED (at start).
 */
static const char *
wait_fd(struct tt_publisher *p, int fd, short events, uint64_t us)
{
	uint64_t until = mono_ms() + (us + 999) / 1000, deadline, end, now;
	struct pollfd pfd[2];
	bool stopping;
	int n;

	for (;;) {
		stopping = stopping_by(p, &deadline);
		end = stopping ? RTE_MIN(until, deadline) : until;
		now = mono_ms();
		if (now >= end && stopping && deadline <= until) {
			/* What Redis answered already is read, not thrown away. */
			pfd[0] = (struct pollfd){ .fd = fd, .events = events };
			return fd >= 0 && poll(pfd, 1, 0) > 0 && pfd[0].revents != 0 ?
				NULL : STOP_TIME_UP;
		}
		if (now >= end)
			return NO_REPLY_IN_TIME;
		/* Once stopping, stop_fd stays readable: only the deadline matters. */
		pfd[0] = (struct pollfd){ .fd = stopping ? -1 : p->stop_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = fd, .events = events };
		n = poll(pfd, 2, (int)RTE_MIN(end - now, (uint64_t)INT_MAX));
		if (n > 0 && pfd[1].revents != 0)
			return NULL;
		if (n > 0 && pfd[0].revents != 0 && !stopping) {
			eventfd_t v;

			if (start_interrupted(p))
				return INTERRUPTED;
			/* an interrupt that came too late to matter: taken, not spun on */
			(void)eventfd_read(p->stop_fd, &v);
		}
	}
}

/* Wait for @p events on @p rc's socket; false: given up (rc->errstr says why). */
static bool
wait_ready(struct tt_publisher *p, redisContext *rc, short events)
{
	const char *why = wait_fd(p, rc->fd, events, p->wait_us);

	if (why != NULL)
		give_up(rc, why);
	return why == NULL;
}

/* Has the final flush's time run out? Then nothing new is sent. */
static bool
time_up(struct tt_publisher *p)
{
	uint64_t deadline;

	return stopping_by(p, &deadline) && mono_ms() >= deadline;
}

/*
 * Wake a wait on stop_fd (a stop, or an interrupt at start). write(), not
 * eventfd_write(): only the former is async-signal-safe.
 */
static int
wake_waits(struct tt_publisher *p)
{
	const uint64_t one = 1;

	return write(p->stop_fd, &one, sizeof(one)) == (ssize_t)sizeof(one) ? 0 : -errno;
}

/* Sleep @p ms, less when a stop's deadline comes first. */
static void
nap(struct tt_publisher *p, uint64_t ms)
{
	wait_fd(p, -1, 0, ms * 1000);
}

/* Write out what @p rc holds; false: broken (rc->errstr says why). */
static bool
send_all(struct tt_publisher *p, redisContext *rc)
{
	int done = 0;

	for (;;) {
		if (redisBufferWrite(rc, &done) != REDIS_OK)
			return false;
		if (done)
			return true;
		if (!wait_ready(p, rc, POLLOUT))
			return false;
	}
}

/* The next reply on @p rc, once what it holds is sent; NULL: broken (rc->errstr). */
static redisReply *
reply_of(struct tt_publisher *p, redisContext *rc)
{
	void *r = NULL;

	if (!send_all(p, rc))
		return NULL;
	for (;;) {
		if (redisGetReplyFromReader(rc, &r) != REDIS_OK)
			return NULL;
		if (r != NULL)
			return r;
		if (!wait_ready(p, rc, POLLIN) || redisBufferRead(rc) != REDIS_OK)
			return NULL;
	}
}

/* A command on @p rc, formatted as redisCommand's; NULL: broken (rc->errstr). */
static redisReply *
ask(struct tt_publisher *p, redisContext *rc, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = redisvAppendCommand(rc, fmt, ap);
	va_end(ap);
	if (ret != REDIS_OK) {
		if (rc->err == 0)
			give_up(rc, "cannot format a command");
		return NULL;
	}
	return reply_of(p, rc);
}

/*
 * Open a socket to a node (@p host "" means [redis] unix); NULL out of
 * memory, else a context whose err says whether it connected.
 */
static redisContext *
connect_to(struct tt_publisher *p, const char *host, uint16_t port)
{
	redisContext *rc = host[0] == '\0' ? redisConnectUnixNonBlock(p->cfg->redis_unix) :
		redisConnectNonBlock(host, port);
	const char *why;
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (rc == NULL || rc->err)
		return rc;
	why = wait_fd(p, rc->fd, POLLOUT, (uint64_t)CONNECT_TIMEOUT_MS * 1000);
	if (why != NULL)
		give_up(rc, why == NO_REPLY_IN_TIME ? "no connection in time" : why);
	else if (getsockopt(rc->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0)
		give_up(rc, strerror(soerr != 0 ? soerr : errno));
	return rc;
}

/*
 * The address a Redis server shows for the client of socket @p fd, as its
 * CLIENT LIST and CLIENT KILL ADDR write it; "" for a unix socket (all of
 * its clients share one) or when the socket cannot say.
 */
static void
client_addr(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		if (inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip)) != NULL)
			snprintf(out, len, "%s:%u", ip, ntohs(a->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		if (inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip)) != NULL)
			snprintf(out, len, "[%s]:%u", ip, ntohs(a->sin6_port));
	}
}

/*
 * The current connection broke: drop it. In a cluster the others stay open
 * (nothing of theirs is pending), but the map is read again before anything
 * more is sent, as a master that stopped answering may have been replaced.
 */
static void
drop_connection(struct tt_publisher *p, const char *why)
{
	struct conn *c = &p->conns[p->cur];
	char where[300];
	bool stop_cut;

	if (c->rc == NULL)
		return;
	/* A reply timed out: Redis may only be slow; give it more. */
	if (c->rc->err == REDIS_ERR_IO && strcmp(c->rc->errstr, NO_REPLY_IN_TIME) == 0 &&
			p->per_cmd_us < COMMAND_TIMEOUT_PER_CMD_MAX_US) {
		p->per_cmd_us = RTE_MIN(2 * p->per_cmd_us, (uint64_t)COMMAND_TIMEOUT_PER_CMD_MAX_US);
		PUB_LOG(NOTICE, "a reply timed out: each command of a transaction may take "
			"%" PRIu64 " us from now on", p->per_cmd_us);
	}
	/* Cut off by the stop: nothing more is tried. */
	stop_cut = strcmp(why, STOP_TIME_UP) == 0;
	PUB_LOG(WARNING, "redis %s: %s%s", redis_where(p, where, sizeof(where)), why,
		stop_cut ? "" : "; reconnecting");
	c->old_client_id = c->client_id;
	client_addr(c->rc->fd, c->old_addr, sizeof(c->old_addr));
	/* What the broken connection committed, and what Redis still has. */
	p->need_readback = true;
	redisFree(c->rc);
	c->rc = NULL;
	mark_down(p);
}

/* The next pipelined reply; NULL means the connection broke (and was dropped). */
static redisReply *
next_reply(struct tt_publisher *p)
{
	redisContext *rc = rc_of(p);
	redisReply *r;

	if (rc == NULL)
		return NULL;
	r = reply_of(p, rc);
	if (r == NULL)
		drop_connection(p, rc->errstr[0] ? rc->errstr : "no reply");
	return r;
}

/* A command on the connection; NULL reply means the connection broke. */
static redisReply *
command(struct tt_publisher *p, int argc, const char **argv)
{
	redisContext *rc = rc_of(p);

	if (rc == NULL)
		return NULL;
	if (redisAppendCommandArgv(rc, argc, argv, NULL) != REDIS_OK) {
		drop_connection(p, rc->errstr[0] ? rc->errstr : "out of memory");
		return NULL;
	}
	return next_reply(p);
}

/* --- routing: which connection a key's commands go to --- */

/*
 * Commands go to the connection that serves @p slot (in a cluster; the one
 * connection otherwise). @return 0, or -EIO when it is not open.
 */
static int
use_slot(struct tt_publisher *p, uint16_t slot)
{
	int32_t n = !p->cluster ? 0 : p->map != NULL ? tt_slots_map_owner(p->map, slot) : -1;

	if (n < 0 || (uint32_t)n >= p->n_conns || p->conns[n].rc == NULL)
		return -EIO;
	p->cur = (uint32_t)n;
	return 0;
}

static int
use_key(struct tt_publisher *p, const char *key)
{
	return use_slot(p, tt_slots_of_key(key, strlen(key)));
}

/* A tag's slot is its flushed record's: every key of its transaction shares it. */
static int
use_tag(struct tt_publisher *p, uint32_t tag)
{
	char key[300];

	tt_plan_flushed_key(&p->plan, tag, key, sizeof(key));
	return use_key(p, key);
}

/* Room for @p n replies' connections in p->via. @return 0 or -ENOMEM. */
static int
via_reserve(struct tt_publisher *p, uint32_t n)
{
	uint32_t *v;

	if (n <= p->via_cap)
		return 0;
	v = realloc(p->via, n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	p->via = v;
	p->via_cap = n;
	return 0;
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
	if (use_key(p, key) != 0)
		return -EIO;
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

			nap(p, (uint64_t)wait);
			if (start_interrupted(p)) {
				freeReplyObject(r);
				return -EINTR;
			}
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
				nap(p, (uint64_t)after + 50);
			}
			if (start_interrupted(p)) {
				freeReplyObject(r);
				return -EINTR;
			}
		}
		freeReplyObject(r);
	}
}

/*
 * Open and log in to one node (@p host "" means [redis] unix). Failures are
 * logged once until a connection succeeds again.
 * @return 0 with *@p out, -EACCES credentials rejected, -ECONNREFUSED or -EIO
 *   when the node cannot be reached or does not answer.
 */
static int
open_node(struct tt_publisher *p, const char *host, uint16_t port, redisContext **out)
{
	const struct tt_config *cfg = p->cfg;
	char where[300];
	redisContext *rc;
	redisReply *r = NULL;
	int ret = 0;

	node_where(p, host, port, where, sizeof(where));
	rc = connect_to(p, host, port);
	if (rc == NULL || rc->err) {
		if (!p->down_logged)
			PUB_LOG(WARNING, "redis %s: %s; backing up in memory and retrying", where,
				rc ? rc->errstr : "out of memory");
		p->down_logged = true;
		redisFree(rc);
		return -ECONNREFUSED;
	}
	set_wait(p, 0);
	if (p->password != NULL || cfg->redis_user != NULL) {
		r = cfg->redis_user ?
			ask(p, rc, "AUTH %s %s", cfg->redis_user, p->password ? p->password : "") :
			ask(p, rc, "AUTH %s", p->password);
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
	*out = rc;
	return 0;

err_free:
	freeReplyObject(r);
	redisFree(rc);
	return ret;
}

/*
 * Connect p->conns[@p i]: log in, learn the client id, and end the client
 * of a connection to it that broke, so that its transaction is committed or
 * discarded, not pending, before the read-back.
 * @return 0, -EACCES credentials rejected, another negative errno when the
 *   node cannot be reached.
 */
static int
connect_node(struct tt_publisher *p, uint32_t i)
{
	struct conn *c = &p->conns[i];
	char where[300];
	redisContext *rc;
	redisReply *r;
	int ret;

	ret = open_node(p, c->host, c->port, &rc);
	if (ret != 0)
		return ret;
	node_where(p, c->host, c->port, where, sizeof(where));
	r = ask(p, rc, "CLIENT ID");
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		bool denied = r && r->type == REDIS_REPLY_ERROR &&
			(strncmp(r->str, "NOAUTH", 6) == 0 || strncmp(r->str, "NOPERM", 6) == 0);

		if (denied)
			PUB_LOG(ERR, "redis %s: CLIENT ID: %s", where, r->str);
		else if (!p->down_logged)
			PUB_LOG(WARNING, "redis %s: CLIENT ID: %s; retrying", where,
				r ? r->str : rc->errstr);
		p->down_logged = !denied;
		freeReplyObject(r);
		redisFree(rc);
		return denied ? -EACCES : -EIO;
	}
	c->client_id = r->integer;
	freeReplyObject(r);
	c->rc = rc;
	/*
	 * The broken connection's transaction: committed or discarded, not
	 * pending. A server's client ids only grow, so an id no larger than
	 * the old one means Redis restarted, and the old client died with
	 * it; its id may now be another client's. The address narrows the
	 * kill to the old connection where there is one (TCP).
	 */
	if (c->old_client_id != 0 && c->client_id > c->old_client_id) {
		r = c->old_addr[0] != '\0' ?
			ask(p, rc, "CLIENT KILL ID %lld ADDR %s", c->old_client_id,
				c->old_addr) :
			ask(p, rc, "CLIENT KILL ID %lld", c->old_client_id);
		freeReplyObject(r);
	}
	c->old_client_id = 0;
	if (p->down_logged || p->stats.reconnects != 0)
		PUB_LOG(NOTICE, "redis %s: connected", where);
	p->down_logged = false;
	return 0;
}

/* --- the slot map of a cluster --- */

/* A field of a RESP2 map (a flat array of names and values), or NULL. */
static const redisReply *
map_field(const redisReply *m, const char *name)
{
	size_t k;

	if (m->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (k = 0; k + 1 < m->elements; k += 2)
		if (m->element[k]->type == REDIS_REPLY_STRING &&
				strcmp(m->element[k]->str, name) == 0)
			return m->element[k + 1];
	return NULL;
}

static bool
field_is(const redisReply *m, const char *name, const char *value)
{
	const redisReply *v = map_field(m, name);

	return v != NULL && v->type == REDIS_REPLY_STRING && strcmp(v->str, value) == 0;
}

/*
 * A node's address as the cluster announces it: its endpoint (the address
 * cluster-preferred-endpoint-type names), else its ip; "" means the node
 * answering, "?" an unknown one (NULL).
 */
static const char *
announced_host(const char *h, const char *asked)
{
	if (h == NULL || strcmp(h, "?") == 0)
		return NULL;
	return h[0] == '\0' ? asked : h;
}

/*
 * CLUSTER SHARDS (Redis >= 7.0): per shard its slot ranges (pairs of
 * integers) and nodes; the master taken is the one whose role is master and
 * health online. A shard without one (a failover under way) leaves its
 * slots unserved. @return 0, -EINVAL for a reply of another shape.
 */
static int
map_from_shards(struct tt_slots_map *m, const redisReply *r, const char *asked)
{
	size_t i, k;

	if (r->type != REDIS_REPLY_ARRAY)
		return -EINVAL;
	for (i = 0; i < r->elements; i++) {
		const redisReply *slots = map_field(r->element[i], "slots");
		const redisReply *nodes = map_field(r->element[i], "nodes");
		const redisReply *master = NULL, *port, *ep, *ip;
		const char *host;

		if (slots == NULL || nodes == NULL || slots->type != REDIS_REPLY_ARRAY ||
				nodes->type != REDIS_REPLY_ARRAY)
			return -EINVAL;
		for (k = 0; k < nodes->elements && master == NULL; k++)
			if (field_is(nodes->element[k], "role", "master") &&
					field_is(nodes->element[k], "health", "online"))
				master = nodes->element[k];
		if (master == NULL)
			continue;
		port = map_field(master, "port");
		ep = map_field(master, "endpoint");
		ip = map_field(master, "ip");
		host = announced_host(ep && ep->type == REDIS_REPLY_STRING ? ep->str : NULL, asked);
		if (host == NULL)
			host = announced_host(ip && ip->type == REDIS_REPLY_STRING ? ip->str : NULL,
				asked);
		if (host == NULL || port == NULL || port->type != REDIS_REPLY_INTEGER)
			continue;
		for (k = 0; k + 1 < slots->elements; k += 2) {
			if (slots->element[k]->type != REDIS_REPLY_INTEGER ||
					slots->element[k + 1]->type != REDIS_REPLY_INTEGER ||
					tt_slots_map_add(m, (uint32_t)slots->element[k]->integer,
						(uint32_t)slots->element[k + 1]->integer, host,
						(uint16_t)port->integer) != 0)
				return -EINVAL;
		}
	}
	return 0;
}

/*
 * CLUSTER SLOTS (deprecated since 7.0, kept for older clusters): per range
 * its first and last slot, then the master as [host, port, id, ...].
 */
static int
map_from_slots(struct tt_slots_map *m, const redisReply *r, const char *asked)
{
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY)
		return -EINVAL;
	for (i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i], *n;
		const char *host;

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
				e->element[0]->type != REDIS_REPLY_INTEGER ||
				e->element[1]->type != REDIS_REPLY_INTEGER)
			return -EINVAL;
		n = e->element[2];
		if (n->type != REDIS_REPLY_ARRAY || n->elements < 2 ||
				n->element[0]->type != REDIS_REPLY_STRING ||
				n->element[1]->type != REDIS_REPLY_INTEGER)
			return -EINVAL;
		host = announced_host(n->element[0]->str, asked);
		if (host == NULL)
			continue;
		if (tt_slots_map_add(m, (uint32_t)e->element[0]->integer,
				(uint32_t)e->element[1]->integer, host,
				(uint16_t)n->element[1]->integer) != 0)
			return -EINVAL;
	}
	return 0;
}

/*
 * Ask one node (its context @p rc, at @p host) for the slot map.
 * @return the map when it serves every slot; NULL otherwise, with *@p err
 *   -EAGAIN (ask another node, or later), -EIO (the connection broke),
 *   -EPERM (refused for good: the publisher failed), -ENOMEM.
 */
static struct tt_slots_map *
ask_map(struct tt_publisher *p, redisContext *rc, const char *host, uint16_t port, int *err)
{
	char where[300], shards_err[WHY_MAX] = "";
	struct tt_slots_map *m = NULL;
	redisReply *r;
	int rc_parse;

	node_where(p, host, port, where, sizeof(where));
	r = ask(p, rc, "CLUSTER SHARDS");
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		/* Redis < 7.0 has no SHARDS: the older SLOTS gives the same map. */
		snprintf(shards_err, sizeof(shards_err), "%s", r->str);
		freeReplyObject(r);
		r = ask(p, rc, "CLUSTER SLOTS");
	}
	*err = r == NULL ? -EIO : -EAGAIN;
	if (r == NULL)
		return NULL;
	if (r->type == REDIS_REPLY_ERROR) {
		if (strstr(r->str, "cluster support disabled") != NULL) {
			fail(p, "redis %s is not a cluster node (%s): [redis] cluster names the "
				"nodes of a Redis Cluster; for one Redis, set host and port instead",
				where, r->str);
			*err = -EPERM;
		} else if (strncmp(shards_err, "NOPERM", 6) == 0 ||
				strncmp(r->str, "NOPERM", 6) == 0) {
			*err = refused(p, "the slot map", strncmp(shards_err, "NOPERM", 6) == 0 ?
				"CLUSTER SHARDS" : "CLUSTER SLOTS",
				strncmp(shards_err, "NOPERM", 6) == 0 ? shards_err : r->str);
		} else {
			PUB_LOG(WARNING, "redis %s: CLUSTER SHARDS: %s; CLUSTER SLOTS: %s", where,
				shards_err, r->str);
		}
		freeReplyObject(r);
		return NULL;
	}
	m = tt_slots_map_create();
	if (m == NULL) {
		*err = -ENOMEM;
		freeReplyObject(r);
		return NULL;
	}
	rc_parse = shards_err[0] == '\0' ? map_from_shards(m, r, host) :
		map_from_slots(m, r, host);
	freeReplyObject(r);
	if (rc_parse != 0 || !tt_slots_map_complete(m)) {
		/* A failover or a node joining: the nodes will agree again soon. */
		if (!p->down_logged)
			PUB_LOG(WARNING, "redis %s: the slot map %s; retrying", where,
				rc_parse != 0 ? "cannot be read (two masters for a slot, or a "
				"reply of another shape)" : "leaves slots without a master");
		p->down_logged = true;
		tt_slots_map_free(m);
		return NULL;
	}
	return m;
}

/* Log the masters when they change: "3 masters: 127.0.0.1:7000, ...". */
static void
log_masters(struct tt_publisher *p)
{
	char list[256] = "", where[300];
	size_t used = 0;
	uint32_t i;

	for (i = 0; i < p->n_conns && used < sizeof(list); i++) {
		node_where(p, p->conns[i].host, p->conns[i].port, where, sizeof(where));
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
			where);
	}
	if (strcmp(list, p->masters_logged) == 0)
		return;
	snprintf(p->masters_logged, sizeof(p->masters_logged), "%s", list);
	PUB_LOG(NOTICE, "redis cluster: %u masters: %s", p->n_conns, list);
}

/*
 * Make p->conns the masters of @p m, in its node order: connections to
 * masters that stay are kept (with a broken one's client id to kill), the
 * others closed. Takes @p m. @return 0 or -ENOMEM (m freed).
 */
static int
adopt_map(struct tt_publisher *p, struct tt_slots_map *m)
{
	uint32_t n = tt_slots_map_nodes(m), i, j;
	struct conn *c = calloc(n, sizeof(*c));

	if (c == NULL) {
		tt_slots_map_free(m);
		return -ENOMEM;
	}
	for (j = 0; j < n; j++) {
		snprintf(c[j].host, sizeof(c[j].host), "%s", tt_slots_map_host(m, j));
		c[j].port = tt_slots_map_port(m, j);
		for (i = 0; i < p->n_conns; i++) {
			struct conn *o = &p->conns[i];

			if (o->port != c[j].port || strcmp(o->host, c[j].host) != 0)
				continue;
			c[j].rc = o->rc;
			c[j].client_id = o->client_id;
			c[j].old_client_id = o->old_client_id;
			memcpy(c[j].old_addr, o->old_addr, sizeof(c[j].old_addr));
			o->rc = NULL;
			break;
		}
	}
	/*
	 * A master no longer: its connection closes. A broken one's pending
	 * transaction, if it is alive at all, now meets a replica or a node
	 * without the slot, which refuses it (MOVED, READONLY).
	 */
	for (i = 0; i < p->n_conns; i++)
		if (p->conns[i].rc != NULL)
			redisFree(p->conns[i].rc);
	free(p->conns);
	p->conns = c;
	p->n_conns = n;
	p->cur = 0;
	tt_slots_map_free(p->map);
	p->map = m;
	pthread_mutex_lock(&p->lock);
	p->stats.masters = n;
	pthread_mutex_unlock(&p->lock);
	log_masters(p);
	return 0;
}

/*
 * Cluster: read the slot map (from an open connection, else a seed node of
 * [redis] cluster, else a master known before, since the seeds may be gone)
 * and connect every master. @return 0, -EACCES, -EPERM (failed), or another
 * negative errno to retry later.
 */
static int
refresh_cluster(struct tt_publisher *p)
{
	const char *seeds = p->cfg->redis_cluster;
	struct tt_slots_map *m = NULL;
	char host[TT_SLOTS_HOST_MAX];
	uint16_t port;
	uint32_t i;
	int rc = -EAGAIN, next;

	/* one small command a node, whatever a transaction before left set */
	set_wait(p, 0);
	for (i = 0; i < p->n_conns && m == NULL; i++) {
		struct conn *c = &p->conns[i];

		if (c->rc == NULL)
			continue;
		m = ask_map(p, c->rc, c->host, c->port, &rc);
		if (rc == -EIO) {
			p->cur = i;
			drop_connection(p, c->rc->errstr[0] ? c->rc->errstr : "no reply");
		}
		if (failed(p))
			return -EPERM;
	}
	/* then each seed of [redis] cluster, then each master known before */
	for (i = 0; m == NULL; ) {
		redisContext *ctx;
		int orc;

		next = seeds != NULL ? tt_config_endpoint_next(&seeds, host, sizeof(host), &port) : 0;
		if (next < 0)
			continue;
		if (next == 0) {
			seeds = NULL;
			while (i < p->n_conns && p->conns[i].rc != NULL)
				i++;
			if (i >= p->n_conns)
				break;
			snprintf(host, sizeof(host), "%s", p->conns[i].host);
			port = p->conns[i++].port;
		}
		orc = open_node(p, host, port, &ctx);
		if (orc == -EACCES)
			return orc;
		if (orc != 0)
			continue;
		m = ask_map(p, ctx, host, port, &rc);
		redisFree(ctx);
		if (failed(p))
			return -EPERM;
	}
	if (m == NULL)
		return rc == -ENOMEM ? rc : -EAGAIN;
	rc = adopt_map(p, m);
	if (rc != 0)
		return rc;
	p->need_refresh = false;
	for (i = 0; i < p->n_conns; i++)
		if (p->conns[i].rc == NULL && (rc = connect_node(p, i)) != 0)
			return rc;
	return 0;
}


/*
 * Connect: the one Redis, or every master of the cluster; then claim the
 * appliance id. @return 0 connected, -EACCES credentials rejected, another
 * negative errno when Redis cannot be reached (retried with back-off).
 */
static int
connect_redis(struct tt_publisher *p)
{
	int rc;

	rc = p->cluster ? refresh_cluster(p) : connect_node(p, 0);
	if (rc != 0)
		return rc;
	p->up = true;
	pthread_mutex_lock(&p->lock);
	p->stats.connected = true;
	p->stats.reconnects++;
	pthread_mutex_unlock(&p->lock);
	p->next_sensor_meta_ms = 0;
	rc = claim_instance(p);
	return rc == -EIO || rc == -EINTR ? rc : 0;
}

/* --- the plan's sink: one pipelined transaction per tag --- */

static int read_tag(struct tt_publisher *p, uint32_t tag, uint32_t first, uint32_t commands,
		bool asking);

/*
 * Cluster: read the replies of every tag written this round, in the order
 * they were written (each connection answers in order), all of them even
 * after an error, so no connection is left with replies unread. A tag whose
 * connection broke is left to the read-back. @return the first error, or 0.
 */
static int
collect_sent(struct tt_publisher *p)
{
	uint32_t i;
	int ret = 0, rc;

	for (i = 0; i < p->n_sent; i++) {
		const struct sent *t = &p->sent[i];

		p->cur = t->conn;
		rc = rc_of(p) == NULL ? -EIO : read_tag(p, t->tag, t->first, t->commands, t->asking);
		if (ret == 0)
			ret = rc;
	}
	p->n_sent = 0;
	return ret;
}

/*
 * A tag's transaction goes to the master of its slot, or, after ASK, once
 * to the node importing the slot, behind ASKING (which holds for the whole
 * MULTI ... EXEC on that connection). In a cluster the alerts go last, once
 * every other tag of the flush has committed: their buckets' counts first.
 */
static int
sink_begin(void *ctx, uint32_t tag)
{
	struct tt_publisher *p = ctx;
	uint32_t t;
	int32_t n;
	int rc;

	if (p->cluster && tag == TT_PLAN_TAG_ALERTS(&p->plan)) {
		rc = collect_sent(p);
		if (rc != 0)
			return rc;
		for (t = 0; t < p->n_tags; t++)
			if (t != tag && p->has[t] && !p->done[t])
				return -EAGAIN;
	}
	if (!p->cluster)
		p->n_names = 0;
	p->cur_first = p->n_names;
	p->cur_commands = 0;
	p->unsent_bytes = 0;
	p->asking = false;
	if (!(p->ask_pending && p->ask_tag == tag))
		return use_tag(p, tag);
	p->ask_pending = false;
	n = tt_slots_map_find(p->map, p->ask_host, p->ask_port);
	if (n < 0) {
		/* an importing node that serves no slot yet: read the map, try again */
		p->need_refresh = true;
		p->redirected = true;
		return -EAGAIN;
	}
	if (p->conns[n].rc == NULL)
		return -EIO;
	p->cur = (uint32_t)n;
	if (redisAppendCommand(rc_of(p), "ASKING") != REDIS_OK)
		return -ENOMEM;
	p->asking = true;
	return 0;
}

/* Write out the tag's transaction so far. @return 0, or -EIO: the connection broke (dropped). */
static int
send_tag(struct tt_publisher *p, redisContext *rc)
{
	set_wait(p, p->cur_commands);
	if (send_all(p, rc))
		return 0;
	drop_connection(p, rc->errstr[0] ? rc->errstr : "cannot write");
	return -EIO;
}

static int
sink_command(void *ctx, int argc, const char **argv, const size_t *lens)
{
	struct tt_publisher *p = ctx;
	redisContext *rc = rc_of(p);
	int i;

	if (p->n_names == p->cur_names_cap) {
		uint32_t cap = p->cur_names_cap ? 2 * p->cur_names_cap : 1024;
		const char **n = realloc(p->cur_names, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		p->cur_names = n;
		p->cur_names_cap = cap;
	}
	if (redisAppendCommandArgv(rc, argc, argv, lens) != REDIS_OK)
		return -ENOMEM;
	/* The plan's command names are string literals: they outlive the flush. */
	p->cur_names[p->n_names++] = argv[0];
	p->cur_commands++;
	p->flush_commands++;
	/* RESP: *argc, then $len and the argument for each, each line with CRLF */
	p->unsent_bytes += 16;
	for (i = 0; i < argc; i++)
		p->unsent_bytes += 16 + lens[i];
	if (p->unsent_bytes < UNSENT_MAX)
		return 0;
	p->unsent_bytes = 0;
	return send_tag(p, rc);
}

/*
 * Cluster: the tag's transaction goes out now, so that its master works on
 * it while the next tag is built for another; its replies are read by
 * collect_sent(). Redis reads a client's commands while it holds the
 * replies, so writing all before reading any cannot block both sides.
 */
static int
queue_tag(struct tt_publisher *p, uint32_t tag)
{
	redisContext *rc = rc_of(p);

	p->sent[p->n_sent++] = (struct sent){ .tag = tag, .conn = p->cur,
		.first = p->cur_first, .commands = p->cur_commands, .asking = p->asking };
	return send_tag(p, rc);
}

/*
 * Read a tag's transaction replies: +OK, +QUEUED..., then EXEC's. An array
 * is a commit; anything else is a refusal whose cause is the first command
 * Redis refused to queue (NOPERM, OOM, LOADING, MOVED...), else EXEC's own
 * error. @p first is the index of its first command's name in cur_names.
 */
static int
read_tag(struct tt_publisher *p, uint32_t tag, uint32_t first, uint32_t commands, bool asking)
{
	const char *const *names = p->cur_names + first;
	char where[64], err[WHY_MAX] = "";
	const char *cmd = NULL;
	bool committed = false, lost = false;
	redisReply *r = NULL;
	uint32_t i;
	size_t e;

	set_wait(p, commands);
	if (asking) {
		r = next_reply(p);
		if (r == NULL)
			return -EIO;
		if (r->type == REDIS_REPLY_ERROR) {
			cmd = "ASKING";
			snprintf(err, sizeof(err), "%s", r->str);
		}
		freeReplyObject(r);
	}
	for (i = 0; i < commands; i++) {
		r = next_reply(p);
		if (r == NULL)
			return -EIO;
		if (i + 1 < commands) {
			if (r->type == REDIS_REPLY_ERROR && cmd == NULL) {
				cmd = names[i];
				snprintf(err, sizeof(err), "%s", r->str);
			}
		} else if (r->type == REDIS_REPLY_ARRAY) {
			committed = true;
			/* EXEC's elements answer the commands between MULTI and EXEC. */
			for (e = 0; e < r->elements && cmd == NULL; e++)
				if (r->element[e]->type == REDIS_REPLY_ERROR) {
					cmd = names[e + 1];
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
	set_wait(p, 0);
	snprintf(where, sizeof(where), "{%s}", tag_label(p, tag));
	if (!committed) {
		/* ASK: the slot is moving; this tag's next try goes to its importer. */
		if (p->cluster && strncmp(err, "ASK ", 4) == 0 &&
				redirect_target(err, p->ask_host, sizeof(p->ask_host), &p->ask_port)) {
			p->ask_pending = true;
			p->ask_tag = tag;
		}
		return refused(p, where, cmd, err);
	}
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

/* A tag's transaction is complete: one Redis reads its replies now. */
static int
sink_end(void *ctx, uint32_t tag)
{
	struct tt_publisher *p = ctx;

	if (p->cluster)
		return queue_tag(p, tag);
	return read_tag(p, tag, p->cur_first, p->cur_commands, p->asking);
}

/* Does the in-flight batch still owe this tag a commit? */
static bool
owed(const struct tt_publisher *p, uint32_t tag)
{
	return p->inflight && p->has[tag] && !p->done[tag];
}

/*
 * After a broken connection, pipelined HGETs of every tag's flushed record,
 * each on the connection of its tag's master: a tag the in-flight batch
 * owes is committed if it holds the batch's seq; a tag this run committed
 * to must hold at least that commit, or Redis has lost data. A reply that
 * does not come (another connection broke) leaves the read-back to do again.
 */
static int
read_back(struct tt_publisher *p)
{
	char key[300];
	uint32_t tag, n = 0, i = 0;
	int ret = 0;

	if (via_reserve(p, p->n_tags) != 0)
		return -ENOMEM;
	for (tag = 0; tag < p->n_tags; tag++) {
		if (!owed(p, tag) && p->committed[tag] == 0)
			continue;
		tt_plan_flushed_key(&p->plan, tag, key, sizeof(key));
		if (use_key(p, key) != 0)
			return -EIO;
		if (redisAppendCommand(rc_of(p), "HGET %s %s", key, p->cfg->id) != REDIS_OK)
			return -ENOMEM;
		p->via[n++] = p->cur;
	}
	set_wait(p, n);
	for (tag = 0; tag < p->n_tags; tag++) {
		redisReply *r;
		uint64_t v;

		if (!owed(p, tag) && p->committed[tag] == 0)
			continue;
		p->cur = p->via[i++];
		r = next_reply(p);
		if (r == NULL) {
			ret = -EIO;
			continue;
		}
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
	set_wait(p, 0);
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

/*
 * Send what the in-flight batch still owes. In a cluster, a tag sent to a
 * node that no longer serves its slot committed nothing (MOVED or ASK for
 * every command, then EXECABORT): it is sent again at once, to the master
 * of the refreshed map or to the importing node, a few times at most.
 */
static int
flush_inflight(struct tt_publisher *p)
{
	const struct tt_plan_sink sink = {
		.begin_tag = sink_begin, .command = sink_command, .end_tag = sink_end, .ctx = p,
	};
	uint32_t tag, round;
	int rc, crc;

	if (p->cluster && p->sent_cap < p->n_tags) {
		struct sent *a = realloc(p->sent, p->n_tags * sizeof(*a));

		if (a == NULL)
			return -ENOMEM;
		p->sent = a;
		p->sent_cap = p->n_tags;
	}
	for (round = 0; ; round++) {
		p->redirected = false;
		p->n_names = 0;
		p->n_sent = 0;
		rc = tt_plan_flush(&p->plan, p->inflight_batch.min, p->inflight_batch.hour,
			p->inflight_batch.src,
			&(struct tt_plan_alerts){ p->inflight_alerts.e, p->inflight_alerts.n },
			p->inflight_seq, p->done, &sink);
		if (p->cluster) {
			crc = collect_sent(p);
			if (rc == 0)
				rc = crc;
		}
		if (rc == 0 || !p->redirected || round == REDIRECTS_MAX)
			break;
		if (p->need_refresh && (rc = refresh_cluster(p)) != 0) {
			mark_down(p);
			return rc;
		}
	}
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
 * A command of a pipeline over connections, to the master of @p key's slot;
 * p->via[*n] says which (NO_CONN: not sent, that master is not connected).
 */
static void
append_via(struct tt_publisher *p, const char *key, int argc, const char **argv, uint32_t *n)
{
	bool sent = use_key(p, key) == 0 &&
		redisAppendCommandArgv(rc_of(p), argc, argv, NULL) == REDIS_OK;

	p->via[(*n)++] = sent ? p->cur : NO_CONN;
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
		append_via(p, key, 10, hset, n);
		append_via(p, key, 3, expire, n);
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

	/* the health hash, its PEXPIRE, the instance key; two a sensor's metadata */
	if (via_reserve(p, 3 + 2 * p->sensors_cfg->n_sensors) != 0)
		return;
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
	FIELD("source_deltas_dropped", "%" PRIu64, h.source_deltas_dropped);
	FIELD("hll_record_off_pkts", "%" PRIu64, h.hll_record_off_pkts);
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
	append_via(p, key, n, argv, &n_cmds);
	snprintf(ttl, sizeof(ttl), "%u", HEALTH_INTERVALS * cfg->flush_interval_ms);
	snprintf(ittl, sizeof(ittl), "%" PRIu64, instance_ttl_ms(p));
	{
		const char *px[3] = { "PEXPIRE", key, ttl };
		const char *set[6] = { "SET", ikey, p->token, "PX", ittl, "GET" };

		instance_key(p, ikey, sizeof(ikey));
		append_via(p, key, 3, px, &n_cmds);
		append_via(p, ikey, 6, set, &n_cmds);
	}
	if (meta) {
		append_sensor_meta(p, &n_cmds);
		p->next_sensor_meta_ms = now + SENSOR_META_INTERVAL_MS;
	}
	set_wait(p, n_cmds);
	for (i = 0; i < n_cmds; i++) {
		redisReply *r;

		/* a command not sent, or whose connection broke meanwhile: next time */
		if (p->via[i] == NO_CONN)
			continue;
		p->cur = p->via[i];
		r = next_reply(p);
		if (r == NULL)
			continue;
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
	set_wait(p, 0);
	if (other != NULL) {
		/* The newer run keeps the id: its token goes back, this run stops. */
		const char *back[4] = { "SET", ikey, other->str, "KEEPTTL" };
		redisReply *r = use_key(p, ikey) == 0 ? command(p, 4, back) : NULL;

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

	if (!p->up && p->next_connect_ms > now)
		ms = RTE_MIN(ms, p->next_connect_ms - now);
	if (p->up && p->retry_ms > now)
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
		if (time_up(p))
			break;
		if (!p->up && now >= p->next_connect_ms) {
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
		/* A cluster that redirected: its map first, then what is owed. */
		if (p->up && p->need_refresh && refresh_cluster(p) != 0)
			mark_down(p);
		if (p->up && p->need_readback && now >= p->retry_ms)
			read_back(p);
		/* Drain: each round commits the in-flight batch, then takes the next. */
		while (p->up && !p->need_readback && !failed(p) && now_ms() >= p->retry_ms &&
				!time_up(p) && (p->inflight || take_pending(p))) {
			rc = flush_inflight(p);
			if (rc != 0)
				break;
		}
		if (p->up && !failed(p) && !time_up(p))
			write_health(p);

		if (stopping) {
			bool empty;

			pthread_mutex_lock(&p->lock);
			empty = !p->inflight && backlog_empty(&p->pending) &&
				p->pending_alerts.n == 0;
			pthread_mutex_unlock(&p->lock);
			if (empty || time_up(p))
				break;
			/* Redis away or refusing at the end: keep trying until the deadline. */
			if (!p->up || p->retry_ms > now_ms()) {
				struct timespec ts = { 0, 50 * 1000000 };

				nanosleep(&ts, NULL);
			}
		}
		now = now_ms();
	}
	return NULL;
}

static void release_instance(struct tt_publisher *p);

int
tt_publisher_start(struct tt_publisher *p)
{
	int rc;

	p->in_start = true;
	rc = connect_redis(p);
	p->in_start = false;
	/* Nothing was counted yet: a stop asked for now ends the run here. */
	if (__atomic_load_n(&p->interrupted, __ATOMIC_ACQUIRE)) {
		release_instance(p);           /* claimed just before the signal */
		return -EINTR;
	}
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

void
tt_publisher_interrupt(struct tt_publisher *p)
{
	__atomic_store_n(&p->interrupted, 1, __ATOMIC_RELEASE);
	(void)wake_waits(p);
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

	if (!p->up || !p->claimed || failed(p))
		return;
	instance_key(p, key, sizeof(key));
	if (use_key(p, key) != 0)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop_deadline_ms = RTE_MAX(p->stop_deadline_ms, mono_ms() + RELEASE_GRACE_MS);
	pthread_mutex_unlock(&p->lock);
	set_wait(p, 0);
	r = command(p, 2, get);
	if (r != NULL && r->type == REDIS_REPLY_STRING && strcmp(r->str, p->token) == 0) {
		freeReplyObject(r);
		r = command(p, 2, del);
	}
	freeReplyObject(r);
}

/* Does the batch in flight still hold @p tag's part, its transaction not committed? */
static bool
inflight_holds(const struct tt_publisher *p, uint32_t tag)
{
	return p->inflight && !p->done[tag];
}

/*
 * Log each sensor whose part of the batch in flight did not commit while
 * {all}'s did: its packets are in the appliance's totals in Redis but not
 * in its own, and undelivered_packets (the all scope) cannot say so.
 */
static void
log_sensors_undelivered(const struct tt_publisher *p)
{
	uint32_t t;

	if (inflight_holds(p, TT_PLAN_TAG_ALL(&p->plan)))
		return;
	for (t = 0; t < p->plan.n_sensors; t++)
		if (p->has[t] && inflight_holds(p, t))
			PUB_LOG(ERR, "final flush: sensor %s: the counts of %" PRIu64
				" packets were not delivered (the totals of all sensors were)",
				p->sensor_names[t] ? p->sensor_names[t] : "?",
				tt_counters_scope_pkts(p->inflight_batch.hour, (uint16_t)t));
}

int
tt_publisher_stop(struct tt_publisher *p, unsigned int timeout_ms)
{
	uint64_t pkts, keys;
	uint32_t alerts;
	bool undelivered, unsettled;
	int rc;

	if (!p->thread_started)
		return -EIO;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	p->stop_deadline_ms = mono_ms() + timeout_ms;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	/* A wait on Redis that began before the stop takes the deadline in. */
	rc = wake_waits(p);
	if (rc != 0)
		PUB_LOG(WARNING, "cannot wake the publisher: %s", strerror(-rc));
	pthread_join(p->thread, NULL);
	p->thread_started = false;
	/*
	 * The batch's connection broke after it was sent, and no read-back
	 * learnt since which of its transactions Redis committed: Redis may
	 * have, or (a frozen Redis that runs again) may still.
	 */
	unsettled = p->inflight && p->need_readback;
	release_instance(p);
	undelivered = p->inflight || !backlog_empty(&p->pending) || p->pending_alerts.n != 0;
	if (!undelivered)
		return failed(p) ? -EPERM : 0;
	/*
	 * Of the batch in flight, only what its uncommitted transactions
	 * hold: on one Redis each tag's EXEC is answered before the next tag
	 * is sent, so a tag marked done is in Redis.
	 */
	alerts = p->pending_alerts.n +
		(inflight_holds(p, TT_PLAN_TAG_ALERTS(&p->plan)) ? p->inflight_alerts.n : 0);
	if (alerts != 0)
		PUB_LOG(ERR, "final flush: %u alerts were not delivered", alerts);
	/* Hours hold every packet (minutes are the same ones, finer). */
	pkts = counts_packets(p->pending.hour) +
		(inflight_holds(p, TT_PLAN_TAG_ALL(&p->plan)) ?
			counts_packets(p->inflight_batch.hour) : 0);
	keys = sources_held(&p->pending) +
		(inflight_holds(p, TT_PLAN_TAG_SRC(&p->plan)) ?
			sources_held(&p->inflight_batch) : 0);
	log_sensors_undelivered(p);
	if (unsettled)
		PUB_LOG(WARNING, "final flush: the connection broke before Redis answered the "
			"batch in flight, and whether it committed could not be read back; Redis "
			"may have committed it or may still commit it, so part of what is not "
			"delivered below may be in Redis after all");
	pthread_mutex_lock(&p->lock);
	p->stats.undelivered_packets = pkts;
	p->stats.undelivered_source_keys = keys;
	p->stats.undelivered_alerts = alerts;
	p->stats.undelivered_upper_bound = unsettled;
	pthread_mutex_unlock(&p->lock);
	PUB_LOG(ERR, "final flush: %s: the counts of %" PRIu64 " packets and %" PRIu64
		" source keys were not delivered", failed(p) ? "publishing had stopped" :
		"Redis did not take everything in time ([redis] final_flush_s)", pkts, keys);
	return failed(p) ? -EPERM : -EIO;
}

void
tt_publisher_free(struct tt_publisher *p)
{
	uint32_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_conns; i++)
		if (p->conns[i].rc != NULL)
			redisFree(p->conns[i].rc);
	free(p->conns);
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	free(p->via);
	tt_slots_map_free(p->map);
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
	free(p->sent);
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
