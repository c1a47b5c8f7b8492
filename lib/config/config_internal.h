/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_CONFIG_INTERNAL_H
#define TT_CONFIG_INTERNAL_H

/*
 * What the files of lib/config share; only they and test_config.c include it.
 * Control thread only, like the whole module.
 *
 *   config.c          the loader: reads files, walks sections and entries,
 *                     finds each key's row, cross-checks, defaults, free
 *   config_keys.c     the key table (one row per key) and its value parsers
 *   config_lines.c    the scanner: rte_cfgfile's limits checked line by line,
 *                     and the index from (section, entry) to a line number
 *   config_sizing.c   worker pools grown with the number of sensors
 *   config_reload.c   a reloaded config against the running one
 *
 * One struct tt_config_loader lives on tt_config_load()'s stack for one load;
 * every file writes into it, none keeps a pointer to it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "tt_config.h"

struct rte_cfgfile;

enum {
	TT_CONFIG_NAME_MAX = 64,       /* [appliance] id, [redis] prefix */
	TT_CONFIG_MIN_CELLS = 1 << 10,
	TT_CONFIG_MAX_CELLS = 1 << 24,
	TT_CONFIG_KEYS_MAX = 96,       /* rows the table may grow to */
};

/* The sections, in the order their names are listed in the table. */
enum tt_config_section {
	TT_CONFIG_SEC_APPLIANCE,
	TT_CONFIG_SEC_REDIS,
	TT_CONFIG_SEC_RETENTION,
	TT_CONFIG_SEC_ALERTS,
	TT_CONFIG_SEC_SENSOR,          /* [sensor NAME], once per sensor */
	TT_CONFIG_SEC_COUNT,
};

/*
 * How a key's value is read and what its field is (the field's size says
 * whether TT_CONFIG_KEY_WHOLE stores a uint32_t or a uint16_t).
 */
enum tt_config_key_kind {
	TT_CONFIG_KEY_WHOLE,           /* a whole number in [lo, hi] */
	TT_CONFIG_KEY_POW2,            /* a power of two in [lo, hi], uint32_t */
	TT_CONFIG_KEY_REAL,            /* digits first, in [lo, hi], double */
	TT_CONFIG_KEY_DURATION,        /* 90s, 15m, 2h, 7d, at least lo seconds, uint32_t */
	TT_CONFIG_KEY_YES_NO,          /* bool */
	TT_CONFIG_KEY_CHOICE,          /* one of choices[], stored as its index in an enum */
	TT_CONFIG_KEY_NAME,            /* lo-hi of A-Z a-z 0-9 . _ -, char * */
	TT_CONFIG_KEY_KEY_PREFIX,      /* a NAME that may also hold ':', char * */
	TT_CONFIG_KEY_TEXT,            /* anything, char * */
	TT_CONFIG_KEY_OPTIONAL_TEXT,   /* anything; empty leaves it NULL, char * */
	TT_CONFIG_KEY_HOST,            /* anything but empty, char * */
	TT_CONFIG_KEY_ENDPOINTS,       /* host:port[,host:port...], char * */
	TT_CONFIG_KEY_COUNTRY,         /* an assigned ISO 3166-1 alpha-2 code, char[3] */
	TT_CONFIG_KEY_MMDB,            /* a MaxMind DB's path, or empty for none, char * */
	TT_CONFIG_KEY_SECRET_FILE,     /* a private file's path, or empty, char * */
	TT_CONFIG_KEY_SERVICES,        /* watch_ports[] (and n_watch_ports) */
	TT_CONFIG_KEY_DPDK_PORT,       /* a port id in [lo, hi], uint16_t (and port_line) */
	TT_CONFIG_KEY_PREFIXES,        /* appends to tt_config.prefixes: no field */
	TT_CONFIG_KEY_PREFIXES_FILE,   /* appends a file's prefixes: no field */
	TT_CONFIG_KEY_KIND_COUNT,
};

/*
 * One row per key. The loader finds a key's row by (section, name) and hands
 * the value to the parser of its kind, which writes the row's field of the
 * section's struct: struct tt_config, or struct tt_sensor_conf in [sensor].
 */
