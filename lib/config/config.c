/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader and validator. Control thread only; needs no EAL.
 *
 * tt_config_load() reads the file and checks its lines (config_lines.c),
 * then walks rte_cfgfile's sections and entries in file order: a section's
 * name picks its struct (struct tt_config, or a new struct tt_sensor_conf for
 * each [sensor NAME]), an entry's key picks its row of the key table
 * (config_keys.c), and the row's parser sets its field. What no single key
 * decides is checked here after the walk: required sections and keys,
 * defaults that depend on other keys, prefixes that overlap. Last, the
 * worker pools are sized (config_sizing.c).
 */
#include "tt_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <rte_cfgfile.h>
#include <rte_common.h>

#include "tt_classify.h"
#include "config_internal.h"

void
tt_config_problem(struct tt_config_loader *ld, const char *file, uint32_t line,
		const char *fmt, ...)
{
	char msg[512], out[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(out, sizeof(out), "%s:%u: %s", file, line, msg);
	ld->problems++;
	if (ld->report != NULL)
		ld->report(ld->ctx, out);
}

char *
tt_config_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static const char *
file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "is a directory";
	if (S_ISCHR(mode))
		return "not a regular file (a character device)";
	if (S_ISBLK(mode))
		return "not a regular file (a block device)";
	if (S_ISFIFO(mode))
		return "not a regular file (a FIFO)";
	if (S_ISSOCK(mode))
		return "not a regular file (a socket)";
	return "not a regular file";
}

/*
 * Opens a file the loader reads: a regular file of at most @p max bytes.
 * Devices and FIFOs are refused before a byte is read (/dev/zero never
 * ends; a FIFO without a writer never starts, and O_NONBLOCK keeps even the
 * open from waiting for one).
 * @return an fd, or -errno (-EINVAL: not regular or too large) with @p why
 *   saying what is wrong.
 */
int
tt_config_open_regular(const char *path, uint64_t max, struct stat *st, char *why, size_t len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	int rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(why, len, "%s", strerror(errno));
		return rc;
	}
	if (fstat(fd, st) != 0) {
		rc = -errno;
		snprintf(why, len, "%s", strerror(errno));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, len, "%s", file_kind(st->st_mode));
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st->st_size > max) {
		snprintf(why, len, "%llu bytes, larger than the %llu MiB a file of this kind may hold",
			(unsigned long long)st->st_size, (unsigned long long)(max >> 20));
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/*
 * Reads a file opened by tt_config_open_regular() whole, up to @p max bytes (it may
 * grow while read). The text is NUL-terminated for convenience; it may hold
 * NUL bytes of its own, which the scanners report.
 * @return 0, -EINVAL (grew past max), -errno, with @p why set.
 */
static int
read_whole(int fd, uint64_t max, char **text, size_t *len, char *why, size_t whylen)
{
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (cap - used < 2) {
			char *b = realloc(buf, cap * 2);

			if (b == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;

			snprintf(why, whylen, "%s", strerror(errno));
			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			snprintf(why, whylen, "larger than the %llu MiB a file of this kind may hold",
				(unsigned long long)(max >> 20));
			free(buf);
			return -EINVAL;
		}
	}
	buf[used] = '\0';
	*text = buf;
	*len = used;
	return 0;
}

/* tt_config_open_regular() and read_whole() together. */
int
tt_config_slurp(const char *path, uint64_t max, struct stat *st, char **text, size_t *len,
		char *why, size_t whylen)
{
	int fd = tt_config_open_regular(path, max, st, why, whylen);
	int rc;

	if (fd < 0)
		return fd;
	rc = read_whole(fd, max, text, len, why, whylen);
	if (rc == -ENOMEM)
		snprintf(why, whylen, "%s", strerror(ENOMEM));
	close(fd);
	return rc;
}


int
tt_config_set_string(char **dst, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}


const char *
tt_config_add_file_name(struct tt_config *cfg, const char *name)
{
	char **a;
	uint32_t i;

	for (i = 0; i < cfg->n_files; i++)
		if (strcmp(cfg->files[i], name) == 0)
			return cfg->files[i];
	a = realloc(cfg->files, (cfg->n_files + 1) * sizeof(*a));
	if (a == NULL)
		return NULL;
	cfg->files = a;
	a[cfg->n_files] = strdup(name);
	if (a[cfg->n_files] == NULL)
		return NULL;
	return a[cfg->n_files++];
}

int
tt_config_alerts_conf(const struct tt_config *cfg, struct tt_alerts_conf *conf,
		const char **names)
{
	char err[128];
	uint32_t i;
	int cc = tt_classify_country_index(cfg->home_country);

	*conf = cfg->alerts;
	conf->home_country = (uint16_t)(cc >= 0 ? cc : TT_COUNTRY_ZZ);
	conf->n_sensors = cfg->n_sensors;
	for (i = 0; i < cfg->n_sensors; i++)
		names[i] = cfg->sensors[i].name;
	conf->sensor_names = names;
	return tt_alerts_conf_check(conf, err, sizeof(err));
}

/* --- cross checks --- */

static int
prefix_cmp(const void *a, const void *b)
{
	const struct tt_prefix *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family - y->family;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c != 0)
		return c;
	return x->len - y->len;
}

