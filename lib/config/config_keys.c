/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config's keys: one table row per key (section, name, kind, field,
 * range, what a bad value is told), and a parser per kind. Control thread
 * only. The loader (config.c) finds a key's row with tt_config_key_find()
 * and applies its value with tt_config_key_apply(); nothing else names a
 * key. test_config.c checks the table itself: names unique in a section,
 * fields disjoint and named like their key, each documented in
 * config/teiten.conf.example, each parser writing its row's field only.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <rte_common.h>
#include <maxminddb.h>

#include "tt_classify.h"
#include "config_internal.h"

enum {
	MIN_RETENTION_S = 60,
	MAX_RX_MBUFS = 1 << 24,
	/* what the publisher reads of a password file (one line, fgets) */
	PASSWORD_MAX = 511,
	PASSWORD_FILE_MAX = 4096,
};

/* Ten million prefixes fit in a 256 MiB prefixes_file. */
#define PREFIXES_FILE_MAX ((uint64_t)256 << 20)

/* --- value parsers (exported ones are unit-tested directly) --- */

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int
tt_config_parse_duration(const char *s, uint32_t *seconds)
{
	unsigned long long v, mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	if (*end != '\0') {
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -EINVAL;
		}
		if (end[1] != '\0')
			return -EINVAL;
	}
	if (v > UINT32_MAX / mult)
		return -EINVAL;
	*seconds = (uint32_t)(v * mult);
	return 0;
}

int
tt_config_parse_prefix(const char *s, struct tt_prefix *p)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	uint32_t len, max, i;
	size_t alen;

	memset(p, 0, sizeof(*p));
	if (slash == NULL || slash == s)
		return -EINVAL;
	alen = (size_t)(slash - s);
	if (alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (strchr(addr, ':') != NULL) {
		if (inet_pton(AF_INET6, addr, p->addr) != 1)
			return -EINVAL;
		p->family = 6;
		max = 128;
	} else {
		if (inet_pton(AF_INET, addr, p->addr) != 1)
			return -EINVAL;
		p->family = 4;
		max = 32;
	}
	if (parse_u32(slash + 1, 0, max, &len) != 0)
		return -EINVAL;
	p->len = (uint8_t)len;
	/* Host bits must be zero: "192.0.2.1/24" is most likely a typo. */
	for (i = len; i < max; i++)
		if (p->addr[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	return 0;
}

bool
tt_config_is_name(const char *s, size_t max, bool allow_colon)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		if (isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.')
			continue;
		if (allow_colon && *s == ':')
			continue;
		return false;
	}
	return n > 0 && n <= max;
}

int
tt_config_endpoint_next(const char **cursor, char *host, size_t len, uint16_t *port)
{
	const char *s = *cursor, *end, *last, *item, *hend, *p;
	char num[8];
	uint32_t v;
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*cursor = s;
		return 0;
	}
	end = strchr(s, ',');
	if (end == NULL)
		end = s + strlen(s);
	*cursor = *end == ',' ? end + 1 : end;
	for (last = end; last > s && (last[-1] == ' ' || last[-1] == '\t'); last--)
		;
	if (*s == '[') {
		/* [IPv6]:port, as URLs write it */
		item = s + 1;
		hend = memchr(item, ']', (size_t)(last - item));
		if (hend == NULL || hend + 1 >= last || hend[1] != ':')
			return -EINVAL;
	} else {
		/* host:port; a bare IPv6 address would be ambiguous */
		item = s;
		hend = memchr(s, ':', (size_t)(last - s));
		if (hend == NULL || memchr(hend + 1, ':', (size_t)(last - hend - 1)) != NULL)
			return -EINVAL;
	}
	p = hend + (*s == '[' ? 2 : 1);
	n = (size_t)(hend - item);
	if (n == 0 || memchr(item, ' ', n) != NULL || memchr(item, '\t', n) != NULL ||
			last - p < 1 || last - p > 5)
		return -EINVAL;
	memcpy(num, p, (size_t)(last - p));
	num[last - p] = '\0';
	if (parse_u32(num, 1, 65535, &v) != 0)
		return -EINVAL;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(host, item, n);
	host[n] = '\0';
	*port = (uint16_t)v;
	return 1;
}

