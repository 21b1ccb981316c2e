/*
 * shim_tcp.h: plain TCP for the suite's own use (spec/rpc.md, "Plain
 * TCP"): tcp-listen, tcp-accept, tcp-connect, tcp-addresses, tcp-close.
 * The ops are listed in ops_conn.c's table; the listener's wait, close
 * and free functions are declared in shim.h for the shim core.
 */
#ifndef SSLPORT_SHIM_TCP_H
#define SSLPORT_SHIM_TCP_H

#include "shim.h"

int shim_op_tcp_listen(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err);
int shim_op_tcp_accept(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err);
int shim_op_tcp_connect(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err);
int shim_op_tcp_addresses(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err);
int shim_op_tcp_close(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err);

/* Two or four values from an address record (ssl- and tcp-addresses). */
json_t *shim_addresses_values(const struct sslport_addresses *a, int numbers);

#endif /* SSLPORT_SHIM_TCP_H */
