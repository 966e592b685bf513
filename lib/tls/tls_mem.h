/*
 * TLS with OpenSSL over memory buffers, in both roles: the adapter hands
 * in the bytes a socket delivered and writes out the bytes produced here,
 * so the TLS state never touches a socket and libwebsockets carries only
 * ciphertext (its raw sockets). One scn_tls_ctx per listening port (its
 * certificate and key) or per set of client files (the trust store, a
 * client certificate); one scn_tls_conn per connection.
 */
#ifndef SCN_TLS_MEM_H
#define SCN_TLS_MEM_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

typedef struct scn_tls_ctx scn_tls_ctx;
typedef struct scn_tls_conn scn_tls_conn;

/* Server role: loads a PEM certificate chain and its private key. The key
 * file must not be readable by group or others. Returns 0, SCN_ERR_TLS
 * (the log says why), SCN_ERR_NOMEM. */
int scn__tls_server_new(const scn_logger *log, const char *cert_file,
                        const char *key_file, scn_tls_ctx **out);
/* Client role: servers are verified against the system trust store plus
 * ca_file (if set); cert_file is presented with key_file (if set; without
 * key_file the key is read from cert_file). Returns 0, SCN_ERR_TLS (a
 * file unreadable or not matching, logged), SCN_ERR_NOMEM. */
int scn__tls_client_new(const scn_logger *log, const char *ca_file,
                        const char *cert_file, const char *key_file,
                        scn_tls_ctx **out);
/* NULL is allowed. Connections still open keep what they need. */
void scn__tls_ctx_free(scn_tls_ctx *t);

/* A server-side connection. */
scn_tls_conn *scn__tls_conn_new(scn_tls_ctx *t);
/* A client-side connection to host (a name or an address literal): SNI
 * for a name, and the certificate must match host unless verify is false
 * (no check at all: test servers only). */
scn_tls_conn *scn__tls_conn_client(scn_tls_ctx *t, const char *host,
                                   bool verify);
void scn__tls_conn_free(scn_tls_conn *tc);

/* Ciphertext from the peer. Returns 0 or SCN_ERR_NOMEM. */
int scn__tls_conn_feed(scn_tls_conn *tc, const void *in, size_t n);
/* Advances the handshake (a client's starts here too) and decrypts:
 * returns plaintext bytes (> 0), 0 (nothing more for now),
 * SCN_ERR_PEER_CLOSED (the peer's close_notify) or SCN_ERR_TLS (a failed
 * handshake or a corrupt record: scn__tls_conn_why says what). */
int scn__tls_conn_read(scn_tls_conn *tc, unsigned char *out, size_t cap);
/* Why the last read failed: the certificate check's verdict when that
 * failed, else OpenSSL's reason. Never NULL. */
const char *scn__tls_conn_why(const scn_tls_conn *tc);
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