/* An empty value means "unset" for optional paths and names. */
static int
set_optional_string(char **dst, const char *value)
{
	if (*value == '\0') {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	return tt_config_set_string(dst, value);
}

/* "[section] key = value: why", on the key's line of the config file. */
static void __attribute__((format(printf, 5, 6)))
bad(struct tt_config_loader *ld, const struct tt_config_key *key, const char *value,
		uint32_t line, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tt_config_problem(ld, ld->file, line, "[%s] %s = %s: %s", ld->section, key->name,
		value, why);
}

/* The row's own reason, given its range. @return 0: a bad value is no error. */
static int
reject(struct tt_config_loader *ld, const struct tt_config_key *key, const char *value,
		uint32_t line)
{
	if (key->kind == TT_CONFIG_KEY_REAL)
		bad(ld, key, value, line, key->expect, key->lo, key->hi);
	else
		bad(ld, key, value, line, key->expect, (uint32_t)key->lo, (uint32_t)key->hi);
	return 0;
}

static int
add_prefix(struct tt_config_loader *ld, const struct tt_prefix *p)
{
	struct tt_config *cfg = ld->cfg;

	if (cfg->n_prefixes == ld->prefix_capacity) {
		uint32_t cap = ld->prefix_capacity == 0 ? 64 : ld->prefix_capacity * 2;
		struct tt_prefix *a = realloc(cfg->prefixes, cap * sizeof(*a));

		if (a == NULL)
			return -ENOMEM;
		cfg->prefixes = a;
		ld->prefix_capacity = cap;
	}
	cfg->prefixes[cfg->n_prefixes++] = *p;
	return 0;
}

/* A path in the config is relative to the config file's folder. */
static void
config_relative(const struct tt_config_loader *ld, const char *value, char *path, size_t len)
{
	const char *slash = strrchr(ld->file, '/');

	if (value[0] != '/' && slash != NULL)
		snprintf(path, len, "%.*s/%s", (int)(slash - ld->file), ld->file, value);
	else
		snprintf(path, len, "%s", value);
}

/*
 * One prefix per line, '#' to the end of the line is a comment; lines of
 * any length (the file is read whole, never in pieces).
 */
static int
load_prefixes_file(struct tt_config_loader *ld, const struct tt_config_key *key,
		const char *value, uint32_t line)
{
	char path[4096], why[160], *p, *end;
	const char *file;
	uint32_t lineno = 0, before = ld->cfg->n_prefixes;
	unsigned int problems = ld->problems;
	struct stat st;
	char *text;
	size_t len;
	int rc;

	config_relative(ld, value, path, sizeof(path));
	rc = tt_config_slurp(path, PREFIXES_FILE_MAX, &st, &text, &len, why, sizeof(why));
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		bad(ld, key, value, line, "cannot read %s: %s", path, why);
		return 0;
	}
	file = tt_config_add_file_name(ld->cfg, path);
	if (file == NULL) {
		free(text);
		return -ENOMEM;
	}
	for (p = text, end = text + len; p < end && rc == 0; ) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char *nul = memchr(p, '\0', n);
		char *l = p, *hash, *s;
		struct tt_prefix pfx;

		lineno++;
		l[n] = '\0';                 /* its '\n', or the text's terminating NUL */
		p += n + 1;
		hash = memchr(l, '#', n);
		if (nul != NULL && (hash == NULL || nul < hash)) {
			tt_config_problem(ld, file, lineno, "prefix = %s: NUL byte at column "
				"%zu (a text file holds none)", tt_config_trim(l),
				(size_t)(nul - l) + 1);
			continue;
		}
		if (hash != NULL)
			*hash = '\0';
		s = tt_config_trim(l);
		if (*s == '\0')
			continue;
		if (tt_config_parse_prefix(s, &pfx) != 0) {
			tt_config_problem(ld, file, lineno, "prefix = %s: not a prefix "
				"(address/length, host bits zero)", s);
			continue;
		}
		pfx.sensor = ld->sensor;
		pfx.line = lineno;
		pfx.file = file;
		rc = add_prefix(ld, &pfx);
	}
	free(text);
	if (rc == 0 && ld->cfg->n_prefixes == before && ld->problems == problems) {
		ld->empty_file_line = line;
		ld->empty_file_value = value;
	}
	return rc;
}

