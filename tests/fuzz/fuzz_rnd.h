/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_FUZZ_RND_H
#define TT_FUZZ_RND_H

/*
 * The mutation drivers' random numbers: xorshift64 from a fixed seed, so a
 * failing run is the same run again. (Under libFuzzer, libFuzzer mutates.)
 */

#include <stdint.h>

static uint64_t rnd_state = 42;

static inline uint32_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)rnd_state;
}

#endif /* TT_FUZZ_RND_H */
