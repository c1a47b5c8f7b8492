/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A reloaded config against the running one (tt_config.h, "Live reload"):
 * what only a restart applies, and the sensors put in the running order.
 * Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "tt_config.h"

uint32_t
tt_config_sensor_slots(const struct tt_config *cfg)
{
	uint32_t slots = cfg->n_sensors + TT_CONFIG_SENSOR_HEADROOM;

	return slots > TT_MAX_SENSORS ? TT_MAX_SENSORS : slots;
}

void
tt_config_drop_prefixes(struct tt_config *cfg)
{
	free(cfg->prefixes);
	cfg->prefixes = NULL;
	cfg->n_prefixes = 0;
}

static bool
same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * The first key that differs and that only a restart applies, or NULL.
 * These size or connect what runs for the whole process: the Redis
 * connection and its claim on the appliance id, the clock the workers
 * bucket by, the source memory's horizon and Mirai rule (the workers' own
 * tables), the ASN database the publisher opened, the alert detectors'
 * existence.
 */
static const char *
restart_only_change(const struct tt_config *n, const struct tt_config *c)
{
	if (!same_string(n->id, c->id))
		return "[appliance] id";
	if (n->clock != c->clock)
		return "[appliance] clock";
	if (!same_string(n->asn_db, c->asn_db))
		return "[appliance] asn_db";
	if (n->mirai_min_ports != c->mirai_min_ports)
		return "[appliance] mirai_min_ports";
	if (n->rx_mbufs != c->rx_mbufs)
		return "[appliance] rx_mbufs";
	if (n->redis_enabled != c->redis_enabled)
		return "[redis] enabled";
	if (!same_string(n->redis_host, c->redis_host))
		return "[redis] host";
	if (!same_string(n->redis_unix, c->redis_unix))
		return "[redis] unix";
	if (n->redis_port != c->redis_port)
		return "[redis] port";
	if (!same_string(n->redis_user, c->redis_user))
		return "[redis] user";
	if (!same_string(n->redis_password_file, c->redis_password_file))
		return "[redis] password_file";
	if (!same_string(n->redis_prefix, c->redis_prefix))
		return "[redis] prefix";
	if (n->flush_interval_ms != c->flush_interval_ms)
		return "[redis] flush_interval_ms";
	if (n->backlog_max_mb != c->backlog_max_mb)
		return "[redis] backlog_max_mb";
	if (n->final_flush_s != c->final_flush_s)
		return "[redis] final_flush_s";
	if (n->retention_sources != c->retention_sources)
		return "[retention] sources";
	if (n->alerts_enabled != c->alerts_enabled)
		return "[alerts] enabled";
	return NULL;
}

/* The shard sizes: computed from the sensors unless given, kept as started. */
static bool
keep_sizing(struct tt_config *n, const struct tt_config *c)
{
	bool differ = n->port_cells != c->port_cells || n->country_cells != c->country_cells ||
		n->hll_cells != c->hll_cells || n->hll_sparse_sets != c->hll_sparse_sets ||
		n->hll_dense_sets != c->hll_dense_sets || n->sources_max != c->sources_max ||
		n->source_cells != c->source_cells;

	n->port_cells = c->port_cells;
	n->country_cells = c->country_cells;
	n->hll_cells = c->hll_cells;
	n->hll_sparse_sets = c->hll_sparse_sets;
	n->hll_dense_sets = c->hll_dense_sets;
	n->sources_max = c->sources_max;
	n->source_cells = c->source_cells;
	return differ;
}