static void
check_mmdb(struct tt_config_loader *ld, const struct tt_config_key *key, uint32_t line,
		const char *value, const char *path)
{
	/* name the resolved path only when it differs from what was written */
	bool relative = strcmp(path, value) != 0;
	char why[160];
	struct stat st;
	MMDB_s db;
	int fd, status;

	fd = tt_config_open_regular(path, UINT64_MAX, &st, why, sizeof(why));
	if (fd < 0) {
		bad(ld, key, value, line, "%s%s%s", relative ? path : "", relative ? ": " : "",
			why);
		return;
	}
	close(fd);
	status = MMDB_open(path, MMDB_MODE_MMAP, &db);
	if (status != MMDB_SUCCESS) {
		bad(ld, key, value, line, "not a MaxMind DB: %s", MMDB_strerror(status));
		return;
	}
	MMDB_close(&db);
}

/*
 * The Redis password: like ssh with a private key, refuse a file others
 * may read (or write), and one that holds no password (it would fail later
 * as WRONGPASS, far from the cause).
 */
static void
check_password_file(struct tt_config_loader *ld, const struct tt_config_key *key,
		uint32_t line, const char *v, const char *path)
{
	bool relative = strcmp(path, v) != 0;
	char why[4352];         /* holds the path */
	struct stat st;
	char *text;
	size_t len, n;
	int rc;

	rc = tt_config_slurp(path, PASSWORD_FILE_MAX, &st, &text, &len, why, sizeof(why));
	if (rc != 0)
		goto refuse;
	n = strcspn(text, "\r\n");         /* stops at a NUL byte too */
	if ((st.st_mode & 077) != 0)
		snprintf(why, sizeof(why), "permissions %04o are too open (others than its owner "
			"may read or change it): chmod 600 %s", (unsigned int)(st.st_mode & 07777),
			path);
	else if (n < len && text[n] == '\0')
		snprintf(why, sizeof(why), "NUL byte in the password");
	else if (n == 0)
		snprintf(why, sizeof(why), "empty: its first line is the password");
	else if (n > PASSWORD_MAX)
		snprintf(why, sizeof(why), "the password is %zu bytes, longer than %d", n,
			PASSWORD_MAX);
	else
		why[0] = '\0';
	memset(text, 0, len);
	free(text);
	if (why[0] == '\0')
		return;
refuse:
	bad(ld, key, v, line, "%s%s%s", relative ? path : "", relative ? ": " : "", why);
}

/* --- one parser a kind: (loader, row, the section's struct, value, line) --- */

typedef int (*parse_fn)(struct tt_config_loader *ld, const struct tt_config_key *key,
		void *base, const char *v, uint32_t line);

static void *
field(void *base, const struct tt_config_key *key)
{
	return (char *)base + key->off;
}

static int
parse_whole(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	uint32_t n;

	if (parse_u32(v, (uint32_t)key->lo, (uint32_t)key->hi, &n) != 0)
		return reject(ld, key, v, line);
	if (key->size == sizeof(uint16_t))
		*(uint16_t *)field(base, key) = (uint16_t)n;
	else
		*(uint32_t *)field(base, key) = n;
	return 0;
}

static int
parse_pow2(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	uint32_t n;

	if (parse_u32(v, (uint32_t)key->lo, (uint32_t)key->hi, &n) != 0 || (n & (n - 1)) != 0)
		return reject(ld, key, v, line);
	*(uint32_t *)field(base, key) = n;
	return 0;
}

