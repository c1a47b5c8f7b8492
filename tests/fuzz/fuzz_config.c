/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader robustness: any bytes as a config file must give either a
 * valid config or problems, never a crash, a leak or a hang. Each input is
 * written to a file in a private folder, loaded with tt_config_load() and
 * freed, under AddressSanitizer (with leak detection) and
 * UndefinedBehaviorSanitizer. The folder also holds "prefixes.txt", so inputs
 * naming it as a relative prefixes_file reach that reader too.
 * Invariants checked on every load: it succeeds exactly when no problem was
 * reported; every problem line is "file:line: ..."; a loaded config's
 * prefixes are IPv4 or IPv6 with a length that fits and belong to a sensor
 * that exists, and its sensor names are set and terminated.
 *
 * Two drivers share the checks. Built with -DTT_LIBFUZZER and clang's
 * -fsanitize=fuzzer (meson -Dfuzzing=true, scripts/fuzz), libFuzzer feeds
 * LLVMFuzzerTestOneInput and a violation aborts with the invariant's name, so
 * libFuzzer saves the input. Otherwise main() mutates the config files it is
 * given (lines dropped, repeated, swapped or cut, bytes changed), and a
 * violation fails the run after printing the first few inputs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tt_config.h"

static char dir[64];
static char conf_path[96];
static unsigned long violations;

struct reports {
	unsigned int n;
	const char *bad;       /* first broken invariant seen in a line */
};

static void
on_problem(void *ctx, const char *line)
{
	struct reports *r = ctx;
	const char *colon = strchr(line, ':');

	r->n++;
	/* "file:line: ...": a file name, then a line number. */
	if (colon == NULL || colon == line || colon[1] < '0' || colon[1] > '9')
		r->bad = "a problem line is file:line: ...";
}

static void
violation(const char *invariant, const uint8_t *data, size_t size)
{
	violations++;
#ifdef TT_LIBFUZZER
	(void)data;
	(void)size;
	fprintf(stderr, "fuzz_config: invariant violated: %s\n", invariant);
	abort();
#else
	if (violations > 5)
		return;
	fprintf(stderr, "fuzz_config: invariant violated: %s; the input:\n%.*s\n---\n",
		invariant, (int)size, (const char *)data);
#endif
}

static void
remove_dir(void)
{
	char path[96];

	if (dir[0] == '\0')
		return;
	unlink(conf_path);
	snprintf(path, sizeof(path), "%s/prefixes.txt", dir);
	unlink(path);
	rmdir(dir);
}

static void
setup_dir(void)
{
	static const char prefixes[] =
		"# a comment\n192.0.2.0/25\n\n2001:db8:1::/64 # trailing\n198.51.100.0/24\n";
	char path[96];
	FILE *f;

	if (dir[0] != '\0')
		return;
	snprintf(dir, sizeof(dir), "/tmp/tt_fuzz_config.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	/* libFuzzer ends a bounded run with exit() */
	atexit(remove_dir);
	snprintf(conf_path, sizeof(conf_path), "%s/teiten.conf", dir);
	snprintf(path, sizeof(path), "%s/prefixes.txt", dir);
	f = fopen(path, "w");
	if (f == NULL || fwrite(prefixes, 1, sizeof(prefixes) - 1, f) != sizeof(prefixes) - 1 ||
			fclose(f) != 0) {
		perror(path);
		abort();
	}
}

static void
load_checked(const uint8_t *data, size_t size)
{
	struct reports r = { 0, NULL };
	struct tt_config cfg;
	uint32_t i;
	FILE *f;
	int rc;

	setup_dir();
	f = fopen(conf_path, "w");
	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(conf_path);
		abort();
	}
	rc = tt_config_load(&cfg, conf_path, on_problem, &r);
	if (r.bad != NULL)
		violation(r.bad, data, size);
	if (rc == 0 && r.n != 0)
		violation("a config with problems is not loaded", data, size);
	if (rc == -EINVAL && r.n == 0)
		violation("a config refused names a problem", data, size);
	if (rc == 0) {
		for (i = 0; i < cfg.n_sensors; i++)
			if (cfg.sensors[i].name[0] == '\0' ||
					memchr(cfg.sensors[i].name, '\0',
						sizeof(cfg.sensors[i].name)) == NULL)
				violation("every sensor has a name", data, size);
		for (i = 0; i < cfg.n_prefixes; i++) {
			const struct tt_prefix *p = &cfg.prefixes[i];

			if (p->sensor >= cfg.n_sensors)
				violation("every prefix belongs to a sensor", data, size);
			if (!((p->family == 4 && p->len <= 32) ||
					(p->family == 6 && p->len <= 128)))
				violation("a prefix is IPv4 or IPv6 of a length that fits",
					data, size);
		}
	}
	tt_config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_checked(data, size);
	return 0;
}

