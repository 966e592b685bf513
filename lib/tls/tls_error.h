/* OpenSSL failures while loading certificates and keys, reported once in
 * the log and turned into SCN_ERR_TLS (client and server contexts). */
#ifndef SCN_TLS_ERROR_H
#define SCN_TLS_ERROR_H

#include "log.h"

/* Logs "cannot load WHAT PATH: REASON" with OpenSSL's last error and
 * empties the thread's error queue (lws reads it after its own calls).
 * Returns SCN_ERR_TLS. */
int scn__tls_load_failed(const scn_logger *log, const char *what,
                         const char *path);

#endif
