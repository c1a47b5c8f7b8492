/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader and validator. Control thread only; needs no EAL.
 *
 * rte_cfgfile parses the INI layer, but it keeps no line numbers and has
 * limits it does not report well (a line over 322 bytes fails the whole
 * load, a value over 255 or a name over 63 is cut silently, a NUL byte ends
 * a value, a byte order mark hides the first section). So the loader reads
 * the file once, whole, and a scanner walks it with rte_cfgfile's rules
 * (';' starts a comment unless escaped, sections and entries in file order),
 * reports what rte_cfgfile would misread, with its line, and remembers where
 * each section and entry stands: section i of rte_cfgfile is the i-th header
 * in the file, and entry j of it is the j-th entry under that header.
 * rte_cfgfile then parses the scanner's copy of those same bytes (byte order
 * mark and comments dropped, a memfd), so the two can never disagree and a
 * comment may be of any length.
 */
#define _GNU_SOURCE                    /* memfd_create */
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
#include <sys/mman.h>
#include <sys/stat.h>

#include <rte_cfgfile.h>
#include <rte_common.h>
#include <maxminddb.h>

#include "tt_classify.h"

enum {
	/* rte_cfgfile 22.11 reads a line with fgets() into CFG_NAME_LEN +
	 * CFG_VALUE_LEN + 4 bytes and fails the load if no newline fits. */
	CFG_LINE_MAX = CFG_NAME_LEN + CFG_VALUE_LEN + 2,    /* 322, without '\n' */
	CFG_KEY_MAX = CFG_NAME_LEN - 1,                     /* 63: cut past it */
	CFG_VALUE_MAX = CFG_VALUE_LEN - 1,                  /* 255: cut past it */
	NAME_MAX_LEN = 64,
	MIN_CELLS = 1 << 10,
	MAX_CELLS = 1 << 24,
	MIN_RETENTION_S = 60,
	MAX_RX_MBUFS = 1 << 24,
	/* what the publisher reads of a password file (one line, fgets) */
	PASSWORD_MAX = 511,
	PASSWORD_FILE_MAX = 4096,
};

/*
 * Files read whole are bounded: 65534 sensors fit in a few MiB of config,
 * and ten million prefixes in a 256 MiB prefixes_file.
 */
#define CONFIG_FILE_MAX ((uint64_t)64 << 20)
#define PREFIXES_FILE_MAX ((uint64_t)256 << 20)

struct line_index {
	uint32_t n_sections;
	uint32_t *section_line;        /* [section] -> line of its header */
	uint32_t *first_entry;         /* [section] -> index into entry_line */
	uint32_t *n_entries;
	uint32_t *entry_line;
	uint32_t n_entries_total;
};

struct loader {
	struct tt_config *cfg;
	const char *file;              /* the config file, as given */
	tt_config_report_cb report;
	void *ctx;
	unsigned int problems;
	struct line_index idx;
	const char *section;           /* current section while applying keys */
	uint32_t section_no;
	uint32_t prefix_capacity;
	/* keys seen, valid or not: a bad value is one problem, not also "missing" */
	bool id_seen;
	bool hll_dense_seen;
	bool hll_sparse_seen;
	bool hll_cells_seen;
	bool country_cells_seen;
	bool home_country_seen;
	bool port_seen;
	unsigned int prefix_problems;  /* reported by this sensor's prefix keys */
	uint32_t empty_file_line;      /* this sensor's last prefixes_file without one */
	const char *empty_file_value;
	uint32_t sensor_sections;
};

static void
problem(struct loader *ld, const char *file, uint32_t line, const char *fmt, ...)
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