static int
parse_real(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	/* digits only: no "inf", "nan" or hex floats */
	if (*v < '0' || *v > '9' || errno != 0 || *end != '\0' || end == v ||
			!(d >= key->lo && d <= key->hi))
		return reject(ld, key, v, line);
	*(double *)field(base, key) = d;
	return 0;
}

static int
parse_duration(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	uint32_t s;

	if (tt_config_parse_duration(v, &s) != 0 || s < key->lo)
		return reject(ld, key, v, line);
	*(uint32_t *)field(base, key) = s;
	return 0;
}

static int
parse_yes_no(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	if (strcmp(v, "yes") == 0)
		*(bool *)field(base, key) = true;
	else if (strcmp(v, "no") == 0)
		*(bool *)field(base, key) = false;
	else
		return reject(ld, key, v, line);
	return 0;
}

static int
parse_choice(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	unsigned int i;

	for (i = 0; key->choices[i] != NULL; i++) {
		if (strcmp(v, key->choices[i]) == 0) {
			*(unsigned int *)field(base, key) = i;
			return 0;
		}
	}
	return reject(ld, key, v, line);
}

static int
parse_name(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	if (!tt_config_is_name(v, (size_t)key->hi, key->kind == TT_CONFIG_KEY_KEY_PREFIX))
		return reject(ld, key, v, line);
	return tt_config_set_string(field(base, key), v);
}

static int
parse_text(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	RTE_SET_USED(ld);
	RTE_SET_USED(line);
	return tt_config_set_string(field(base, key), v);
}

static int
parse_optional_text(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	RTE_SET_USED(ld);
	RTE_SET_USED(line);
	return set_optional_string(field(base, key), v);
}

static int
parse_host(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	if (*v == '\0')
		return reject(ld, key, v, line);
	return tt_config_set_string(field(base, key), v);
}

/*
 * [redis] cluster: seed nodes, each host:port. Every bad item is named; the
 * text is kept as given (the publisher walks it again at start).
 */
static int
parse_endpoints(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	const char *cur = v, *at = v;
	char host[256];
	uint16_t port;
	unsigned int problems = ld->problems;
	int rc;

	if (*v == '\0')
		return set_optional_string(field(base, key), v);
	while ((rc = tt_config_endpoint_next(&cur, host, sizeof(host), &port)) != 0) {
		if (rc < 0) {
			size_t n = (size_t)(cur - at);

			while (n > 0 && (at[n - 1] == ',' || at[n - 1] == ' ' || at[n - 1] == '\t'))
				n--;
			while (n > 0 && (*at == ' ' || *at == '\t')) {
				at++;
				n--;
			}
			bad(ld, key, v, line, rc == -ENAMETOOLONG ? "'%.*s': the host is longer "
				"than 255 bytes" : "'%.*s' is not host:port (a port from 1 to 65535; "
				"an IPv6 address in brackets, [::1]:7000)", (int)n, at);
		}
		at = cur;
	}
	if (ld->problems != problems)
		return 0;
	return tt_config_set_string(field(base, key), v);
}

static int
parse_country(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	if (!tt_classify_country_is_assigned(v))
		return reject(ld, key, v, line);
	memcpy(field(base, key), v, 3);
	return 0;
}

/* A path is kept resolved (relative to the config), and kept even when the
 * check fails: the load fails then, and frees it. */
static int
parse_mmdb(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	char path[4096];

	if (*v == '\0')
		return set_optional_string(field(base, key), v);
	config_relative(ld, v, path, sizeof(path));
	check_mmdb(ld, key, line, v, path);
	return tt_config_set_string(field(base, key), path);
}

static int
parse_secret_file(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	char path[4096];

	if (*v == '\0')
		return set_optional_string(field(base, key), v);
	config_relative(ld, v, path, sizeof(path));
	check_password_file(ld, key, line, v, path);
	return tt_config_set_string(field(base, key), path);
}