#ifndef TT_LIBFUZZER
#include "fuzz_rnd.h"

struct text {
	char *b;
	size_t len, cap;
};

static void
append(struct text *t, const char *s, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2;
		t->b = realloc(t->b, t->cap);
		if (t->b == NULL)
			abort();
	}
	memcpy(t->b + t->len, s, n);
	t->len += n;
}

/* Line i of a seed: its start and length (with the newline). */
struct line {
	const char *s;
	size_t n;
};

static size_t
split_lines(const struct text *seed, struct line *lines, size_t max)
{
	size_t n = 0, at = 0;

	while (at < seed->len && n < max) {
		const char *nl = memchr(seed->b + at, '\n', seed->len - at);
		size_t end = nl != NULL ? (size_t)(nl - seed->b) + 1 : seed->len;

		lines[n].s = seed->b + at;
		lines[n].n = end - at;
		n++;
		at = end;
	}
	return n;
}

/* One mutant: the seed's lines, some dropped, repeated, swapped or cut
 * short, then a few bytes changed. */
static void
mutate(const struct line *lines, size_t n, struct text *out)
{
	static const char extremes[] = "\0\n\r;#=[]/ \t\xff";
	size_t i, k, flips;

	out->len = 0;
	for (i = 0; i < n; i++) {
		struct line l = lines[i];

		switch (rnd() % 16) {
		case 0:
			continue;                            /* dropped */
		case 1:
			append(out, l.s, l.n);               /* repeated */
			break;
		case 2:
			l = lines[rnd() % n];                /* another line instead */
			break;
		case 3:
			l.n = rnd() % (l.n + 1);             /* cut short */
			break;
		default:
			break;
		}
		append(out, l.s, l.n);
	}
	if (out->len == 0)
		return;
	flips = rnd() % 4;
	for (k = 0; k < flips; k++) {
		size_t at = rnd() % out->len;

		if (rnd() & 1)
			out->b[at] ^= (char)(1 << (rnd() % 8));
		else
			out->b[at] = extremes[rnd() % (sizeof(extremes) - 1)];
	}
}

static int
read_seed(const char *path, struct text *t)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		append(t, buf, n);
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long iterations, it = 0;
	struct text out = { NULL, 0, 0 };
	int a;

	if (argc < 3) {
		fprintf(stderr, "usage: %s ITERATIONS SEED.conf...\n", argv[0]);
		return 2;
	}
	iterations = strtoul(argv[1], NULL, 10);
	for (a = 2; a < argc; a++) {
		struct text seed = { NULL, 0, 0 };
		static struct line lines[4096];
		unsigned long per_seed = iterations / (unsigned long)(argc - 2), i;
		size_t n;

		if (read_seed(argv[a], &seed) != 0)
			return 2;
		/* The seed itself first: a file that must load without a crash. */
		load_checked((const uint8_t *)seed.b, seed.len);
		n = split_lines(&seed, lines, 4096);
		for (i = 0; i < per_seed && n > 0; i++, it++) {
			mutate(lines, n, &out);
			load_checked((const uint8_t *)out.b, out.len);
		}
		free(seed.b);
	}
	free(out.b);
	printf("%lu mutated configs loaded, %lu invariant violations\n", it, violations);
	printf("checks: %d passed, %d failed\n", violations == 0, violations != 0);
	return violations == 0 ? 0 : 1;
}
#endif
