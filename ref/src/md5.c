/*
 * md5.c: MD5 as RFC 1321 defines it, for when libcrypto is missing.
 */
#include <string.h>

#include "digest.h"

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

/* Per-round shift amounts and the sine-derived constants (RFC 1321 3.4). */
static const unsigned char shifts[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12,
    17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
    20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static const uint32_t sines[64] = {0xd76aa478, 0xe8c7b756, 0x242070db,
    0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501, 0x698098d8,
    0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e,
    0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
    0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87,
    0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942,
    0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60,
    0xbebfbc70, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039,
    0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244, 0x432aff97, 0xab9423a7,
    0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1, 0x6fa87e4f,
    0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
    0xeb86d391};

/* The four auxiliary functions of RFC 1321 section 3.4. */
#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define I(x, y, z) ((y) ^ ((x) | ~(z)))

/* Step i, taking message word g; the variables rotate through the
 * arguments instead of being moved. */
#define STEP(f, a, b, c, d, i, g)                                              \
	a = b + ROL(a + f(b, c, d) + sines[i] + m[g], shifts[i])

/* Four steps of one round, each with its message word. */
#define FOUR(f, i, g0, g1, g2, g3)                                             \
	do {                                                                   \
		STEP(f, a, b, c, d, i, g0);                                    \
		STEP(f, d, a, b, c, (i) + 1, g1);                              \
		STEP(f, c, d, a, b, (i) + 2, g2);                              \
		STEP(f, b, c, d, a, (i) + 3, g3);                              \
	} while (0)

static void
md5_block(uint32_t h[4], const unsigned char *p)
{
	uint32_t m[16], a = h[0], b = h[1], c = h[2], d = h[3];
	int i;

	for (i = 0; i < 16; i++)
		m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	FOUR(F, 0, 0, 1, 2, 3);
	FOUR(F, 4, 4, 5, 6, 7);
	FOUR(F, 8, 8, 9, 10, 11);
	FOUR(F, 12, 12, 13, 14, 15);
	FOUR(G, 16, 1, 6, 11, 0);
	FOUR(G, 20, 5, 10, 15, 4);
	FOUR(G, 24, 9, 14, 3, 8);
	FOUR(G, 28, 13, 2, 7, 12);
	FOUR(H, 32, 5, 8, 11, 14);
	FOUR(H, 36, 1, 4, 7, 10);
	FOUR(H, 40, 13, 0, 3, 6);
	FOUR(H, 44, 9, 12, 15, 2);
	FOUR(I, 48, 0, 7, 14, 5);
	FOUR(I, 52, 12, 3, 10, 1);
	FOUR(I, 56, 8, 15, 6, 13);
	FOUR(I, 60, 4, 11, 2, 9);
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
}

void
sslport_md5_init(struct sslport_md5 *c)
{
	static const uint32_t iv[4] = {
	    0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

	memcpy(c->h, iv, sizeof(iv));
	c->bytes = 0;
	c->fill = 0;
}

void
sslport_md5_update(struct sslport_md5 *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t k;

	c->bytes += n;
	while (n > 0) {
		if (c->fill == 0 && n >= 64) {
			md5_block(c->h, p);
			p += 64;
			n -= 64;
			continue;
		}
		k = 64 - c->fill < n ? 64 - c->fill : n;
		memcpy(c->block + c->fill, p, k);
		c->fill += k;
		p += k;
		n -= k;
		if (c->fill == 64) {
			md5_block(c->h, c->block);
			c->fill = 0;
		}
	}
}

/* As SHA-1's padding, but the length is little-endian (RFC 1321 3.2). */
void
sslport_md5_final(struct sslport_md5 *c, unsigned char out[16])
{
	uint64_t bits = c->bytes * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = c->fill < 56 ? 56 - c->fill : 120 - c->fill;
	int i;

	for (i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (8 * i));
	sslport_md5_update(c, pad, padlen + 8);
	for (i = 0; i < 16; i++)
		out[i] = (unsigned char)(c->h[i / 4] >> (8 * (i % 4)));
}
