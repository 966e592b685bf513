/* What every OpenSSL context of ours shares (tls_error.h). */
#include "tls_error.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <scentience/error.h>
#include <stdio.h>

int scn__tls_load_failed(const scn_logger *log, const char *what,
                         const char *path)
{
    char why[160];
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "no reason given");
    ERR_clear_error();
    scn__log(log, SCN_LOG_ERROR, "tls", "cannot load %s %s: %s", what, path,
             why);
    return SCN_ERR_TLS;
}

static int no_passphrase(char *buf, int size, int rwflag, void *user)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)user;
    return 0; /* none: the key does not load */
}

void scn__tls_no_passphrase(SSL_CTX *c)
{
    SSL_CTX_set_default_passwd_cb(c, no_passphrase);
}

SSL_CTX *scn__tls_client_ctx_base(void)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());

    if (!c) {
        ERR_clear_error();
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    scn__tls_no_passphrase(c);
    return c;
}

int scn__tls_client_trust(SSL_CTX *c, const scn_logger *log,
                          const char *ca_file, const char *cert_file,
                          const char *key_file)
{
    const char *key = key_file ? key_file : cert_file;

    SSL_CTX_set_default_verify_paths(c);
    ERR_clear_error();
    if (ca_file && SSL_CTX_load_verify_file(c, ca_file) != 1)
        return scn__tls_load_failed(log, "CA file", ca_file);
    if (!cert_file)
        return 0;
    if (SSL_CTX_use_certificate_chain_file(c, cert_file) != 1)
        return scn__tls_load_failed(log, "client certificate", cert_file);
    if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1)
        return scn__tls_load_failed(log, "client key", key);
    if (SSL_CTX_check_private_key(c) != 1)
        return scn__tls_load_failed(log, "client key (not the certificate's)",
                                    key);
    return 0;
}

int scn__tls_expect_host(X509_VERIFY_PARAM *vp, const char *host)
{
    if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) == 1)
        return 0;
    ERR_clear_error(); /* not an address literal */
    X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return X509_VERIFY_PARAM_set1_host(vp, host, 0) == 1 ? 1 : -1;
}
