/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live reload (SIGHUP): a new config and country database applied
 * without a restart. Built on a thread of its own, applied on the control
 * thread, taken by the workers at their next swap (README, "Running it").
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "appliance.h"
#include "tt_alerts.h"
#include "tt_classify.h"
#include "tt_config.h"
#include "tt_control.h"
#include "tt_diag.h"
#include "tt_geo.h"
#include "tt_publisher.h"
#include "tt_sensor.h"
#include "tt_telemetry.h"
#include "tt_worker.h"

/* What a burst looks things up with, from a config and its tables. */
void
fill_tables(const struct tt_config *cfg, const struct tt_sensor_table *sensors,
		const struct tt_geo *geo, struct tt_worker_tables *t)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	t->sensors = sensors;
	t->geo = geo;
	t->home_country = (uint16_t)tt_classify_country_index(cfg->home_country);
	for (i = 0; i < cfg->n_watch_ports; i++) {
		uint32_t bit = tt_classify_watch_bit(cfg->watch_ports[i]);

		t->watched[bit / 8] |= (uint8_t)(1u << (bit % 8));
	}
}

/*
 * The detectors' conf for @p cfg, its names in @p names (sensor_slots of
 * them): the indexes no sensor has used yet are named "-", as the
 * publisher names them.
 */
int
alerts_conf(const struct appliance *a, const struct tt_config *cfg,
		struct tt_alerts_conf *ac, const char **names)
{
	uint32_t i;

	if (tt_config_alerts_conf(cfg, ac, names) != 0)
		return -EINVAL;
	for (i = cfg->n_sensors; i < a->sensor_slots; i++)
		names[i] = "-";
	ac->n_sensors = a->sensor_slots;
	return 0;
}

/* The previous generation's tables: no worker reads them any more. */
static void
retire_generation(void *arg)
{
	struct appliance *a = arg;
	struct generation *g = &a->gen[!a->cur];

	tt_sensor_free(g->sensors);
	tt_geo_free(g->geo);
	if (g->cfg != &a->cfg)
		tt_config_drop_prefixes(g->cfg);
	memset(g, 0, sizeof(*g));
}

/* Every sensor of @p cfg receives on a port this run started. */
static bool
ports_running(const struct appliance *a, const struct tt_config *cfg)
{
	bool ok = true;
	uint32_t i;
	uint16_t k;

	for (i = 0; i < cfg->n_sensors; i++) {
		const struct tt_sensor_conf *sc = &cfg->sensors[i];
		bool found = false;

		for (k = 0; k < a->n_ports && !found; k++)
			found = a->ports[k].port_id == sc->port;
		if (!found && !sc->retired) {
			fprintf(stderr, "%s:%u: [sensor %s] port = %u: not a port this run "
				"receives on; a new port needs a restart\n", cfg->path,
				sc->port_line, sc->name, sc->port);
			ok = false;
		}
	}
	return ok;
}

static void
say_changes(const struct tt_config *cfg, uint32_t number, const struct tt_config_changes *ch,
		uint64_t build_ms)
{
	char what[512];
	size_t n = 0;

	/* n stops at the buffer's end: what does not fit is cut, never written past it */
#define SAY(...) (n += (size_t)snprintf(what + n, sizeof(what) - n, __VA_ARGS__), \
		n = n < sizeof(what) ? n : sizeof(what) - 1)
	SAY("sensors %u (+%u, -%u, %u back), prefixes %u -> %u%s", cfg->n_sensors,
		ch->added, ch->retired, ch->revived, ch->prefixes_before, ch->prefixes_after,
		ch->sensors_changed ? "" : " (unchanged)");
	SAY(", country database %s%s", cfg->geoip_db ? cfg->geoip_db : "none",
		ch->geo_changed ? " (another file)" : " (read again)");
	if (ch->home_changed)
		SAY(", home country %s", cfg->home_country);
	if (ch->watch_changed)
		SAY(", watched services");
	if (ch->alerts_changed)
		SAY(", alert thresholds");
	if (ch->retention_changed)
		SAY(", retention");
#undef SAY
	MAIN_LOG(NOTICE, "SIGHUP: %s applied (generation %u): %s; built in %" PRIu64 " ms",
		cfg->path, number, what, build_ms);
	if (ch->sizing_kept)
		MAIN_LOG(NOTICE, "SIGHUP: the worker shards keep the sizes they started with "
			"(the new sensors would size them otherwise); a restart resizes them");
}

/*
 * The reload thread: read and check the file as --check-config does (its
 * problems printed as it prints them), against the running config
 * (tt_config_align(): what only a restart applies, a sensor's index kept),
 * then its sensor and country tables, beside the running ones.
 */