/* Is b inside a? (a sorts first: same family, a.addr <= b.addr) */
static bool
prefix_contains(const struct tt_prefix *a, const struct tt_prefix *b)
{
	uint32_t i;

	if (a->family != b->family || a->len > b->len)
		return false;
	for (i = 0; i < a->len; i++)
		if ((a->addr[i / 8] ^ b->addr[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

/*
 * Prefixes are either nested or disjoint, so after sorting by address (then
 * length) a prefix overlaps something before it iff the widest prefix seen
 * since the last disjoint gap contains it: O(n log n) for 100k prefixes.
 */
static int
check_overlaps(struct tt_config_loader *ld)
{
	struct tt_config *cfg = ld->cfg;
	struct tt_prefix *sorted;
	const struct tt_prefix *cover = NULL;
	uint32_t i;

	if (cfg->n_prefixes < 2)
		return 0;
	sorted = malloc(cfg->n_prefixes * sizeof(*sorted));
	if (sorted == NULL)
		return -ENOMEM;
	memcpy(sorted, cfg->prefixes, cfg->n_prefixes * sizeof(*sorted));
	qsort(sorted, cfg->n_prefixes, sizeof(*sorted), prefix_cmp);
	for (i = 0; i < cfg->n_prefixes; i++) {
		const struct tt_prefix *p = &sorted[i];

		if (cover != NULL && prefix_contains(cover, p)) {
			char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

			inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
			inet_ntop(cover->family == 4 ? AF_INET : AF_INET6, cover->addr, b,
				sizeof(b));
			tt_config_problem(ld, p->file, p->line, "[sensor %s] prefixes = %s/%u: "
				"overlaps %s/%u of sensor %s (%s:%u)",
				cfg->sensors[p->sensor].name, a, p->len, b, cover->len,
				cfg->sensors[cover->sensor].name, cover->file, cover->line);
			continue;
		}
		cover = p;
	}
	free(sorted);
	return 0;
}

static void
set_defaults(struct tt_config *cfg)
{
	cfg->clock = TT_CLOCK_AUTO;
	cfg->mirai_min_ports = TT_DEFAULT_MIRAI_MIN_PORTS;
	cfg->port_cells = TT_DEFAULT_PORT_CELLS;
	cfg->country_cells = TT_DEFAULT_COUNTRY_CELLS;
	cfg->hll_cells = TT_DEFAULT_HLL_CELLS;
	cfg->hll_sparse_sets = TT_DEFAULT_HLL_SPARSE;
	cfg->hll_dense_sets = TT_DEFAULT_HLL_DENSE;
	cfg->sources_max = TT_DEFAULT_SOURCES_MAX;
	cfg->source_cells = TT_DEFAULT_SOURCE_CELLS;
	cfg->redis_enabled = true;
	cfg->redis_port = TT_DEFAULT_REDIS_PORT;
	cfg->flush_interval_ms = TT_DEFAULT_FLUSH_INTERVAL_MS;
	cfg->backlog_max_mb = TT_DEFAULT_BACKLOG_MAX_MB;
	cfg->final_flush_s = TT_DEFAULT_FINAL_FLUSH_S;
	cfg->retention_minute = TT_DEFAULT_RETENTION_MINUTE_S;
	cfg->retention_hour = TT_DEFAULT_RETENTION_HOUR_S;
	cfg->retention_day = TT_DEFAULT_RETENTION_DAY_S;
	cfg->retention_sources = TT_DEFAULT_RETENTION_SOURCES_S;
	cfg->alerts_enabled = true;
	tt_alerts_conf_default(&cfg->alerts);
}

/* --- sections --- */

/* @return the section @p name opens, or TT_CONFIG_SEC_COUNT if none. */
static enum tt_config_section
section_of(const char *name)
{
	unsigned int s;

	for (s = 0; s < TT_CONFIG_SEC_COUNT; s++) {
		const struct tt_config_section_def *d = &tt_config_sections[s];
		size_t len = strlen(d->name);

		if (d->named ? strncmp(name, d->name, len) == 0 && name[len] == ' ' :
				strcmp(name, d->name) == 0)
			return (enum tt_config_section)s;
	}
	return TT_CONFIG_SEC_COUNT;
}

/* "[collector]: unknown section (expected appliance, redis, ... or sensor NAME)" */
static void
unknown_section(struct tt_config_loader *ld, const char *name, uint32_t line)
{
	char expected[256];
	size_t used = 0;
	unsigned int s;

	expected[0] = '\0';
	for (s = 0; s < TT_CONFIG_SEC_COUNT; s++)
		used += (size_t)snprintf(expected + used, sizeof(expected) - used, "%s%s%s",
			s == 0 ? "" : s + 1 == TT_CONFIG_SEC_COUNT ? " or " : ", ",
			tt_config_sections[s].name, tt_config_sections[s].named ? " NAME" : "");
	tt_config_problem(ld, ld->file, line, "[%s]: unknown section (expected %s)", name,
		expected);
}

/* Every required key of @p section that was not given: "[name] key: missing". */
static void
check_required(struct tt_config_loader *ld, enum tt_config_section section,
		const char *name, uint32_t line)
{
	unsigned int i;

	for (i = 0; i < tt_config_n_keys; i++)
		if (tt_config_keys[i].section == section && tt_config_keys[i].missing != NULL &&
				ld->key_line[i] == 0)
			tt_config_problem(ld, ld->file, line, "[%s] %s: %s", name,
				tt_config_keys[i].name, tt_config_keys[i].missing);
}

/*
 * A [sensor NAME] header: a new struct tt_sensor_conf, or a problem.
 * @return 1 (the sensor is added: its keys follow), 0 (a problem: skip its
 *   keys) or -ENOMEM.
 */
static int
begin_sensor(struct tt_config_loader *ld, char *name, uint32_t line)
{
	struct tt_config *cfg = ld->cfg;
	const char *sname = tt_config_trim(name + strlen("sensor "));
	struct tt_sensor_conf *sc;
	unsigned int i;
	uint32_t j;

	for (i = 0; i < tt_config_n_keys; i++)
		if (tt_config_keys[i].section == TT_CONFIG_SEC_SENSOR)
			ld->key_line[i] = 0;
	ld->prefix_problems = 0;
	ld->empty_file_line = 0;

	if (!tt_config_is_name(sname, TT_SENSOR_NAME_MAX, false) ||
			strcmp(sname, "all") == 0 || strcmp(sname, "src") == 0) {
		tt_config_problem(ld, ld->file, line, "[%s]: sensor name must be 1-%d of "
			"A-Z a-z 0-9 . _ - and not 'all' or 'src'", name, TT_SENSOR_NAME_MAX);
		return 0;
	}
	for (j = 0; j < cfg->n_sensors; j++)
		if (strcmp(cfg->sensors[j].name, sname) == 0)
			break;
	if (j < cfg->n_sensors) {
		tt_config_problem(ld, ld->file, line, "[%s]: duplicate sensor (first at line %u)",
			name, cfg->sensors[j].line);
		return 0;
	}
	if (cfg->n_sensors == TT_MAX_SENSORS) {
		tt_config_problem(ld, ld->file, line, "[%s]: more than %d sensors", name,
			TT_MAX_SENSORS);
		return 0;
	}
	sc = realloc(cfg->sensors, (cfg->n_sensors + 1) * sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	cfg->sensors = sc;
	ld->sensor = (uint16_t)cfg->n_sensors++;
	sc = &cfg->sensors[ld->sensor];
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "%s", sname);
	sc->line = line;
	sc->port = UINT16_MAX;
	return 1;
}

/* After a sensor's keys: what it lacks, and its label's default. */
static int
end_sensor(struct tt_config_loader *ld, const char *name, uint32_t line)
{
	struct tt_config *cfg = ld->cfg;
	struct tt_sensor_conf *sc = &cfg->sensors[ld->sensor];
	uint32_t j, count = 0;

	for (j = 0; j < cfg->n_prefixes; j++)
		count += cfg->prefixes[j].sensor == ld->sensor;
	check_required(ld, TT_CONFIG_SEC_SENSOR, name, line);
	/* a bad prefix was reported already; an empty file names itself */
	if (count == 0 && ld->prefix_problems == 0 && ld->empty_file_line != 0)
		tt_config_problem(ld, ld->file, ld->empty_file_line, "[%s] prefixes_file = %s: "
			"no prefix in it (empty, or only comments), and the sensor has "
			"no other", name, ld->empty_file_value);
	else if (count == 0 && ld->prefix_problems == 0)
		tt_config_problem(ld, ld->file, line, "[%s] prefixes: missing (no darknet "
			"prefix for this sensor)", name);
	if (sc->label == NULL)
		return tt_config_set_string(&sc->label, sc->name);
	return 0;
}

/*
 * One entry: its key's row, then its value into @p base (the section's
 * struct). An unknown key or a second use of a key that does not repeat is
 * a problem, and the entry is not applied.
 */
static int
apply_entry(struct tt_config_loader *ld, enum tt_config_section section, void *base,
		const struct rte_cfgfile_entry *entry, uint32_t line)
{
	const struct tt_config_key *key = tt_config_key_find(section, entry->name);
	unsigned int before = ld->problems;
	uint32_t *first;
	int rc;

	if (key == NULL) {
		tt_config_problem(ld, ld->file, line, "[%s] %s = %s: unknown key", ld->section,
			entry->name, entry->value);
		return 0;
	}
	first = &ld->key_line[key - tt_config_keys];
	if (*first != 0 && !key->repeatable) {
		tt_config_problem(ld, ld->file, line, "[%s] %s = %s: duplicate key (first at "
			"line %u)", ld->section, entry->name, entry->value, *first);
		return 0;
	}
	if (*first == 0)
		*first = line;
	rc = tt_config_key_apply(ld, key, base, entry->value, line);
	if (key->kind == TT_CONFIG_KEY_PREFIXES || key->kind == TT_CONFIG_KEY_PREFIXES_FILE)
		ld->prefix_problems += ld->problems - before;
	return rc;
}

/* The line a key of struct tt_config was given on in its section, 0 if not given. */
static uint32_t
given_at(const struct tt_config_loader *ld, enum tt_config_section section, const char *name)
{
	const struct tt_config_key *k = tt_config_key_find(section, name);

	return k != NULL ? ld->key_line[k - tt_config_keys] : 0;
}

/*
 * A cluster's seed nodes and one Redis exclude each other: the publisher
 * would otherwise have to guess which one the operator meant.
 */
static void
check_cluster_alone(struct tt_config_loader *ld)
{
	static const char *const single[] = { "host", "port", "unix" };
	uint32_t at = given_at(ld, TT_CONFIG_SEC_REDIS, "cluster");
	char which[32] = "";
	unsigned int i;

	for (i = 0; i < RTE_DIM(single); i++)
		if (given_at(ld, TT_CONFIG_SEC_REDIS, single[i]) != 0)
			snprintf(which + strlen(which), sizeof(which) - strlen(which), "%s%s",
				which[0] ? "/" : "", single[i]);
	if (which[0] != '\0')
		tt_config_problem(ld, ld->file, at, "[redis] cluster = %s and %s: the seed "
			"nodes of a Redis Cluster, or one Redis (host and port, or unix), "
			"not both", ld->cfg->redis_cluster, which);
}

/*
 * After the walk: what no single key decides. Keys with a fallback that
 * were not given are parsed from it, as if written on their section's line.
 */
static int
check_whole(struct tt_config_loader *ld, const uint32_t *section_line,
		uint32_t sensor_sections)
{
	struct tt_config *cfg = ld->cfg;
	unsigned int s, i;
	int rc = 0;

	for (s = 0; s < TT_CONFIG_SEC_COUNT; s++) {
		const struct tt_config_section_def *d = &tt_config_sections[s];

		if (d->named)
			continue;
		if (d->required && section_line[s] == 0)
			tt_config_problem(ld, ld->file, 1, "[%s]: missing section", d->name);
		else if (section_line[s] != 0)
			check_required(ld, (enum tt_config_section)s, d->name, section_line[s]);
	}
	if (sensor_sections == 0)
		tt_config_problem(ld, ld->file, 1, "no [sensor NAME] section: nothing to observe");
	if (cfg->redis_host != NULL && cfg->redis_unix != NULL)
		tt_config_problem(ld, ld->file, section_line[TT_CONFIG_SEC_REDIS],
			"[redis] host and unix: set one, not both");
	if (cfg->redis_cluster != NULL)
		check_cluster_alone(ld);
	for (i = 0; i < tt_config_n_keys && rc == 0; i++) {
		const struct tt_config_key *key = &tt_config_keys[i];

		if (key->fallback == NULL || ld->key_line[i] != 0)
			continue;
		ld->section = tt_config_sections[key->section].name;
		rc = tt_config_key_apply(ld, key, cfg, key->fallback,
			section_line[key->section]);
	}
	/* TCP to the default host, unless a unix socket or a cluster is given */
	if (rc == 0 && cfg->redis_host == NULL && cfg->redis_unix == NULL &&
			cfg->redis_cluster == NULL)
		rc = tt_config_set_string(&cfg->redis_host, TT_DEFAULT_REDIS_HOST);
	return rc;
}

static int
apply_sections(struct tt_config_loader *ld, struct rte_cfgfile *file)
{
	struct tt_config *cfg = ld->cfg;
	struct rte_cfgfile_entry *entries = NULL;
	uint32_t section_line[TT_CONFIG_SEC_COUNT] = { 0 };  /* first header of each */
	uint32_t sensor_sections = 0;
	int n_sec, s, rc = 0;

	n_sec = rte_cfgfile_num_sections(file, NULL, 0);
	for (s = 0; s < n_sec && rc == 0; s++) {
		char name[CFG_NAME_LEN];
		uint32_t line = tt_config_lines_at(&ld->lines, (uint32_t)s, UINT32_MAX);
		enum tt_config_section section;
		void *base;
		int n, e;

		n = rte_cfgfile_section_num_entries_by_index(file, name, s);
		if (n < 0) {
			rc = -EINVAL;
			break;
		}
		ld->section = name;
		section = section_of(name);
		if (section == TT_CONFIG_SEC_COUNT) {
			unknown_section(ld, name, line);
			continue;
		}
		if (section == TT_CONFIG_SEC_SENSOR) {
			sensor_sections++;
			rc = begin_sensor(ld, name, line);
			if (rc <= 0)
				continue;
			rc = 0;
			base = &cfg->sensors[ld->sensor];
		} else {
			if (section_line[section] != 0) {
				tt_config_problem(ld, ld->file, line, "[%s]: duplicate section "
					"(first at line %u)", name, section_line[section]);
				continue;
			}
			section_line[section] = line;
			base = cfg;
		}

		free(entries);
		entries = calloc((size_t)(n > 0 ? n : 1), sizeof(*entries));
		if (entries == NULL) {
			rc = -ENOMEM;
			break;
		}
		n = rte_cfgfile_section_entries_by_index(file, s, name, entries, n);
		for (e = 0; e < n && rc == 0; e++)
			rc = apply_entry(ld, section, base, &entries[e],
				tt_config_lines_at(&ld->lines, (uint32_t)s, (uint32_t)e));
		if (section == TT_CONFIG_SEC_SENSOR && rc == 0)
			rc = end_sensor(ld, name, line);
	}
	free(entries);
	if (rc != 0)
		return rc;
	rc = check_whole(ld, section_line, sensor_sections);
	if (rc == 0)
		rc = check_overlaps(ld);
	return rc;
}

int
tt_config_load(struct tt_config *cfg, const char *path,
		tt_config_report_cb report, void *ctx)
{
	struct tt_config_loader ld = { .cfg = cfg, .report = report, .ctx = ctx };
	struct rte_cfgfile *file = NULL;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	cfg->path = strdup(path);
	ld.file = tt_config_add_file_name(cfg, path);
	if (cfg->path == NULL || ld.file == NULL) {
		rc = -ENOMEM;
		goto err_free_config;
	}
	rc = tt_config_lines_read(&ld, &file);
	if (rc != 0)
		goto err_free_lines;
	rc = apply_sections(&ld, file);
	if (rc == 0 && ld.problems != 0)
		rc = -EINVAL;
	if (rc != 0)
		goto err_close_file;
	tt_config_size_pools(&ld, cfg);
	rte_cfgfile_close(file);
	tt_config_lines_free(&ld.lines);
	return 0;

err_close_file:
	rte_cfgfile_close(file);
err_free_lines:
	tt_config_lines_free(&ld.lines);
err_free_config:
	tt_config_free(cfg);
	return rc;
}

void
tt_config_free(struct tt_config *cfg)
{
	uint32_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_sensors; i++)
		free(cfg->sensors[i].label);
	for (i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->sensors);
	free(cfg->prefixes);
	free(cfg->path);
	free(cfg->id);
	free(cfg->geoip_db);
	free(cfg->asn_db);
	free(cfg->redis_host);
	free(cfg->redis_unix);
	free(cfg->redis_cluster);
	free(cfg->redis_user);
	free(cfg->redis_password_file);
	free(cfg->redis_prefix);
	memset(cfg, 0, sizeof(*cfg));
}
