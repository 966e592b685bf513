/*
 * The MQTT link's TLS context (mqtt_tls.h). The link resolves the broker's
 * name itself, off the loop thread (resolve.c), and gives libmosquitto
 * the address; libmosquitto would then check the certificate against that
 * address and send it as SNI. With a context of ours and without
 * libmosquitto's defaults, its own check is not installed: OpenSSL checks
 * the name the user gave (X509_VERIFY_PARAM), and the name replaces the
 * address as SNI before the ClientHello is written.
 */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <scentience/error.h>

#include "mqtt_tls.h"
#include "tls_error.h"

/* Called as a handshake starts, before the ClientHello is built:
 * libmosquitto set the address it connects to as SNI; the name goes. */
static void sni_from_name(const SSL *ssl, int where, int ret)
{
    /* The connection's own SSL, which OpenSSL hands over as const. */
    SSL *s = (SSL *)ssl;
    const char *name;

    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_START))
        return;
    name = X509_VERIFY_PARAM_get0_host(SSL_get0_param(s), 0);
    if (name)
        SSL_set_tlsext_host_name(s, name);
}

int scn__mqtt_tls_ctx_new(const char *host, const char *ca_file,
                          const char *cert_file, const char *key_file,
                          bool insecure, SSL_CTX **out)
{
    SSL_CTX *c = scn__tls_client_ctx_base(); /* libmosquitto's defaults too */
    int rc;

    *out = NULL;
    if (!c)
        return SCN_ERR_NOMEM;
    SSL_CTX_set_verify(c, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_info_callback(c, sni_from_name);
    rc = scn__tls_expect_host(SSL_CTX_get0_param(c), host) >= 0
             ? scn__tls_client_trust(c, NULL, ca_file, cert_file, key_file)
             : SCN_ERR_NOMEM;
    ERR_clear_error();
    if (rc) {
        SSL_CTX_free(c);
        return rc;
    }
    *out = c;
    return 0;
}