static void *
build_reload(void *arg)
{
	struct reload_job *j = arg;
	const char *path = j->a->opt.config;
	struct timespec t0, t1;
	char why[512];
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	j->cfg = calloc(1, sizeof(*j->cfg));
	if (j->cfg == NULL) {
		MAIN_LOG(ERR, "SIGHUP: out of memory; the running config stays");
		goto out;
	}
	rc = tt_config_load(j->cfg, path, print_problem, NULL);
	if (rc != 0) {
		MAIN_LOG(ERR, "SIGHUP: %s is not valid (%s); the running config stays",
			path, rc == -EINVAL ? "the problems above" : strerror(-rc));
		goto out;
	}
	rc = tt_config_align(j->cfg, j->cur, j->slots, &j->ch, why, sizeof(why));
	if (rc != 0) {
		MAIN_LOG(ERR, "SIGHUP: %s: %s; the running config stays", path,
			rc == -ENOMEM ? strerror(ENOMEM) : why);
		goto out;
	}
	if (!ports_running(j->a, j->cfg)) {
		MAIN_LOG(ERR, "SIGHUP: %s: a sensor names a port this run does not receive "
			"on (above); the running config stays", path);
		goto out;
	}
	j->sensors = tt_sensor_create(j->cfg, j->socket_id);
	if (j->sensors == NULL) {
		MAIN_LOG(ERR, "SIGHUP: sensor tables: %s; %s; the running config stays",
			rte_strerror(rte_errno), tt_diag_memory(why, sizeof(why)));
		goto out;
	}
	/* Read again even under the same name: the RIRs' tables change daily. */
	if (j->cfg->geoip_db != NULL) {
		j->geo = tt_geo_create(j->cfg->geoip_db, j->socket_id, why, sizeof(why));
		if (j->geo == NULL) {
			MAIN_LOG(ERR, "SIGHUP: %s: geoip_db: %s; the running config stays",
				path, why);
			goto out;
		}
	}
	j->ok = true;
out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	j->build_ms = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
		(uint64_t)(t1.tv_nsec - t0.tv_nsec) / 1000000;
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
free_job(struct reload_job *j)
{
	tt_geo_free(j->geo);
	tt_sensor_free(j->sensors);
	if (j->cfg != NULL) {
		tt_config_free(j->cfg);
		free(j->cfg);
	}
	free(j);
}

/*
 * SIGHUP (systemctl reload, a log rotation) must never end the sensor: the
 * config is built again on a thread (build_reload()) and, once built,
 * applied here: the detectors' thresholds, the names the publisher and
 * telemetry show, then the tables handed to the workers, which switch at
 * their next swap, a burst boundary (tt_control_switch()): every packet is
 * counted once, with the old tables or the new. The publisher keeps its
 * backlog. Anything that fails leaves the running config as it is, and the
 * log says why. Control thread, every tick while a reload is asked for or
 * being built.
 */
bool
reload_poll(struct appliance *a, bool asked)
{
	struct generation *cur = &a->gen[a->cur], *next = &a->gen[!a->cur];
	struct reload_job *j = a->job;
	struct tt_config **kept;
	char why[256];

	if (j == NULL) {
		if (!asked)
			return false;
		if (tt_control_switch_pending(a->control)) {
			/* Tried again every tick until the workers have taken the last. */
			if (!a->reload_deferred)
				MAIN_LOG(WARNING, "SIGHUP: the workers are still taking generation "
					"%u; this reload waits for them", cur->number);
			a->reload_deferred = true;
			return true;
		}
		a->reload_deferred = false;
		j = calloc(1, sizeof(*j));
		if (j == NULL) {
			MAIN_LOG(ERR, "SIGHUP: out of memory; the running config stays");
			return false;
		}
		*j = (struct reload_job){ .a = a, .cur = cur->cfg, .slots = a->sensor_slots,
			.socket_id = (int)rte_socket_id() };
		if (pthread_create(&j->thread, NULL, build_reload, j) != 0) {
			MAIN_LOG(ERR, "SIGHUP: no thread to build the new tables on; the running "
				"config stays");
			free(j);
			return false;
		}
		a->job = j;
		return false;
	}
	/* One more SIGHUP while building: asked again until this one is applied. */
	if (!__atomic_load_n(&j->done, __ATOMIC_ACQUIRE))
		return asked;
	pthread_join(j->thread, NULL);
	a->job = NULL;
	if (!j->ok)
		goto err_free;
	kept = realloc(a->configs, (a->n_configs + 1) * sizeof(*kept));
	if (kept == NULL) {
		MAIN_LOG(ERR, "SIGHUP: out of memory; the running config stays");
		goto err_free;
	}
	a->configs = kept;
	if (a->alerts != NULL) {
		struct tt_alerts_conf ac;

		if (alerts_conf(a, j->cfg, &ac, a->alert_sensor_names) != 0 ||
				tt_alerts_reconfigure(a->alerts, &ac, why, sizeof(why)) != 0) {
			MAIN_LOG(ERR, "SIGHUP: %s: [alerts]: %s; the running config stays",
				j->cfg->path, why);
			goto err_free;
		}
	}
	next->number = cur->number + 1;
	next->cfg = j->cfg;
	next->sensors = j->sensors;
	next->geo = j->geo;
	fill_tables(j->cfg, next->sensors, next->geo, &next->tables);
	a->configs[a->n_configs++] = j->cfg;
	/* Names first, then the tables: no count of a new index reaches a reader before its name. */
	if (a->pub != NULL)
		tt_publisher_reconfigure(a->pub, j->cfg);
	tt_telemetry_set_config(j->cfg, next->number);
	a->cur = !a->cur;
	tt_control_switch(a->control, &(struct tt_control_switch){
		.tables = &next->tables, .cfg = next->cfg, .generation = next->number,
		.retire = retire_generation, .arg = a });
	say_changes(next->cfg, next->number, &j->ch, j->build_ms);
	log_config(next->cfg);
	free(j);                           /* what it built is the generation's now */
	return asked;

err_free:
	free_job(j);
	return asked;
}

void
reload_abandon(struct appliance *a)
{
	if (a->job == NULL)
		return;
	pthread_join(a->job->thread, NULL);
	free_job(a->job);
	a->job = NULL;
	MAIN_LOG(WARNING, "SIGHUP: stopping before the reload was built; not applied");
}