static char *
trim(char *s)
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
static int
open_regular(const char *path, uint64_t max, struct stat *st, char *why, size_t len)
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
 * Reads a file opened by open_regular() whole, up to @p max bytes (it may
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

/* open_regular() and read_whole() together. */
static int
slurp(const char *path, uint64_t max, struct stat *st, char **text, size_t *len,
		char *why, size_t whylen)
{
	int fd = open_regular(path, max, st, why, whylen);
	int rc;

	if (fd < 0)
		return fd;
	rc = read_whole(fd, max, text, len, why, whylen);
	if (rc == -ENOMEM)
		snprintf(why, whylen, "%s", strerror(ENOMEM));
	close(fd);
	return rc;
}

static int
index_grow(struct line_index *x, uint32_t *cap_s, uint32_t *cap_e)
{
	if (x->n_sections == *cap_s) {
		uint32_t *a, *b, *d;

		*cap_s *= 2;
		a = realloc(x->section_line, *cap_s * sizeof(uint32_t));
		if (a != NULL)
			x->section_line = a;
		b = realloc(x->first_entry, *cap_s * sizeof(uint32_t));
		if (b != NULL)
			x->first_entry = b;
		d = realloc(x->n_entries, *cap_s * sizeof(uint32_t));
		if (d != NULL)
			x->n_entries = d;
		if (a == NULL || b == NULL || d == NULL)
			return -ENOMEM;
	}
	if (x->n_entries_total == *cap_e) {
		uint32_t *a;

		*cap_e *= 2;
		a = realloc(x->entry_line, *cap_e * sizeof(uint32_t));
		if (a == NULL)
			return -ENOMEM;
		x->entry_line = a;
	}
	return 0;
}

/* A long value in a message: its start is enough to find it. */
#define SHOWN_VALUE 48

/*
 * Walk the config text as rte_cfgfile will, one pass: index sections and
 * entries, report what rte_cfgfile would reject or misread with its line,
 * and append to @p out what rte_cfgfile is to parse (each line up to its
 * comment, so a comment of any length passes).
 * @return 0 or -ENOMEM; problems are counted in ld->problems.
 */
static int
scan_config(struct loader *ld, const char *text, size_t len, char *out, size_t *out_len)
{
	struct line_index *x = &ld->idx;
	const char *p = text, *end = text + len;
	uint32_t cap_s = 16, cap_e = 64, lineno = 0;
	char section[CFG_NAME_LEN] = "";
	size_t cap_line = 512, o = 0;
	char *lbuf = malloc(cap_line);
	int rc = 0;

	x->section_line = malloc(cap_s * sizeof(uint32_t));
	x->first_entry = malloc(cap_s * sizeof(uint32_t));
	x->n_entries = malloc(cap_s * sizeof(uint32_t));
	x->entry_line = malloc(cap_e * sizeof(uint32_t));
	if (!lbuf || !x->section_line || !x->first_entry || !x->n_entries || !x->entry_line) {
		rc = -ENOMEM;
		goto out;
	}
	/* Editors on some systems start UTF-8 text with a byte order mark. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p < end && rc == 0; ) {
		const char *line = p, *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char *nul = memchr(p, '\0', n), *semi = memchr(p, ';', n);
		size_t content = n;
		char *s, *eq;

		lineno++;
		/* rte_cfgfile: the first ';' starts a comment unless it is "\;" */
		if (semi != NULL && (semi == p || semi[-1] != '\\'))
			content = (size_t)(semi - p);
		if (content + 1 > cap_line) {
			char *b = realloc(lbuf, content + 1);

			if (b == NULL) {
				rc = -ENOMEM;
				break;
			}
			lbuf = b;
			cap_line = content + 1;
		}
		memcpy(lbuf, p, content);
		lbuf[content] = '\0';
		memcpy(out + o, p, content);
		o += content;
		out[o++] = '\n';
		p += n + (nl != NULL);

		s = trim(lbuf);              /* stops at a NUL byte, as rte_cfgfile does */
		if (content > CFG_LINE_MAX) {
			problem(ld, ld->file, lineno, "line is %zu characters (without its "
				"comment), longer than %d: rte_cfgfile refuses it (split long lists "
				"over several lines or use prefixes_file)", content, CFG_LINE_MAX);
			continue;
		}
		if (*s == '[') {
			char *close = strchr(s, ']'), *name;

			if (nul != NULL) {
				problem(ld, ld->file, lineno, "%s: NUL byte at column %zu (a text "
					"file holds none)", s, (size_t)(nul - line) + 1);
				continue;
			}
			if (close == NULL) {
				problem(ld, ld->file, lineno, "%s: section header without ']'", s);
				continue;
			}
			if (close[1] != '\0') {
				problem(ld, ld->file, lineno, "%s: text after the closing ']' (a "
					"section header is [NAME] alone on its line)", s);
				continue;
			}
			*close = '\0';
			name = trim(s + 1);
			if (strlen(name) > CFG_KEY_MAX) {
				problem(ld, ld->file, lineno, "[%.*s...]: section name is %zu "
					"characters, longer than %d", SHOWN_VALUE, name, strlen(name),
					CFG_KEY_MAX);
				continue;
			}
			snprintf(section, sizeof(section), "%s", name);
			rc = index_grow(x, &cap_s, &cap_e);
			if (rc != 0)
				break;
			x->section_line[x->n_sections] = lineno;
			x->first_entry[x->n_sections] = x->n_entries_total;
			x->n_entries[x->n_sections] = 0;
			x->n_sections++;
			continue;
		}
		if (*s == '\0' && nul == NULL)
			continue;
		if (x->n_sections == 0) {
			problem(ld, ld->file, lineno, "%s: entry outside any [section]", s);
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			if (nul != NULL)
				problem(ld, ld->file, lineno, "[%s] %s: NUL byte at column %zu (a text "
					"file holds none)", section, s, (size_t)(nul - line) + 1);
			else
				problem(ld, ld->file, lineno, "%s: expected 'key = value'", s);
			continue;
		}
		{
			char *key = s, *value = trim(eq + 1);
			size_t vlen = strlen(value);
			const char *esc;

			*eq = '\0';
			key = trim(key);
			/* "\;" reaches the value as ';' */
			for (esc = strstr(value, "\\;"); esc != NULL; esc = strstr(esc + 2, "\\;"))
				vlen--;
			if (nul != NULL) {
				problem(ld, ld->file, lineno, "[%s] %s = %s: NUL byte at column %zu "
					"(a text file holds none; the value would end there)", section,
					key, value, (size_t)(nul - line) + 1);
				continue;
			}
			if (strlen(key) > CFG_KEY_MAX) {
				problem(ld, ld->file, lineno, "[%s] %.*s...: key is %zu characters, "
					"longer than %d", section, SHOWN_VALUE, key, strlen(key),
					CFG_KEY_MAX);
				continue;
			}
			if (vlen > CFG_VALUE_MAX) {
				problem(ld, ld->file, lineno, "[%s] %s = %.*s...: value is %zu "
					"characters, longer than %d: rte_cfgfile would cut it (repeat "
					"the key, or use prefixes_file)", section, key, SHOWN_VALUE, value,
					vlen, CFG_VALUE_MAX);
				continue;
			}
		}
		rc = index_grow(x, &cap_s, &cap_e);
		if (rc != 0)
			break;
		x->entry_line[x->n_entries_total++] = lineno;
		x->n_entries[x->n_sections - 1]++;
	}
	*out_len = o;
out:
	free(lbuf);
	return rc;
}

