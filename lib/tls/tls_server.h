/*
 * Server-side TLS with OpenSSL over memory buffers: the adapter hands in
 * the bytes a socket delivered and writes out the bytes produced here, so
 * the TLS state never touches a socket and libwebsockets carries only
 * ciphertext (its raw sockets). One scn_tls_server per listening port
 * holds the certificate and key; one scn_tls_conn per connection.
 */
#ifndef SCN_TLS_SERVER_H
#define SCN_TLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

typedef struct scn_tls_server scn_tls_server;
typedef struct scn_tls_conn scn_tls_conn;

/* Loads a PEM certificate chain and its private key. The key file must
 * not be readable by group or others. Returns 0, SCN_ERR_TLS (the log
 * says why), SCN_ERR_NOMEM. */
int scn__tls_server_new(const scn_logger *log, const char *cert_file,
                        const char *key_file, scn_tls_server **out);
/* NULL is allowed. Connections still open keep what they need. */
void scn__tls_server_free(scn_tls_server *t);

scn_tls_conn *scn__tls_conn_new(scn_tls_server *t);
void scn__tls_conn_free(scn_tls_conn *tc);

/* Ciphertext from the peer. Returns 0 or SCN_ERR_NOMEM. */
int scn__tls_conn_feed(scn_tls_conn *tc, const void *in, size_t n);
/* Advances the handshake and decrypts: returns plaintext bytes (> 0), 0
 * (nothing more for now), SCN_ERR_PEER_CLOSED (the peer's close_notify)
 * or SCN_ERR_TLS (a failed handshake or a corrupt record). */
int scn__tls_conn_read(scn_tls_conn *tc, unsigned char *out, size_t cap);
/* Whether the handshake is complete. */
bool scn__tls_conn_ready(const scn_tls_conn *tc);
/* Encrypts plaintext. Returns 0, SCN_ERR_TLS. */
int scn__tls_conn_write(scn_tls_conn *tc, const void *p, size_t n);
/* Queues close_notify. */
void scn__tls_conn_shutdown(scn_tls_conn *tc);
/* Ciphertext waiting to be sent, and taking it: returns the bytes copied
 * into out (at most cap). */
size_t scn__tls_conn_pending(const scn_tls_conn *tc);
size_t scn__tls_conn_take(scn_tls_conn *tc, unsigned char *out, size_t cap);

#endif