/* "tcp/23, udp/53, icmp": the whole list replaces the last one. */
static int
parse_services(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	struct tt_config *cfg = base;
	char *copy = strdup(v), *save = NULL, *tok;
	uint32_t i;

	cfg->n_watch_ports = 0;
	if (copy == NULL)
		return 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
			tok = strtok_r(NULL, ",", &save)) {
		uint32_t svc;
		bool dup = false;

		tok = tt_config_trim(tok);
		if (*tok == '\0')
			continue;
		if (tt_classify_service_parse(tok, &svc) != 0) {
			bad(ld, key, v, line, "'%s' is not a service (tcp/N, udp/N, icmp, icmp6, "
				"ip/N)", tok);
			continue;
		}
		for (i = 0; i < cfg->n_watch_ports; i++)
			dup |= cfg->watch_ports[i] == svc;
		if (dup) {
			bad(ld, key, v, line, "'%s' listed twice", tok);
			continue;
		}
		if (cfg->n_watch_ports == TT_MAX_WATCH_PORTS) {
			bad(ld, key, v, line, "more than %d services", TT_MAX_WATCH_PORTS);
			break;
		}
		cfg->watch_ports[cfg->n_watch_ports++] = svc;
	}
	free(copy);
	return 0;
}

/* The line is kept even for a bad value: it is where a port problem is. */
static int
parse_dpdk_port(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	struct tt_sensor_conf *sc = base;

	sc->port_line = line;
	return parse_whole(ld, key, base, v, line);
}

/* "a, b, c": one prefix per comma-separated item, for the current sensor. */
static int
parse_prefixes(struct tt_config_loader *ld, const struct tt_config_key *key, void *base,
		const char *v, uint32_t line)
{
	char *copy = strdup(v), *save = NULL, *tok;
	int rc = 0;

	RTE_SET_USED(base);
	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
			tok = strtok_r(NULL, ",", &save)) {
		struct tt_prefix p;

		tok = tt_config_trim(tok);
		if (*tok == '\0')
			continue;
		if (tt_config_parse_prefix(tok, &p) != 0) {
			bad(ld, key, v, line, "'%s' is not a prefix (address/length, host bits "
				"zero)", tok);
			continue;
		}
		p.sensor = ld->sensor;
		p.line = line;
		p.file = ld->file;
		rc = add_prefix(ld, &p);
		if (rc != 0)
			break;
	}
	free(copy);
	return rc;
}

static int
parse_prefixes_file(struct tt_config_loader *ld, const struct tt_config_key *key,
		void *base, const char *v, uint32_t line)
{
	RTE_SET_USED(base);
	if (*v == '\0')
		return 0;
	return load_prefixes_file(ld, key, v, line);
}

static const parse_fn parsers[TT_CONFIG_KEY_KIND_COUNT] = {
	[TT_CONFIG_KEY_WHOLE] = parse_whole,
	[TT_CONFIG_KEY_POW2] = parse_pow2,
	[TT_CONFIG_KEY_REAL] = parse_real,
	[TT_CONFIG_KEY_DURATION] = parse_duration,
	[TT_CONFIG_KEY_YES_NO] = parse_yes_no,
	[TT_CONFIG_KEY_CHOICE] = parse_choice,
	[TT_CONFIG_KEY_NAME] = parse_name,
	[TT_CONFIG_KEY_KEY_PREFIX] = parse_name,
	[TT_CONFIG_KEY_TEXT] = parse_text,
	[TT_CONFIG_KEY_OPTIONAL_TEXT] = parse_optional_text,
	[TT_CONFIG_KEY_HOST] = parse_host,
	[TT_CONFIG_KEY_ENDPOINTS] = parse_endpoints,
	[TT_CONFIG_KEY_COUNTRY] = parse_country,
	[TT_CONFIG_KEY_MMDB] = parse_mmdb,
	[TT_CONFIG_KEY_SECRET_FILE] = parse_secret_file,
	[TT_CONFIG_KEY_SERVICES] = parse_services,
	[TT_CONFIG_KEY_DPDK_PORT] = parse_dpdk_port,
	[TT_CONFIG_KEY_PREFIXES] = parse_prefixes,
	[TT_CONFIG_KEY_PREFIXES_FILE] = parse_prefixes_file,
};