static void
index_free(struct line_index *x)
{
	free(x->section_line);
	free(x->first_entry);
	free(x->n_entries);
	free(x->entry_line);
	memset(x, 0, sizeof(*x));
}

static uint32_t
entry_line(const struct loader *ld, uint32_t sec, uint32_t entry)
{
	const struct line_index *x = &ld->idx;

	if (sec >= x->n_sections)
		return 0;
	if (entry >= x->n_entries[sec])
		return x->section_line[sec];
	return x->entry_line[x->first_entry[sec] + entry];
}

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

static bool
is_name(const char *s, size_t max, bool allow_colon)
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

static int
set_string(char **dst, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
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
	return set_string(dst, value);
}

static const char *
add_file_name(struct tt_config *cfg, const char *name)
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

static int
add_prefix(struct loader *ld, const struct tt_prefix *p)
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

/* "a, b, c": one prefix per comma-separated item. */
static int
add_prefix_list(struct loader *ld, const char *value, uint16_t sensor,
		const char *file, uint32_t line, const char *key)
{
	char *copy = strdup(value), *save = NULL, *tok;
	int rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
			tok = strtok_r(NULL, ",", &save)) {
		struct tt_prefix p;

		tok = trim(tok);
		if (*tok == '\0')
			continue;
		if (tt_config_parse_prefix(tok, &p) != 0) {
			problem(ld, file, line, "[%s] %s = %s: '%s' is not a prefix "
				"(address/length, host bits zero)", ld->section, key, value, tok);
			continue;
		}
		p.sensor = sensor;
		p.line = line;
		p.file = file;
		rc = add_prefix(ld, &p);
		if (rc != 0)
			break;
	}
	free(copy);
	return rc;
}

