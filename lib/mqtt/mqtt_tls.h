/*
 * The TLS context of one MQTT connection (mqtt_tls.c), given to
 * libmosquitto as its own (MOSQ_OPT_SSL_CTX without its defaults).
 */
#ifndef SCN_MQTT_TLS_H
#define SCN_MQTT_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

/* A client context that verifies the broker's certificate against the
 * system's trust store and ca_file (if set) and against host, the name
 * (or address) the user gave, and sends host as SNI, whatever address
 * libmosquitto is told to connect to; cert_file and key_file (both or
 * neither) are presented. insecure: no verification at all. Returns 0 or
 * SCN_ERR_TLS (a file unreadable or not matching), SCN_ERR_NOMEM. */
int scn__mqtt_tls_ctx_new(const char *host, const char *ca_file,
                          const char *cert_file, const char *key_file,
                          bool insecure, SSL_CTX **out);

#endif
