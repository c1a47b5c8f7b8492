/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_TEST_EAL_RUNTIME_H
#define TT_TEST_EAL_RUNTIME_H

/*
 * rte_eal_cleanup() leaves the run's runtime folder (/var/run/dpdk/<prefix>)
 * behind; a test that picked a prefix of its own removes it as well, so test
 * runs do not pile folders up. Call instead of rte_eal_cleanup().
 */

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

static inline void
eal_cleanup_and_remove_runtime_dir(void)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(dir);
}

#endif /* TT_TEST_EAL_RUNTIME_H */
