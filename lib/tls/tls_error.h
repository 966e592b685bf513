/* What every OpenSSL context of ours shares (sessions' and servers' in
 * tls_mem.c, the MQTT link's): loading certificates and keys (failures
 * reported once in the log and turned into SCN_ERR_TLS, no passphrase
 * prompt), the client context's base settings and the host check. */
#ifndef SCN_TLS_ERROR_H
#define SCN_TLS_ERROR_H

#include <openssl/ssl.h>

#include "log.h"

/* A private key that needs a passphrase fails to load (logged as any
 * load failure) instead of OpenSSL asking on the controlling terminal:
 * its default prompt would stop the loop, or a service, indefinitely.
 * Call before loading a key into c. */
void scn__tls_no_passphrase(SSL_CTX *c);

/* A client context with our floor: TLS 1.2 at least whatever the
 * system's openssl.cnf says, no compression, no record buffers held by
 * idle connections, no passphrase prompt. NULL when out of memory (the
 * error queue emptied). */
SSL_CTX *scn__tls_client_ctx_base(void);

/* Makes vp expect host: an address literal is matched against the
 * certificate's IP names, a name against its DNS names (no partial
 * wildcards). Returns 1 for a name (which is then also the SNI to
 * send), 0 for an address, -1 out of memory. */
int scn__tls_expect_host(X509_VERIFY_PARAM *vp, const char *host);

/* A client context's trust and identity, one rule for every client
 * (sessions, the MQTT link; docs/PROTOCOL.md 1): the system store is
 * trusted and ca_file (NULL: none) adds to it; cert_file (NULL: none)
 * with key_file (NULL: a PEM holding both) is the client's certificate.
 * A missing system store is no error. A file that does not load is
 * logged (log may be NULL) and returns SCN_ERR_TLS; else 0. */
int scn__tls_client_trust(SSL_CTX *c, const scn_logger *log,
                          const char *ca_file, const char *cert_file,
                          const char *key_file);

/* Logs "cannot load WHAT PATH: REASON" with OpenSSL's last error and
 * empties the thread's error queue (lws reads it after its own calls).
 * Returns SCN_ERR_TLS. */
int scn__tls_load_failed(const scn_logger *log, const char *what,
                         const char *path);

#endif
