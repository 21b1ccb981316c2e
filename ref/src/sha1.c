/*
 * sha1.c: SHA-1 as RFC 3174 defines it, for when libcrypto is missing.
 */
#include <string.h>

#include "digest.h"

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static uint32_t
load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * The rounds of RFC 3174 section 6.1, unrolled.  The schedule lives in
 * 16 words (method 2, section 7): W(i) makes the word of round i >= 16
 * in place of the one 16 rounds old.  ROUND's five variables rotate
 * through its arguments instead of being moved.
 */
#define W(i)                                                                   \
	(w[(i)&15] = ROL(w[((i) + 13) & 15] ^ w[((i) + 8) & 15] ^              \
	         w[((i) + 2) & 15] ^ w[(i)&15],                                \
	     1))
#define ROUND(a, b, c, d, e, f, k, wi)                                         \
	do {                                                                   \
		e += ROL(a, 5) + (f) + (k) + (wi);                             \
		b = ROL(b, 30);                                                \
	} while (0)
#define F1(b, c, d) (d ^ (b & (c ^ d)))
#define F2(b, c, d) (b ^ c ^ d)
#define F3(b, c, d) ((b & c) | (d & (b | c)))

/* Five rounds, after which the variables are back in their places. */
#define FIVE(i, f, k, wf)                                                      \
	do {                                                                   \
		ROUND(a, b, c, d, e, f(b, c, d), k, wf(i));                    \
		ROUND(e, a, b, c, d, f(a, b, c), k, wf((i) + 1));              \
		ROUND(d, e, a, b, c, f(e, a, b), k, wf((i) + 2));              \
		ROUND(c, d, e, a, b, f(d, e, a), k, wf((i) + 3));              \
		ROUND(b, c, d, e, a, f(c, d, e), k, wf((i) + 4));              \
	} while (0)
#define W0(i) w[i]

static void
sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(p + 4 * i);
	FIVE(0, F1, 0x5a827999, W0);
	FIVE(5, F1, 0x5a827999, W0);
	FIVE(10, F1, 0x5a827999, W0);
	/* Round 15 reads w[15]; round 16 makes the first new word. */
	ROUND(a, b, c, d, e, F1(b, c, d), 0x5a827999, w[15]);
	ROUND(e, a, b, c, d, F1(a, b, c), 0x5a827999, W(16));
	ROUND(d, e, a, b, c, F1(e, a, b), 0x5a827999, W(17));
	ROUND(c, d, e, a, b, F1(d, e, a), 0x5a827999, W(18));
	ROUND(b, c, d, e, a, F1(c, d, e), 0x5a827999, W(19));
	for (i = 20; i < 40; i += 5)
		FIVE(i, F2, 0x6ed9eba1, W);
	for (i = 40; i < 60; i += 5)
		FIVE(i, F3, 0x8f1bbcdc, W);
	for (i = 60; i < 80; i += 5)
		FIVE(i, F2, 0xca62c1d6, W);
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void
sslport_sha1_init(struct sslport_sha1 *c)
{
	static const uint32_t iv[5] = {
	    0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};

	memcpy(c->h, iv, sizeof(iv));
	c->bytes = 0;
	c->fill = 0;
}

void
sslport_sha1_update(struct sslport_sha1 *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t k;

	c->bytes += n;
	while (n > 0) {
		if (c->fill == 0 && n >= 64) {
			sha1_block(c->h, p);
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
			sha1_block(c->h, c->block);
			c->fill = 0;
		}
	}
}

/* Pad with 0x80, zeros, and the bit length, big-endian (RFC 3174 4). */
void
sslport_sha1_final(struct sslport_sha1 *c, unsigned char out[20])
{
	uint64_t bits = c->bytes * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = c->fill < 56 ? 56 - c->fill : 120 - c->fill;
	int i;

	for (i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	sslport_sha1_update(c, pad, padlen + 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}
