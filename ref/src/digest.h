/*
 * digest.h: our own SHA-1 (RFC 3174) and MD5 (RFC 1321), used when
 * libcrypto cannot be loaded.
 */
#ifndef SSLPORT_DIGEST_H
#define SSLPORT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct sslport_sha1 {
	uint32_t h[5];
	uint64_t bytes;
	unsigned char block[64];
	size_t fill;
};

void sslport_sha1_init(struct sslport_sha1 *c);
void sslport_sha1_update(struct sslport_sha1 *c, const void *data, size_t n);
void sslport_sha1_final(struct sslport_sha1 *c, unsigned char out[20]);

struct sslport_md5 {
	uint32_t h[4];
	uint64_t bytes;
	unsigned char block[64];
	size_t fill;
};

void sslport_md5_init(struct sslport_md5 *c);
void sslport_md5_update(struct sslport_md5 *c, const void *data, size_t n);
void sslport_md5_final(struct sslport_md5 *c, unsigned char out[16]);

#endif /* SSLPORT_DIGEST_H */
