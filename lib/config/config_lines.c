/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config file's lines: what rte_cfgfile would refuse or misread, and
 * where each section and entry stands. Control thread only; owned by the
 * loader (config.c), which calls tt_config_lines_read() once per load and
 * asks tt_config_lines_at() for the line of anything it reports.
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
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <rte_cfgfile.h>

#include "config_internal.h"

enum {
	/* rte_cfgfile 22.11 reads a line with fgets() into CFG_NAME_LEN +
	 * CFG_VALUE_LEN + 4 bytes and fails the load if no newline fits. */
	CFG_LINE_MAX = CFG_NAME_LEN + CFG_VALUE_LEN + 2,    /* 322, without '\n' */
	CFG_KEY_MAX = CFG_NAME_LEN - 1,                     /* 63: cut past it */
	CFG_VALUE_MAX = CFG_VALUE_LEN - 1,                  /* 255: cut past it */
};

/* 65534 sensors fit in a few MiB of config. */
#define CONFIG_FILE_MAX ((uint64_t)64 << 20)

static int
index_grow(struct tt_config_lines *x, uint32_t *cap_s, uint32_t *cap_e)
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

/* A problem on a line of the config file itself. */
static void __attribute__((format(printf, 3, 4)))
line_problem(struct tt_config_loader *ld, uint32_t lineno, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tt_config_problem(ld, ld->file, lineno, "%s", msg);
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
scan_config(struct tt_config_loader *ld, const char *text, size_t len, char *out,
		size_t *out_len)
{
	struct tt_config_lines *x = &ld->lines;
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

		s = tt_config_trim(lbuf);    /* stops at a NUL byte, as rte_cfgfile does */
		if (content > CFG_LINE_MAX) {
			line_problem(ld, lineno, "line is %zu characters (without its "
				"comment), longer than %d: rte_cfgfile refuses it (split long lists "
				"over several lines or use prefixes_file)", content, CFG_LINE_MAX);
			continue;
		}
		if (*s == '[') {
			char *close = strchr(s, ']'), *name;

			if (nul != NULL) {
				line_problem(ld, lineno, "%s: NUL byte at column %zu (a text "
					"file holds none)", s, (size_t)(nul - line) + 1);
				continue;
			}
			if (close == NULL) {
				line_problem(ld, lineno, "%s: section header without ']'", s);
				continue;
			}
			if (close[1] != '\0') {
				line_problem(ld, lineno, "%s: text after the closing ']' (a "
					"section header is [NAME] alone on its line)", s);
				continue;
			}
			*close = '\0';
			name = tt_config_trim(s + 1);
			if (strlen(name) > CFG_KEY_MAX) {
				line_problem(ld, lineno, "[%.*s...]: section name is %zu "
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
			line_problem(ld, lineno, "%s: entry outside any [section]", s);
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			if (nul != NULL)
				line_problem(ld, lineno, "[%s] %s: NUL byte at column %zu (a text "
					"file holds none)", section, s, (size_t)(nul - line) + 1);
			else
				line_problem(ld, lineno, "%s: expected 'key = value'", s);
			continue;
		}
		{
			char *key = s, *value = tt_config_trim(eq + 1);
			size_t vlen = strlen(value);
			const char *esc;

			*eq = '\0';
			key = tt_config_trim(key);
			/* "\;" reaches the value as ';' */
			for (esc = strstr(value, "\\;"); esc != NULL; esc = strstr(esc + 2, "\\;"))
				vlen--;
			if (nul != NULL) {
				line_problem(ld, lineno, "[%s] %s = %s: NUL byte at column %zu "
					"(a text file holds none; the value would end there)", section,
					key, value, (size_t)(nul - line) + 1);
				continue;
			}
			if (strlen(key) > CFG_KEY_MAX) {
				line_problem(ld, lineno, "[%s] %.*s...: key is %zu characters, "
					"longer than %d", section, SHOWN_VALUE, key, strlen(key),
					CFG_KEY_MAX);
				continue;
			}
			if (vlen > CFG_VALUE_MAX) {
				line_problem(ld, lineno, "[%s] %s = %.*s...: value is %zu "
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

void
tt_config_lines_free(struct tt_config_lines *x)
{
	free(x->section_line);
	free(x->first_entry);
	free(x->n_entries);
	free(x->entry_line);
	memset(x, 0, sizeof(*x));
}

uint32_t
tt_config_lines_at(const struct tt_config_lines *x, uint32_t sec, uint32_t entry)
{
	if (sec >= x->n_sections)
		return 0;
	if (entry >= x->n_entries[sec])
		return x->section_line[sec];
	return x->entry_line[x->first_entry[sec] + entry];
}

/* The file is read whole (a regular file, bounded); rte_cfgfile gets the
 * scanner's copy through a memfd. */
int
tt_config_lines_read(struct tt_config_loader *ld, struct rte_cfgfile **file)
{
	char why[160], fd_path[64];
	struct stat st;
	char *text, *out;
	size_t len, out_len = 0, done = 0;
	int rc, fd;

	rc = tt_config_slurp(ld->file, CONFIG_FILE_MAX, &st, &text, &len, why, sizeof(why));
	if (rc != 0) {
		if (rc != -ENOMEM)
			tt_config_problem(ld, ld->file, 0, "cannot read: %s", why);
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
		tt_config_problem(ld, ld->file, 0, "cannot read: memfd: %s", strerror(errno));
		goto out;
	}
	while (done < out_len) {
		ssize_t n = write(fd, out + done, out_len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			tt_config_problem(ld, ld->file, 0, "cannot read: memfd: %s", strerror(errno));
			close(fd);
			goto out;
		}
		done += (size_t)n;
	}
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fd);
	*file = rte_cfgfile_load(fd_path, CFG_FLAG_EMPTY_VALUES);
	if (*file == NULL) {
		tt_config_problem(ld, ld->file, 0, "rte_cfgfile cannot read it back from %s",
			fd_path);
		rc = -EINVAL;
	}
	close(fd);
out:
	free(out);
	return rc;
}
