/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bob Jenkins' lookup3 hash of three 32-bit words (public domain algorithm),
 * used for the Maglev flow hash so it matches the kernel's jhash_3words.
 */
#ifndef FLG_LIB_JHASH_H
#define FLG_LIB_JHASH_H

#include <linux/types.h>

#define FLG_JHASH_INITVAL 0xdeadbeef

static __always_inline __u32 flg_rol32(__u32 word, unsigned int shift)
{
	return (word << shift) | (word >> ((-shift) & 31));
}

static __always_inline __u32 flg_jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	__u32 seed = initval + FLG_JHASH_INITVAL + (3 << 2);

	a += seed;
	b += seed;
	c += seed;
	/* lookup3 final mixing */
	c ^= b; c -= flg_rol32(b, 14);
	a ^= c; a -= flg_rol32(c, 11);
	b ^= a; b -= flg_rol32(a, 25);
	c ^= b; c -= flg_rol32(b, 16);
	a ^= c; a -= flg_rol32(c, 4);
	b ^= a; b -= flg_rol32(a, 14);
	c ^= b; c -= flg_rol32(b, 24);
	return c;
}

#endif /* FLG_LIB_JHASH_H */
