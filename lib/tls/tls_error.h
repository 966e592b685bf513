/* Loading certificates and keys with OpenSSL (client and server contexts,
 * the MQTT link's too): failures reported once in the log and turned into
 * SCN_ERR_TLS, and no passphrase prompt. */
#ifndef SCN_TLS_ERROR_H
#define SCN_TLS_ERROR_H

#include <openssl/ssl.h>

#include "log.h"

/* A private key that needs a passphrase fails to load (logged as any
 * load failure) instead of OpenSSL asking on the controlling terminal:
 * its default prompt would stop the loop, or a service, indefinitely.
 * Call before loading a key into c. */
void scn__tls_no_passphrase(SSL_CTX *c);

/* Logs "cannot load WHAT PATH: REASON" with OpenSSL's last error and
 * empties the thread's error queue (lws reads it after its own calls).
 * Returns SCN_ERR_TLS. */
int scn__tls_load_failed(const scn_logger *log, const char *what,
                         const char *path);

#endif