static int
find_sensor(const struct tt_config *cfg, const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg->n_sensors; i++)
		if (strcmp(cfg->sensors[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool
same_sensor(const struct tt_sensor_conf *a, const struct tt_sensor_conf *b)
{
	return a->port == b->port && a->location == b->location &&
		same_string(a->label, b->label) && a->retired == b->retired;
}

/* Prefix lists compare as sets of (sensor index, prefix), whatever their order in the files. */
static int
prefix_cmp(const void *x, const void *y)
{
	const struct tt_prefix *a = x, *b = y;
	int c;

	if (a->sensor != b->sensor)
		return a->sensor < b->sensor ? -1 : 1;
	if (a->family != b->family)
		return a->family - b->family;
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	return c != 0 ? c : a->len - b->len;
}

static int
prefixes_differ(const struct tt_config *n, const struct tt_config *c, bool *differ)
{
	struct tt_prefix *x, *y;
	uint32_t i;

	*differ = n->n_prefixes != c->n_prefixes;
	if (*differ)
		return 0;
	x = malloc(((size_t)n->n_prefixes + 1) * sizeof(*x));
	y = malloc(((size_t)c->n_prefixes + 1) * sizeof(*y));
	if (x == NULL || y == NULL) {
		free(x);
		free(y);
		return -ENOMEM;
	}
	memcpy(x, n->prefixes, n->n_prefixes * sizeof(*x));
	memcpy(y, c->prefixes, c->n_prefixes * sizeof(*y));
	qsort(x, n->n_prefixes, sizeof(*x), prefix_cmp);
	qsort(y, c->n_prefixes, sizeof(*y), prefix_cmp);
	for (i = 0; i < n->n_prefixes && !*differ; i++)
		*differ = prefix_cmp(&x[i], &y[i]) != 0;
	free(x);
	free(y);
	return 0;
}

int
tt_config_align(struct tt_config *next, const struct tt_config *cur, uint32_t slots,
		struct tt_config_changes *ch, char *why, size_t why_len)
{
	const char *key = restart_only_change(next, cur);
	struct tt_sensor_conf *sensors;
	uint16_t *index_of;            /* next's sensor i goes to index_of[i] */
	uint32_t n = cur->n_sensors, i;
	int rc;

	memset(ch, 0, sizeof(*ch));
	if (key != NULL) {
		snprintf(why, why_len, "%s changed, which needs a restart", key);
		return -EPERM;
	}
	index_of = calloc(next->n_sensors + 1, sizeof(*index_of));
	if (index_of == NULL)
		return -ENOMEM;
	/* Indexes: the running ones first, then what is new, in file order. */
	for (i = 0; i < next->n_sensors; i++) {
		int at = find_sensor(cur, next->sensors[i].name);

		if (at >= 0) {
			index_of[i] = (uint16_t)at;
			ch->revived += cur->sensors[at].retired;
		} else {
			index_of[i] = (uint16_t)n++;
			ch->added++;
		}
	}
	if (n > slots) {
		free(index_of);
		snprintf(why, why_len, "%u sensors with those retired since the start, where "
			"teiten was sized for %u (the start's and %d more): a restart applies it",
			n, slots, TT_CONFIG_SENSOR_HEADROOM);
		return -ENOSPC;
	}
	sensors = calloc(n, sizeof(*sensors));
	if (sensors == NULL) {
		free(index_of);
		return -ENOMEM;
	}
	/* Gone from the file: retired in place, the running entry's name and label kept. */
	for (i = 0; i < cur->n_sensors; i++) {
		sensors[i] = cur->sensors[i];
		sensors[i].retired = true;
		sensors[i].label = NULL;
		if (cur->sensors[i].label != NULL &&
				tt_config_set_string(&sensors[i].label, cur->sensors[i].label) != 0)
			goto nomem;
	}
	for (i = 0; i < next->n_sensors; i++) {
		free(sensors[index_of[i]].label);
		sensors[index_of[i]] = next->sensors[i];
		sensors[index_of[i]].retired = false;
		next->sensors[i].label = NULL;        /* moved */
	}
	for (i = 0; i < cur->n_sensors; i++)
		if (sensors[i].retired && !cur->sensors[i].retired)
			ch->retired++;
	for (i = 0; i < next->n_prefixes; i++)
		next->prefixes[i].sensor = index_of[next->prefixes[i].sensor];
	for (i = 0; i < next->n_sensors; i++)
		free(next->sensors[i].label);
	free(next->sensors);
	next->sensors = sensors;
	next->n_sensors = n;
	free(index_of);

	for (i = 0; i < n && !ch->sensors_changed; i++)
		ch->sensors_changed = i >= cur->n_sensors || !same_sensor(&sensors[i], &cur->sensors[i]);
	ch->prefixes_before = cur->n_prefixes;
	ch->prefixes_after = next->n_prefixes;
	if (!ch->sensors_changed) {
		rc = prefixes_differ(next, cur, &ch->sensors_changed);
		if (rc != 0)
			return rc;
	}
	ch->geo_changed = !same_string(next->geoip_db, cur->geoip_db);
	ch->home_changed = strcmp(next->home_country, cur->home_country) != 0;
	ch->watch_changed = next->n_watch_ports != cur->n_watch_ports ||
		memcmp(next->watch_ports, cur->watch_ports,
			next->n_watch_ports * sizeof(next->watch_ports[0])) != 0;
	ch->alerts_changed = memcmp(&next->alerts, &cur->alerts, sizeof(next->alerts)) != 0;
	ch->retention_changed = next->retention_minute != cur->retention_minute ||
		next->retention_hour != cur->retention_hour ||
		next->retention_day != cur->retention_day;
	ch->sizing_kept = keep_sizing(next, cur);
	return 0;

nomem:
	for (i = 0; i < cur->n_sensors; i++)
		free(sensors[i].label);
	free(sensors);
	free(index_of);
	return -ENOMEM;
}