struct tt_config_key {
	enum tt_config_section section;
	const char *name;
	enum tt_config_key_kind kind;
	bool repeatable;               /* each line adds; else a second is a duplicate */
	/* required: "[section] key: <missing>" when absent; NULL: optional */
	const char *missing;
	/* parsed as if written on the section's line when the key is absent */
	const char *fallback;
	const char *field;             /* the member, as written (NULL: no field) */
	size_t off;
	size_t size;
	double lo, hi;                 /* the range, where the kind has one */
	/* a bad value's reason: a format given (lo, hi) as %u, or %g for REAL */
	const char *expect;
	const char *const *choices;    /* TT_CONFIG_KEY_CHOICE: names, NULL-terminated */
};

struct tt_config_section_def {
	const char *name;
	bool named;                    /* "[name NAME]": one section a NAME */
	bool required;                 /* "[name]: missing section" when absent */
};

extern const struct tt_config_key tt_config_keys[];
extern const unsigned int tt_config_n_keys;
extern const struct tt_config_section_def tt_config_sections[TT_CONFIG_SEC_COUNT];

/*
 * Where each section header and each entry stands in the config file.
 * config_lines.c fills and frees it; config.c reads it for the line of
 * anything it reports.
 */
struct tt_config_lines {
	uint32_t n_sections;
	uint32_t *section_line;        /* [section] -> line of its header */
	uint32_t *first_entry;         /* [section] -> index into entry_line */
	uint32_t *n_entries;
	uint32_t *entry_line;
	uint32_t n_entries_total;
};

struct tt_config_loader {
	struct tt_config *cfg;
	const char *file;              /* the config file, as given */
	tt_config_report_cb report;
	void *ctx;
	unsigned int problems;
	struct tt_config_lines lines;
	const char *section;           /* current section's name while applying keys */
	uint16_t sensor;               /* current sensor's index in [sensor NAME] */
	uint32_t prefix_capacity;
	/* [row] line where the key was first given in its section (0: not given);
	 * a bad value counts as given: one problem, not also "missing" */
	uint32_t key_line[TT_CONFIG_KEYS_MAX];
	unsigned int prefix_problems;  /* reported by this sensor's prefix keys */
	uint32_t empty_file_line;      /* this sensor's last prefixes_file without one */
	const char *empty_file_value;
};

/* config.c: reporting, text and file helpers */
void tt_config_problem(struct tt_config_loader *ld, const char *file, uint32_t line,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
char *tt_config_trim(char *s);
int tt_config_open_regular(const char *path, uint64_t max, struct stat *st, char *why,
		size_t len);
int tt_config_slurp(const char *path, uint64_t max, struct stat *st, char **text,
		size_t *len, char *why, size_t whylen);
int tt_config_set_string(char **dst, const char *value);
const char *tt_config_add_file_name(struct tt_config *cfg, const char *name);

/* config_keys.c */
/** 1-@p max of A-Z a-z 0-9 . _ - (and ':' if @p allow_colon)? */
bool tt_config_is_name(const char *s, size_t max, bool allow_colon);
/** @return the row of @p name in @p section, or NULL: an unknown key. */
const struct tt_config_key *tt_config_key_find(enum tt_config_section section,
		const char *name);
/** Parse @p value for @p key into @p base (the section's struct). @return 0 or -ENOMEM. */
int tt_config_key_apply(struct tt_config_loader *ld, const struct tt_config_key *key,
		void *base, const char *value, uint32_t line);
/** Was a key that sets this field of struct tt_config given? */
bool tt_config_field_given(const struct tt_config_loader *ld, size_t off);

/* config_lines.c */
/**
 * Read the config file whole, check and index its lines, and open the
 * checked copy with rte_cfgfile.
 * @return 0, -EINVAL (problems reported), -errno when it cannot be read.
 */
int tt_config_lines_read(struct tt_config_loader *ld, struct rte_cfgfile **file);
/** The line of entry @p entry of section @p sec; UINT32_MAX: the header's. */
uint32_t tt_config_lines_at(const struct tt_config_lines *x, uint32_t sec, uint32_t entry);
void tt_config_lines_free(struct tt_config_lines *x);

/* config_sizing.c */
void tt_config_size_pools(const struct tt_config_loader *ld, struct tt_config *cfg);

#endif /* TT_CONFIG_INTERNAL_H */
