/*
 * Client TLS vhosts made on first need (tls_client.c): a wss:// session's
 * vhost with an OpenSSL context we own. A loop that only ever speaks
 * ws:// never initialises OpenSSL.
 */
#ifndef SCN_TLS_CLIENT_H
#define SCN_TLS_CLIENT_H

#include <libwebsockets.h>

#include "io.h" /* SCN_LWS_TIMEOUT_S */
#include "log.h"

typedef struct scn_tls_vhost {
    struct lws_vhost *vhost;
    SSL_CTX *ssl_ctx; /* ours: lws does not free a provided context */
} scn_tls_vhost;

/* Makes a client vhost on ctx whose connections verify the server against
 * the system trust store plus ca_file (if set), and present cert_file with
 * key_file (if set; without key_file the key is read from cert_file).
 * Returns 0 or SCN_ERR_TLS (files unreadable or not matching, logged) or
 * SCN_ERR_NOMEM; *out is untouched on failure. */
int scn__tls_vhost_new(struct lws_context *ctx, const char *name,
                       const struct lws_protocols *protocols,
                       const scn_logger *log, const char *ca_file,
                       const char *cert_file, const char *key_file,
                       scn_tls_vhost *out);

/* Destroys the vhost, then drops our reference to its context (connections
 * still closing hold their own). Safe on a zeroed or freed one. */
void scn__tls_vhost_free(scn_tls_vhost *t);

#endif