/* A path in the config is relative to the config file's folder. */
static void
config_relative(const struct loader *ld, const char *value, char *path, size_t len)
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
load_prefixes_file(struct loader *ld, const char *value, uint16_t sensor, uint32_t line)
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
	rc = slurp(path, PREFIXES_FILE_MAX, &st, &text, &len, why, sizeof(why));
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		problem(ld, ld->file, line, "[%s] prefixes_file = %s: cannot read %s: %s",
			ld->section, value, path, why);
		return 0;
	}
	file = add_file_name(ld->cfg, path);
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
			problem(ld, file, lineno, "prefix = %s: NUL byte at column %zu (a text "
				"file holds none)", trim(l), (size_t)(nul - l) + 1);
			continue;
		}
		if (hash != NULL)
			*hash = '\0';
		s = trim(l);
		if (*s == '\0')
			continue;
		if (tt_config_parse_prefix(s, &pfx) != 0) {
			problem(ld, file, lineno, "prefix = %s: not a prefix "
				"(address/length, host bits zero)", s);
			continue;
		}
		pfx.sensor = sensor;
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
check_mmdb(struct loader *ld, uint32_t line, const char *key, const char *value,
		const char *path)
{
	/* name the resolved path only when it differs from what was written */
	bool relative = strcmp(path, value) != 0;
	char why[160];
	struct stat st;
	MMDB_s db;
	int fd, status;

	fd = open_regular(path, UINT64_MAX, &st, why, sizeof(why));
	if (fd < 0) {
		problem(ld, ld->file, line, "[%s] %s = %s: %s%s%s", ld->section, key, value,
			relative ? path : "", relative ? ": " : "", why);
		return;
	}
	close(fd);
	status = MMDB_open(path, MMDB_MODE_MMAP, &db);
	if (status != MMDB_SUCCESS) {
		problem(ld, ld->file, line, "[%s] %s = %s: not a MaxMind DB: %s",
			ld->section, key, value, MMDB_strerror(status));
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
check_password_file(struct loader *ld, uint32_t line, const char *k, const char *v,
		const char *path)
{
	bool relative = strcmp(path, v) != 0;
	char why[4352];         /* holds the path */
	struct stat st;
	char *text;
	size_t len, n;
	int rc;

	rc = slurp(path, PASSWORD_FILE_MAX, &st, &text, &len, why, sizeof(why));
	if (rc != 0)
		goto bad;
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
bad:
	problem(ld, ld->file, line, "[%s] %s = %s: %s%s%s", ld->section, k, v,
		relative ? path : "", relative ? ": " : "", why);
}

static void
parse_watch_ports(struct loader *ld, uint32_t line, const char *value)
{
	struct tt_config *cfg = ld->cfg;
	char *copy = strdup(value), *save = NULL, *tok;
	uint32_t i;

	cfg->n_watch_ports = 0;
	if (copy == NULL)
		return;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
			tok = strtok_r(NULL, ",", &save)) {
		uint32_t svc;
		bool dup = false;

		tok = trim(tok);
		if (*tok == '\0')
			continue;
		if (tt_classify_service_parse(tok, &svc) != 0) {
			problem(ld, ld->file, line, "[%s] watch_ports = %s: '%s' is not a "
				"service (tcp/N, udp/N, icmp, icmp6, ip/N)", ld->section, value, tok);
			continue;
		}
		for (i = 0; i < cfg->n_watch_ports; i++)
			dup |= cfg->watch_ports[i] == svc;
		if (dup) {
			problem(ld, ld->file, line, "[%s] watch_ports = %s: '%s' listed twice",
				ld->section, value, tok);
			continue;
		}
		if (cfg->n_watch_ports == TT_MAX_WATCH_PORTS) {
			problem(ld, ld->file, line, "[%s] watch_ports = %s: more than %d services",
				ld->section, value, TT_MAX_WATCH_PORTS);
			break;
		}
		cfg->watch_ports[cfg->n_watch_ports++] = svc;
	}
	free(copy);
}

/* --- sections --- */

struct key_rule {
	const char *key;
	bool repeatable;
};

static const struct key_rule appliance_keys[] = {
	{ "id", false }, { "home_country", false }, { "clock", false },
	{ "geoip_db", false }, { "asn_db", false }, { "mirai_min_ports", false },
	{ "watch_ports", false }, { "port_cells", false }, { "country_cells", false },
	{ "rx_mbufs", false }, { "hll_cells", false }, { "hll_sparse_sets", false },
	{ "hll_dense_sets", false }, { "sources_max", false }, { "source_cells", false },
	{ NULL, false },
};
static const struct key_rule redis_keys[] = {
	{ "enabled", false }, { "host", false }, { "unix", false }, { "port", false }, { "user", false },
	{ "password_file", false }, { "prefix", false }, { "flush_interval_ms", false },
	{ "backlog_max_mb", false }, { "final_flush_s", false }, { NULL, false },
};
static const struct key_rule retention_keys[] = {
	{ "minute", false }, { "hour", false }, { "day", false }, { "sources", false },
	{ NULL, false },
};
static const struct key_rule sensor_keys[] = {
	{ "port", false }, { "prefixes", true }, { "prefixes_file", true },
	{ "label", false }, { "location", false }, { NULL, false },
};
/* [alerts]: each key a field of struct tt_alerts_conf, with its range. */
static const struct alerts_key {
	const char *key;
	size_t off;
	bool real;                     /* double; else uint32_t */
	double lo, hi;
	const char *unit;
} alerts_fields[] = {
#define AK(k, f, real, lo, hi, unit) { k, offsetof(struct tt_alerts_conf, f), real, lo, hi, unit }
	AK("surge_min_score", min_score, true, 1, 300, "a score (-log10 of a probability)"),
	AK("surge_min_ratio", min_ratio, true, 1, 1000, "a ratio to the baseline"),
	AK("surge_min_pkts", min_pkts, false, 1, 1e9, "packets in a bucket"),
	AK("surge_min_srcs", min_srcs, false, 1, 1e9, "sources in a bucket"),
	AK("home_mirai_min_srcs", home_mirai_min_srcs, false, 1, 1e9, "sources in a bucket"),
	AK("broad_share", broad_share, true, 0.01, 1, "a share of the sensors"),
	AK("baseline_min", baseline_min, true, 0.01, 1e6, "packets or sources in a bucket"),
	AK("baseline_days", baseline_days, false, 1, 90, "days"),
	AK("level_minutes", level_minutes, false, 2, 1440, "minutes"),
	AK("level_hours", level_hours, false, 2, 168, "hours"),
	AK("warmup_hours", warmup_hours, false, 0, 720, "hours"),
	AK("cooldown_minutes", cooldown_minutes, false, 0, 43200, "minutes"),
	AK("realert_gain", realert_gain, true, 1, 1000, "a factor of the last score"),
	AK("rank_top_n", rank_top_n, false, 1, 1000, "places"),
	AK("rank_margin", rank_margin, false, 0, 1000, "places"),
	AK("rank_min_pkts", rank_min_pkts, false, 1, 1e9, "packets in the hour"),
	AK("rank_min_score", rank_min_score, true, 0, 300, "a score"),
	AK("rank_lookback_hours", rank_lookback_hours, false, 1, 720, "hours"),
	AK("rank_lookback_days", rank_lookback_days, false, 1, 90, "days"),
	AK("new_mirai_port_min_pkts", new_mirai_port_min_pkts, false, 1, 1e9,
		"packets in a bucket"),
	AK("new_mirai_port_min_srcs", new_mirai_port_min_srcs, false, 1, 1e9,
		"sources in a bucket"),
	AK("new_mirai_port_horizon_days", new_mirai_port_horizon_days, false, 1, 90, "days"),
	AK("max_subjects", max_subjects, false, 16, 1 << 20, "subjects a scope"),
	AK("max_victims", max_victims, false, 1, 1 << 20, "victims a day"),
#undef AK
};
static const struct key_rule alerts_keys[] = {
	{ "enabled", false },
	{ "surge_min_score", false }, { "surge_min_ratio", false }, { "surge_min_pkts", false },
	{ "surge_min_srcs", false }, { "home_mirai_min_srcs", false }, { "broad_share", false },
	{ "baseline_min", false }, { "baseline_days", false }, { "level_minutes", false },
	{ "level_hours", false }, { "warmup_hours", false }, { "cooldown_minutes", false },
	{ "realert_gain", false }, { "rank_top_n", false }, { "rank_margin", false },
	{ "rank_min_pkts", false }, { "rank_min_score", false }, { "rank_lookback_hours", false },
	{ "rank_lookback_days", false }, { "new_mirai_port_min_pkts", false },
	{ "new_mirai_port_min_srcs", false }, { "new_mirai_port_horizon_days", false },
	{ "max_subjects", false }, { "max_victims", false },
	{ NULL, false },
};

/*
 * Checks a section's keys: unknown keys and duplicates are problems.
 * @return true if entry e may be applied.
 */
static bool
key_allowed(struct loader *ld, const struct key_rule *rules,
		const struct rte_cfgfile_entry *entries, int e)
{
	const struct key_rule *r;
	int j;

	for (r = rules; r->key != NULL; r++)
		if (strcmp(r->key, entries[e].name) == 0)
			break;
	if (r->key == NULL) {
		problem(ld, ld->file, entry_line(ld, ld->section_no, e),
			"[%s] %s = %s: unknown key", ld->section, entries[e].name,
			entries[e].value);
		return false;
	}
	if (r->repeatable)
		return true;
	for (j = 0; j < e; j++) {
		if (strcmp(entries[j].name, entries[e].name) == 0) {
			problem(ld, ld->file, entry_line(ld, ld->section_no, e),
				"[%s] %s = %s: duplicate key (first at line %u)",
				ld->section, entries[e].name, entries[e].value,
				entry_line(ld, ld->section_no, j));
			return false;
		}
	}
	return true;
}

#define BAD(fmt, ...) problem(ld, ld->file, line, "[%s] %s = %s: " fmt, \
	ld->section, k, v, ##__VA_ARGS__)

static int
apply_appliance(struct loader *ld, const char *k, const char *v, uint32_t line)
{
	struct tt_config *cfg = ld->cfg;

	if (strcmp(k, "id") == 0) {
		ld->id_seen = true;
		if (!is_name(v, NAME_MAX_LEN, false))
			BAD("expected 1-%d of A-Z a-z 0-9 . _ -", NAME_MAX_LEN);
		else
			return set_string(&cfg->id, v);
	} else if (strcmp(k, "home_country") == 0) {
		ld->home_country_seen = true;
		if (!tt_classify_country_is_assigned(v))
			BAD("not an ISO 3166-1 alpha-2 country code (upper case, e.g. JP)");
		else
			memcpy(cfg->home_country, v, 3);
	} else if (strcmp(k, "clock") == 0) {
		if (strcmp(v, "auto") == 0)
			cfg->clock = TT_CLOCK_AUTO;
		else if (strcmp(v, "wall") == 0)
			cfg->clock = TT_CLOCK_WALL;
		else if (strcmp(v, "packet") == 0)
			cfg->clock = TT_CLOCK_PACKET;
		else
			BAD("expected auto, wall or packet");
	} else if (strcmp(k, "geoip_db") == 0 || strcmp(k, "asn_db") == 0) {
		char path[4096];

		if (*v == '\0')
			return set_optional_string(k[0] == 'g' ? &cfg->geoip_db : &cfg->asn_db, v);
		config_relative(ld, v, path, sizeof(path));
		check_mmdb(ld, line, k, v, path);
		return set_string(k[0] == 'g' ? &cfg->geoip_db : &cfg->asn_db, path);
	} else if (strcmp(k, "mirai_min_ports") == 0) {
		if (parse_u32(v, 1, 32, &cfg->mirai_min_ports) != 0)
			BAD("expected a whole number from 1 to 32");
	} else if (strcmp(k, "watch_ports") == 0) {
		parse_watch_ports(ld, line, v);
	} else if (strcmp(k, "rx_mbufs") == 0) {
		if (parse_u32(v, 0, MAX_RX_MBUFS, &cfg->rx_mbufs) != 0)
			BAD("expected 0 (sized from the queues) or up to %d mbufs", MAX_RX_MBUFS);
	} else if (strcmp(k, "hll_sparse_sets") == 0) {
		ld->hll_sparse_seen = true;
		if (parse_u32(v, 1, 1 << 24, &cfg->hll_sparse_sets) != 0)
			BAD("expected a count from 1 to %d", 1 << 24);
	} else if (strcmp(k, "hll_dense_sets") == 0) {
		ld->hll_dense_seen = true;
		if (parse_u32(v, 0, 1 << 20, &cfg->hll_dense_sets) != 0)
			BAD("expected a count from 0 to %d", 1 << 20);
	} else if (strcmp(k, "port_cells") == 0 || strcmp(k, "country_cells") == 0 ||
			strcmp(k, "hll_cells") == 0 || strcmp(k, "sources_max") == 0 ||
			strcmp(k, "source_cells") == 0) {
		uint32_t *dst;

		ld->country_cells_seen |= k[0] == 'c';
		ld->hll_cells_seen |= k[0] == 'h';
		dst = k[0] == 'p' ? &cfg->port_cells :
			k[0] == 'c' ? &cfg->country_cells : k[0] == 'h' ? &cfg->hll_cells :
			strcmp(k, "sources_max") == 0 ? &cfg->sources_max : &cfg->source_cells;

		if (parse_u32(v, MIN_CELLS, MAX_CELLS, dst) != 0 || (*dst & (*dst - 1)) != 0)
			BAD("expected a power of two from %d to %d", MIN_CELLS, MAX_CELLS);
	}
	return 0;
}

static int
apply_redis(struct loader *ld, const char *k, const char *v, uint32_t line)
{
	struct tt_config *cfg = ld->cfg;
	uint32_t n;

	if (strcmp(k, "enabled") == 0) {
		if (strcmp(v, "yes") == 0)
			cfg->redis_enabled = true;
		else if (strcmp(v, "no") == 0)
			cfg->redis_enabled = false;
		else
			BAD("expected yes or no");
	} else if (strcmp(k, "host") == 0) {
		if (*v == '\0')
			BAD("empty");
		else
			return set_string(&cfg->redis_host, v);
	} else if (strcmp(k, "unix") == 0) {
		return set_optional_string(&cfg->redis_unix, v);
	} else if (strcmp(k, "port") == 0) {
		if (parse_u32(v, 1, 65535, &n) != 0)
			BAD("expected a TCP port from 1 to 65535");
		else
			cfg->redis_port = (uint16_t)n;
	} else if (strcmp(k, "user") == 0) {
		return set_optional_string(&cfg->redis_user, v);
	} else if (strcmp(k, "password_file") == 0) {
		char path[4096];

		if (*v == '\0')
			return set_optional_string(&cfg->redis_password_file, v);
		config_relative(ld, v, path, sizeof(path));
		check_password_file(ld, line, k, v, path);
		return set_string(&cfg->redis_password_file, path);
	} else if (strcmp(k, "prefix") == 0) {
		if (!is_name(v, NAME_MAX_LEN, true))
			BAD("expected 1-%d of A-Z a-z 0-9 . _ - :", NAME_MAX_LEN);
		else
			return set_string(&cfg->redis_prefix, v);
	} else if (strcmp(k, "flush_interval_ms") == 0) {
		if (parse_u32(v, 10, 60000, &cfg->flush_interval_ms) != 0)
			BAD("expected milliseconds from 10 to 60000");
	} else if (strcmp(k, "backlog_max_mb") == 0) {
		if (parse_u32(v, 1, 1 << 20, &cfg->backlog_max_mb) != 0)
			BAD("expected MiB from 1 to %d", 1 << 20);
	} else if (strcmp(k, "final_flush_s") == 0) {
		if (parse_u32(v, 1, 86400, &cfg->final_flush_s) != 0)
			BAD("expected seconds from 1 to 86400");
	}
	return 0;
}

static int
apply_retention(struct loader *ld, const char *k, const char *v, uint32_t line)
{
	struct tt_config *cfg = ld->cfg;
	uint32_t s, *dst;

	if (strcmp(k, "minute") == 0)
		dst = &cfg->retention_minute;
	else if (strcmp(k, "hour") == 0)
		dst = &cfg->retention_hour;
	else if (strcmp(k, "day") == 0)
		dst = &cfg->retention_day;
	else
		dst = &cfg->retention_sources;
	if (tt_config_parse_duration(v, &s) != 0 || s < MIN_RETENTION_S)
		BAD("expected a duration of at least %ds (e.g. 90s, 15m, 2h, 7d)",
			MIN_RETENTION_S);
	else
		*dst = s;
	return 0;
}

static int
apply_sensor(struct loader *ld, struct tt_sensor_conf *sc, uint16_t index,
		const char *k, const char *v, uint32_t line)
{
	uint32_t n;

	if (strcmp(k, "port") == 0) {
		ld->port_seen = true;
		sc->port_line = line;
		if (parse_u32(v, 0, TT_MAX_DPDK_PORT, &n) != 0)
			BAD("expected a DPDK port id from 0 to %d", TT_MAX_DPDK_PORT);
		else
			sc->port = (uint16_t)n;
	} else if (strcmp(k, "prefixes") == 0) {
		return add_prefix_list(ld, v, index, ld->file, line, k);
	} else if (strcmp(k, "prefixes_file") == 0) {
		if (*v != '\0')
			return load_prefixes_file(ld, v, index, line);
	} else if (strcmp(k, "label") == 0) {
		return set_string(&sc->label, v);
	} else if (strcmp(k, "location") == 0) {
		if (strcmp(v, "domestic") == 0)
			sc->location = TT_LOCATION_DOMESTIC;
		else if (strcmp(v, "overseas") == 0)
			sc->location = TT_LOCATION_OVERSEAS;
		else
			BAD("expected domestic or overseas");
	}
	return 0;
}

static int
apply_alerts(struct loader *ld, const char *k, const char *v, uint32_t line)
{
	struct tt_config *cfg = ld->cfg;
	const struct alerts_key *ak;
	unsigned int i;

	if (strcmp(k, "enabled") == 0) {
		if (strcmp(v, "yes") == 0)
			cfg->alerts_enabled = true;
		else if (strcmp(v, "no") == 0)
			cfg->alerts_enabled = false;
		else
			BAD("expected yes or no");
		return 0;
	}
	for (i = 0; i < RTE_DIM(alerts_fields); i++)
		if (strcmp(alerts_fields[i].key, k) == 0)
			break;
	if (i == RTE_DIM(alerts_fields))
		return 0;                 /* key_allowed() let through only known keys */
	ak = &alerts_fields[i];
	if (ak->real) {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		/* digits only: no "inf", "nan" or hex floats */
		if (*v < '0' || *v > '9' || errno != 0 || *end != '\0' || end == v ||
				!(d >= ak->lo && d <= ak->hi))
			BAD("expected %s from %g to %g", ak->unit, ak->lo, ak->hi);
		else
			*(double *)((char *)&cfg->alerts + ak->off) = d;
	} else {
		uint32_t n;

		if (parse_u32(v, (uint32_t)ak->lo, (uint32_t)ak->hi, &n) != 0)
			BAD("expected a whole number of %s from %u to %u", ak->unit,
				(uint32_t)ak->lo, (uint32_t)ak->hi);
		else
			*(uint32_t *)((char *)&cfg->alerts + ak->off) = n;
	}
	return 0;
}

#undef BAD

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
check_overlaps(struct loader *ld)
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
			problem(ld, p->file, p->line, "[sensor %s] prefixes = %s/%u: overlaps "
				"%s/%u of sensor %s (%s:%u)",
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

static int
fill_string_defaults(struct tt_config *cfg)
{
	int rc = 0;

	if (cfg->redis_host == NULL && cfg->redis_unix == NULL)
		rc |= set_string(&cfg->redis_host, TT_DEFAULT_REDIS_HOST);
	if (cfg->redis_prefix == NULL)
		rc |= set_string(&cfg->redis_prefix, TT_DEFAULT_PREFIX);
	return rc != 0 ? -ENOMEM : 0;
}

static int
apply_sections(struct loader *ld, struct rte_cfgfile *file)
{
	struct tt_config *cfg = ld->cfg;
	struct rte_cfgfile_entry *entries = NULL;
	uint32_t seen_line[4] = { 0 };   /* appliance, redis, retention, alerts */
	static const char *const singles[4] = { "appliance", "redis", "retention", "alerts" };
	bool watch_set = false;
	int n_sec, s, rc = 0;

	n_sec = rte_cfgfile_num_sections(file, NULL, 0);
	for (s = 0; s < n_sec && rc == 0; s++) {
		char name[CFG_NAME_LEN];
		uint32_t line = entry_line(ld, (uint32_t)s, UINT32_MAX);
		const struct key_rule *rules = NULL;
		struct tt_sensor_conf *sc = NULL;
		uint16_t sensor_index = 0;
		int n, e, single = -1, i;

		n = rte_cfgfile_section_num_entries_by_index(file, name, s);
		if (n < 0) {
			rc = -EINVAL;
			break;
		}
		ld->section = name;
		ld->section_no = (uint32_t)s;
		for (i = 0; i < 4; i++)
			if (strcmp(name, singles[i]) == 0)
				single = i;
		if (single >= 0) {
			if (seen_line[single] != 0) {
				problem(ld, ld->file, line, "[%s]: duplicate section (first at line %u)",
					name, seen_line[single]);
				continue;
			}
			seen_line[single] = line;
			rules = single == 0 ? appliance_keys : single == 1 ? redis_keys :
				single == 2 ? retention_keys : alerts_keys;
		} else if (strncmp(name, "sensor ", 7) == 0) {
			const char *sname = trim(name + 7);
			uint32_t j;

			ld->sensor_sections++;
			ld->port_seen = false;
			ld->prefix_problems = 0;
			ld->empty_file_line = 0;

			if (!is_name(sname, TT_SENSOR_NAME_MAX, false) ||
					strcmp(sname, "all") == 0 || strcmp(sname, "src") == 0) {
				problem(ld, ld->file, line, "[%s]: sensor name must be 1-%d of "
					"A-Z a-z 0-9 . _ - and not 'all' or 'src'", name,
					TT_SENSOR_NAME_MAX);
				continue;
			}
			for (j = 0; j < cfg->n_sensors; j++)
				if (strcmp(cfg->sensors[j].name, sname) == 0)
					break;
			if (j < cfg->n_sensors) {
				problem(ld, ld->file, line, "[%s]: duplicate sensor (first at line %u)",
					name, cfg->sensors[j].line);
				continue;
			}
			if (cfg->n_sensors == TT_MAX_SENSORS) {
				problem(ld, ld->file, line, "[%s]: more than %d sensors", name,
					TT_MAX_SENSORS);
				continue;
			}
			sc = realloc(cfg->sensors, (cfg->n_sensors + 1) * sizeof(*sc));
			if (sc == NULL) {
				rc = -ENOMEM;
				break;
			}
			cfg->sensors = sc;
			sensor_index = (uint16_t)cfg->n_sensors++;
			sc = &cfg->sensors[sensor_index];
			memset(sc, 0, sizeof(*sc));
			snprintf(sc->name, sizeof(sc->name), "%s", sname);
			sc->line = line;
			sc->port = UINT16_MAX;
			rules = sensor_keys;
		} else {
			problem(ld, ld->file, line, "[%s]: unknown section (expected appliance, "
				"redis, retention, alerts or sensor NAME)", name);
			continue;
		}

		free(entries);
		entries = calloc((size_t)(n > 0 ? n : 1), sizeof(*entries));
		if (entries == NULL) {
			rc = -ENOMEM;
			break;
		}
		n = rte_cfgfile_section_entries_by_index(file, s, name, entries, n);
		for (e = 0; e < n && rc == 0; e++) {
			const char *k = entries[e].name, *v = entries[e].value;
			uint32_t eline = entry_line(ld, (uint32_t)s, (uint32_t)e);

			if (!key_allowed(ld, rules, entries, e))
				continue;
			if (rules == appliance_keys) {
				watch_set |= strcmp(k, "watch_ports") == 0;
				rc = apply_appliance(ld, k, v, eline);
			} else if (rules == redis_keys) {
				rc = apply_redis(ld, k, v, eline);
			} else if (rules == retention_keys) {
				rc = apply_retention(ld, k, v, eline);
			} else if (rules == alerts_keys) {
				rc = apply_alerts(ld, k, v, eline);
			} else if (rules == sensor_keys) {
				unsigned int before = ld->problems;

				/* re-take: realloc above may have moved the array */
				sc = &cfg->sensors[sensor_index];
				rc = apply_sensor(ld, sc, sensor_index, k, v, eline);
				if (strncmp(k, "prefixes", 8) == 0)
					ld->prefix_problems += ld->problems - before;
			}
		}
		if (sc != NULL) {
			uint32_t j, count = 0;

			sc = &cfg->sensors[sensor_index];
			for (j = 0; j < cfg->n_prefixes; j++)
				count += cfg->prefixes[j].sensor == sensor_index;
			if (!ld->port_seen)
				problem(ld, ld->file, line, "[%s] port: missing (the DPDK port id "
					"that receives this sensor)", name);
			/* a bad prefix was reported already; an empty file names itself */
			if (count == 0 && ld->prefix_problems == 0 && ld->empty_file_line != 0)
				problem(ld, ld->file, ld->empty_file_line, "[%s] prefixes_file = %s: "
					"no prefix in it (empty, or only comments), and the sensor has "
					"no other", name, ld->empty_file_value);
			else if (count == 0 && ld->prefix_problems == 0)
				problem(ld, ld->file, line, "[%s] prefixes: missing (no darknet "
					"prefix for this sensor)", name);
			if (sc->label == NULL)
				rc = set_string(&sc->label, sc->name);
		}
	}
	free(entries);
	if (rc != 0)
		return rc;

	if (seen_line[0] == 0) {
		problem(ld, ld->file, 1, "[appliance]: missing section");
	} else {
		if (!ld->id_seen)
			problem(ld, ld->file, seen_line[0], "[appliance] id: missing");
		if (!ld->home_country_seen)
			problem(ld, ld->file, seen_line[0], "[appliance] home_country: missing");
	}
	if (ld->sensor_sections == 0)
		problem(ld, ld->file, 1, "no [sensor NAME] section: nothing to observe");
	if (cfg->redis_host != NULL && cfg->redis_unix != NULL)
		problem(ld, ld->file, seen_line[1], "[redis] host and unix: set one, not both");
	if (!watch_set) {
		ld->section = "appliance";
		parse_watch_ports(ld, seen_line[0], TT_DEFAULT_WATCH_PORTS);
	}
	rc = fill_string_defaults(cfg);
	if (rc == 0)
		rc = check_overlaps(ld);
	return rc;
}

/*
 * Read the config whole (a regular file, bounded), scan it, and hand
 * rte_cfgfile the scanner's copy through a memfd.
 * @return 0, -EINVAL (problems reported), -errno when it cannot be read.
 */
static int
read_config(struct loader *ld, struct rte_cfgfile **file)
{
	char why[160], fd_path[64];
	struct stat st;
	char *text, *out;
	size_t len, out_len = 0, done = 0;
	int rc, fd;

	rc = slurp(ld->file, CONFIG_FILE_MAX, &st, &text, &len, why, sizeof(why));
	if (rc != 0) {
		if (rc != -ENOMEM)
			problem(ld, ld->file, 0, "cannot read: %s", why);
		return rc;
	}
	/* each line's text up to its comment, and a '\n' the last may lack */
	out = malloc(len + 2);
	if (out == NULL) {
		free(text);
		return -ENOMEM;
	}
	rc = scan_config(ld, text, len, out, &out_len);
	free(text);
	/* what the scanner found, rte_cfgfile would reject or misread */
	if (rc == 0 && ld->problems != 0)
		rc = -EINVAL;
	if (rc != 0)
		goto out;
	fd = memfd_create("teiten.conf", MFD_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		problem(ld, ld->file, 0, "cannot read: memfd: %s", strerror(errno));
		goto out;
	}
	while (done < out_len) {
		ssize_t n = write(fd, out + done, out_len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			problem(ld, ld->file, 0, "cannot read: memfd: %s", strerror(errno));
			close(fd);
			goto out;
		}
		done += (size_t)n;
	}
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fd);
	*file = rte_cfgfile_load(fd_path, CFG_FLAG_EMPTY_VALUES);
	if (*file == NULL) {
		problem(ld, ld->file, 0, "rte_cfgfile cannot read it back from %s", fd_path);
		rc = -EINVAL;
	}
	close(fd);
out:
	free(out);
	return rc;
}

/* The larger of a pool's default and @p each a sensor (a power of two for cells). */
static uint32_t
per_sensor(uint32_t fallback, uint32_t n_sensors, uint32_t each, bool power_of_two)
{
	uint64_t want = (uint64_t)n_sensors * each;

	if (power_of_two)
		want = rte_align64pow2(want);
	if (want > MAX_CELLS)
		want = MAX_CELLS;
	return want > fallback ? (uint32_t)want : fallback;
}

int
tt_config_load(struct tt_config *cfg, const char *path,
		tt_config_report_cb report, void *ctx)
{
	struct loader ld = { .cfg = cfg, .report = report, .ctx = ctx };
	struct rte_cfgfile *file = NULL;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	cfg->path = strdup(path);
	ld.file = add_file_name(cfg, path);
	if (cfg->path == NULL || ld.file == NULL) {
		rc = -ENOMEM;
		goto err_free_config;
	}
	rc = read_config(&ld, &file);
	if (rc != 0)
		goto err_free_index;
	rc = apply_sections(&ld, file);
	if (rc == 0 && ld.problems != 0)
		rc = -EINVAL;
	if (rc != 0)
		goto err_close_file;
	/*
	 * Unless given, the worker pools grow with the sensors. With 4096
	 * sensors a flood made the 512 dense HLL sets run out and drop 31M
	 * register updates in 5 s, and its country cells overflow (counted, but
	 * the figures then undercount).
	 */
	{
		const struct {
			bool given;
			uint32_t *pool;
			uint32_t each;
			bool power_of_two;     /* a table's capacity */
		} grow[] = {
			{ ld.hll_dense_seen, &cfg->hll_dense_sets, TT_HLL_DENSE_PER_SENSOR, false },
			{ ld.hll_sparse_seen, &cfg->hll_sparse_sets, TT_HLL_SPARSE_PER_SENSOR, false },
			{ ld.hll_cells_seen, &cfg->hll_cells, TT_HLL_CELLS_PER_SENSOR, true },
			{ ld.country_cells_seen, &cfg->country_cells, TT_COUNTRY_CELLS_PER_SENSOR,
				true },
		};
		unsigned int g;

		for (g = 0; g < RTE_DIM(grow); g++)
			if (!grow[g].given)
				*grow[g].pool = per_sensor(*grow[g].pool, cfg->n_sensors,
					grow[g].each, grow[g].power_of_two);
	}
	rte_cfgfile_close(file);
	index_free(&ld.idx);
	return 0;

err_close_file:
	rte_cfgfile_close(file);
err_free_index:
	index_free(&ld.idx);
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
	free(cfg->redis_user);
	free(cfg->redis_password_file);
	free(cfg->redis_prefix);
	memset(cfg, 0, sizeof(*cfg));
}
