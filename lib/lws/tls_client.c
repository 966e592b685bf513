/*
 * Client TLS contexts, made when a wss:// session first needs one.
 *
 * The loop's lws context is created without
 * LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT: that option initialises OpenSSL
 * (configuration, error strings) and gives every vhost a client SSL_CTX
 * loaded with the system trust store, about 4 MiB of RSS that a ws://-only
 * process never uses. lws 4.1.6 cannot do the global part later, and it
 * frees a vhost's SSL_CTX only when the *context* has the option. So the
 * SSL_CTX is made here and handed to the vhost as provided_client_ssl_ctx
 * (lws then never frees it); OpenSSL >= 1.1 initialises itself on the first
 * SSL_CTX_new. lws keeps its per-connection ex_data index in one variable
 * that it both writes and reads, so it stays consistent without the global
 * init; a context created elsewhere with the option (scn_cloud_predict's)
 * moves it, and a handshake in flight at that instant fails closed and is
 * retried, as it did before, when every context moved it.
 *
 * Verification stays lws's: SSL_VERIFY_PEER and the host name or address
 * check on every connection, relaxed only by the insecure flags.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <scentience/error.h>
#include <string.h>

#include "tls_client.h"
#include "tls_error.h"

static int make_ctx(const scn_logger *log, const char *ca_file,
                    const char *cert_file, const char *key_file, SSL_CTX **out)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());

    if (!c) {
        ERR_clear_error();
        return SCN_ERR_NOMEM;
    }
    /* What lws sets on the contexts it makes, plus a floor on the version
     * that does not depend on the system's openssl.cnf. RELEASE_BUFFERS
     * also keeps idle connections small. */
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
    /* lws sets this again on every connection with its callback; here so
     * that no path can leave a connection unverified. */
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    /* The system store is trusted as with lws's own contexts; ca_file adds
     * to it. A missing default store is no error (nothing is trusted). */
    SSL_CTX_set_default_verify_paths(c);
    ERR_clear_error();
    if (ca_file && SSL_CTX_load_verify_file(c, ca_file) != 1) {
        SSL_CTX_free(c);
        return scn__tls_load_failed(log, "CA file", ca_file);
    }
    if (cert_file) {
        /* Without key_file, a PEM holding both. */
        const char *key = key_file ? key_file : cert_file;

        if (SSL_CTX_use_certificate_chain_file(c, cert_file) != 1) {
            SSL_CTX_free(c);
            return scn__tls_load_failed(log, "client certificate", cert_file);
        }
        if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
            SSL_CTX_free(c);
            return scn__tls_load_failed(log, "client key", key);
        }
        if (SSL_CTX_check_private_key(c) != 1) {
            SSL_CTX_free(c);
            return scn__tls_load_failed(
                log, "client key (not the certificate's)", key);
        }
    }
    *out = c;
    return 0;
}

int scn__tls_vhost_new(struct lws_context *ctx, const char *name,
                       const struct lws_protocols *protocols,
                       const scn_logger *log, const char *ca_file,
                       const char *cert_file, const char *key_file,
                       scn_tls_vhost *out)
{
    struct lws_context_creation_info info;
    SSL_CTX *c = NULL;
    struct lws_vhost *vh;
    int rc = make_ctx(log, ca_file, cert_file, key_file, &c);

    if (rc)
        return rc;
    memset(&info, 0, sizeof(info));
    info.vhost_name = name;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.timeout_secs = SCN_LWS_TIMEOUT_S;
    info.connect_timeout_secs = SCN_LWS_TIMEOUT_S;
    /* On a vhost the option only means "this vhost does client TLS"; the
     * context it would make is replaced by ours. */
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.provided_client_ssl_ctx = c;
    vh = lws_create_vhost(ctx, &info);
    if (!vh) {
        SSL_CTX_free(c);
        return SCN_ERR_NOMEM;
    }
    out->vhost = vh;
    out->ssl_ctx = c;
    return 0;
}

void scn__tls_vhost_free(scn_tls_vhost *t)
{
    if (t->vhost)
        lws_vhost_destroy(t->vhost);
    /* Connections still closing hold references of their own. */
    SSL_CTX_free(t->ssl_ctx);
    t->vhost = NULL;
    t->ssl_ctx = NULL;
}