/* --- the table --- */

const struct tt_config_section_def tt_config_sections[TT_CONFIG_SEC_COUNT] = {
	[TT_CONFIG_SEC_APPLIANCE] = { .name = "appliance", .required = true },
	[TT_CONFIG_SEC_REDIS] = { .name = "redis" },
	[TT_CONFIG_SEC_RETENTION] = { .name = "retention" },
	[TT_CONFIG_SEC_ALERTS] = { .name = "alerts" },
	[TT_CONFIG_SEC_SENSOR] = { .name = "sensor", .named = true },
};

/* Names in the order of the enums' values: a key stores the index. */
static const char *const clock_names[] = { "auto", "wall", "packet", NULL };
static const char *const location_names[] = { "domestic", "overseas", NULL };
_Static_assert(TT_CLOCK_AUTO == 0 && TT_CLOCK_WALL == 1 && TT_CLOCK_PACKET == 2,
	"clock_names[] follows enum tt_clock_mode");
_Static_assert(TT_LOCATION_DOMESTIC == 0 && TT_LOCATION_OVERSEAS == 1,
	"location_names[] follows enum tt_location");
_Static_assert(sizeof(enum tt_clock_mode) == sizeof(unsigned int) &&
	sizeof(enum tt_location) == sizeof(unsigned int), "a choice is stored as an unsigned int");

#define KEY(sec, key_name, key_kind, ...) { .section = TT_CONFIG_SEC_ ## sec, \
	.name = key_name, .kind = TT_CONFIG_KEY_ ## key_kind, __VA_ARGS__ }
/* the field a key sets, in struct tt_config or (in [sensor]) struct tt_sensor_conf */
#define CONF(member) .field = #member, .off = offsetof(struct tt_config, member), \
	.size = sizeof(((struct tt_config *)NULL)->member)
#define SENSOR(member) .field = #member, .off = offsetof(struct tt_sensor_conf, member), \
	.size = sizeof(((struct tt_sensor_conf *)NULL)->member)
#define RANGE(l, h) .lo = (l), .hi = (h)
#define CELLS RANGE(TT_CONFIG_MIN_CELLS, TT_CONFIG_MAX_CELLS), \
	.expect = "expected a power of two from %u to %u"
#define RETENTION RANGE(MIN_RETENTION_S, UINT32_MAX), \
	.expect = "expected a duration of at least %us (e.g. 90s, 15m, 2h, 7d)"
#define YES_NO_EXPECTED .expect = "expected yes or no"
/* [alerts]: a field of struct tt_alerts_conf, its range and unit */
#define ALERT_REAL(k, member, l, h, unit) KEY(ALERTS, k, REAL, CONF(alerts.member), \
	RANGE(l, h), .expect = "expected " unit " from %g to %g")
#define ALERT_WHOLE(k, member, l, h, unit) KEY(ALERTS, k, WHOLE, CONF(alerts.member), \
	RANGE(l, h), .expect = "expected a whole number of " unit " from %u to %u")

const struct tt_config_key tt_config_keys[] = {
	KEY(APPLIANCE, "id", NAME, CONF(id), RANGE(1, TT_CONFIG_NAME_MAX),
		.expect = "expected %u-%u of A-Z a-z 0-9 . _ -", .missing = "missing"),
	KEY(APPLIANCE, "home_country", COUNTRY, CONF(home_country), .missing = "missing",
		.expect = "not an ISO 3166-1 alpha-2 country code (upper case, e.g. JP)"),
	KEY(APPLIANCE, "clock", CHOICE, CONF(clock), .choices = clock_names,
		.expect = "expected auto, wall or packet"),
	KEY(APPLIANCE, "geoip_db", MMDB, CONF(geoip_db)),
	KEY(APPLIANCE, "asn_db", MMDB, CONF(asn_db)),
	KEY(APPLIANCE, "mirai_min_ports", WHOLE, CONF(mirai_min_ports), RANGE(1, TT_MAX_MIRAI_MIN_PORTS),
		.expect = "expected a whole number from %u to %u"),
	KEY(APPLIANCE, "watch_ports", SERVICES, CONF(watch_ports),
		.fallback = TT_DEFAULT_WATCH_PORTS),
	KEY(APPLIANCE, "port_cells", POW2, CONF(port_cells), CELLS),
	KEY(APPLIANCE, "country_cells", POW2, CONF(country_cells), CELLS),
	KEY(APPLIANCE, "rx_mbufs", WHOLE, CONF(rx_mbufs), RANGE(0, MAX_RX_MBUFS),
		.expect = "expected %u (sized from the queues) or up to %u mbufs"),
	KEY(APPLIANCE, "hll_cells", POW2, CONF(hll_cells), CELLS),
	KEY(APPLIANCE, "hll_sparse_sets", WHOLE, CONF(hll_sparse_sets), RANGE(1, 1 << 24),
		.expect = "expected a count from %u to %u"),
	KEY(APPLIANCE, "hll_dense_sets", WHOLE, CONF(hll_dense_sets), RANGE(0, 1 << 20),
		.expect = "expected a count from %u to %u"),
	KEY(APPLIANCE, "sources_max", POW2, CONF(sources_max), CELLS),
	KEY(APPLIANCE, "source_cells", POW2, CONF(source_cells), CELLS),

	KEY(REDIS, "enabled", YES_NO, CONF(redis_enabled), YES_NO_EXPECTED),
	KEY(REDIS, "host", HOST, CONF(redis_host), .expect = "empty"),
	KEY(REDIS, "unix", OPTIONAL_TEXT, CONF(redis_unix)),
	KEY(REDIS, "port", WHOLE, CONF(redis_port), RANGE(1, 65535),
		.expect = "expected a TCP port from %u to %u"),
	KEY(REDIS, "cluster", ENDPOINTS, CONF(redis_cluster)),
	KEY(REDIS, "user", OPTIONAL_TEXT, CONF(redis_user)),
	KEY(REDIS, "password_file", SECRET_FILE, CONF(redis_password_file)),
	KEY(REDIS, "prefix", KEY_PREFIX, CONF(redis_prefix), RANGE(1, TT_CONFIG_NAME_MAX),
		.expect = "expected %u-%u of A-Z a-z 0-9 . _ - :", .fallback = TT_DEFAULT_PREFIX),
	KEY(REDIS, "flush_interval_ms", WHOLE, CONF(flush_interval_ms), RANGE(10, 60000),
		.expect = "expected milliseconds from %u to %u"),
	KEY(REDIS, "backlog_max_mb", WHOLE, CONF(backlog_max_mb), RANGE(1, 1 << 20),
		.expect = "expected MiB from %u to %u"),
	KEY(REDIS, "final_flush_s", WHOLE, CONF(final_flush_s), RANGE(1, 86400),
		.expect = "expected seconds from %u to %u"),

	KEY(RETENTION, "minute", DURATION, CONF(retention_minute), RETENTION),
	KEY(RETENTION, "hour", DURATION, CONF(retention_hour), RETENTION),
	KEY(RETENTION, "day", DURATION, CONF(retention_day), RETENTION),
	KEY(RETENTION, "sources", DURATION, CONF(retention_sources), RETENTION),

	KEY(SENSOR, "port", DPDK_PORT, SENSOR(port), RANGE(0, TT_MAX_DPDK_PORT),
		.expect = "expected a DPDK port id from %u to %u",
		.missing = "missing (the DPDK port id that receives this sensor)"),
	KEY(SENSOR, "prefixes", PREFIXES, .repeatable = true),
	KEY(SENSOR, "prefixes_file", PREFIXES_FILE, .repeatable = true),
	KEY(SENSOR, "label", TEXT, SENSOR(label)),
	KEY(SENSOR, "location", CHOICE, SENSOR(location), .choices = location_names,
		.expect = "expected domestic or overseas"),

	KEY(ALERTS, "enabled", YES_NO, CONF(alerts_enabled), YES_NO_EXPECTED),
	ALERT_REAL("surge_min_score", min_score, 1, 300, "a score (-log10 of a probability)"),
	ALERT_REAL("surge_min_ratio", min_ratio, 1, 1000, "a ratio to the baseline"),
	ALERT_WHOLE("surge_min_pkts", min_pkts, 1, 1e9, "packets in a bucket"),
	ALERT_WHOLE("surge_min_srcs", min_srcs, 1, 1e9, "sources in a bucket"),
	ALERT_WHOLE("home_mirai_min_srcs", home_mirai_min_srcs, 1, 1e9, "sources in a bucket"),
	ALERT_REAL("broad_share", broad_share, 0.01, 1, "a share of the sensors"),
	ALERT_REAL("baseline_min", baseline_min, 0.01, 1e6, "packets or sources in a bucket"),
	ALERT_WHOLE("baseline_days", baseline_days, 1, 90, "days"),
	ALERT_WHOLE("level_minutes", level_minutes, 2, 1440, "minutes"),
	ALERT_WHOLE("level_hours", level_hours, 2, 168, "hours"),
	ALERT_WHOLE("warmup_hours", warmup_hours, 0, 720, "hours"),
	ALERT_WHOLE("cooldown_minutes", cooldown_minutes, 0, 43200, "minutes"),
	ALERT_REAL("realert_gain", realert_gain, 1, 1000, "a factor of the last score"),
	ALERT_WHOLE("rank_top_n", rank_top_n, 1, 1000, "places"),
	ALERT_WHOLE("rank_margin", rank_margin, 0, 1000, "places"),
	ALERT_WHOLE("rank_min_pkts", rank_min_pkts, 1, 1e9, "packets in the hour"),
	ALERT_REAL("rank_min_score", rank_min_score, 0, 300, "a score"),
	ALERT_WHOLE("rank_lookback_hours", rank_lookback_hours, 1, 720, "hours"),
	ALERT_WHOLE("rank_lookback_days", rank_lookback_days, 1, 90, "days"),
	ALERT_WHOLE("new_mirai_port_min_pkts", new_mirai_port_min_pkts, 1, 1e9,
		"packets in a bucket"),
	ALERT_WHOLE("new_mirai_port_min_srcs", new_mirai_port_min_srcs, 1, 1e9,
		"sources in a bucket"),
	ALERT_WHOLE("new_mirai_port_horizon_days", new_mirai_port_horizon_days, 1, 90, "days"),
	ALERT_WHOLE("max_subjects", max_subjects, 16, 1 << 20, "subjects a scope"),
	ALERT_WHOLE("max_victims", max_victims, 1, 1 << 20, "victims a day"),
};
const unsigned int tt_config_n_keys = RTE_DIM(tt_config_keys);
_Static_assert(RTE_DIM(tt_config_keys) <= TT_CONFIG_KEYS_MAX,
	"struct tt_config_loader remembers TT_CONFIG_KEYS_MAX keys");

const struct tt_config_key *
tt_config_key_find(enum tt_config_section section, const char *name)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(tt_config_keys); i++)
		if (tt_config_keys[i].section == section &&
				strcmp(tt_config_keys[i].name, name) == 0)
			return &tt_config_keys[i];
	return NULL;
}

int
tt_config_key_apply(struct tt_config_loader *ld, const struct tt_config_key *key,
		void *base, const char *value, uint32_t line)
{
	return parsers[key->kind](ld, key, base, value, line);
}

bool
tt_config_field_given(const struct tt_config_loader *ld, size_t off)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(tt_config_keys); i++)
		if (tt_config_keys[i].section != TT_CONFIG_SEC_SENSOR &&
				tt_config_keys[i].field != NULL && tt_config_keys[i].off == off &&
				ld->key_line[i] != 0)
			return true;
	return false;
}
