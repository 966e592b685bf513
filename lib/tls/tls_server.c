/* Server-side TLS over memory BIOs. */
#include "tls_server.h"
#include "tls_error.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <scentience/error.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

struct scn_tls_server {
    SSL_CTX *ctx;
};

struct scn_tls_conn {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
};

int scn__tls_server_new(const scn_logger *log, const char *cert_file,
                        const char *key_file, scn_tls_server **out)
{
    scn_tls_server *t;
    struct stat st;
    SSL_CTX *c;

    *out = NULL;
    if (stat(key_file, &st) == 0 && (st.st_mode & 077)) {
        scn__log(log, SCN_LOG_ERROR, "tls",
                 "%s is readable by group or others: chmod 600", key_file);
        return SCN_ERR_TLS;
    }
    c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        ERR_clear_error();
        return SCN_ERR_NOMEM;
    }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_RENEGOTIATION);
    /* Idle connections hold no record buffers. */
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(c, cert_file) != 1) {
        SSL_CTX_free(c);
        return scn__tls_load_failed(log, "certificate", cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(c, key_file, SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(c);
        return scn__tls_load_failed(log, "key", key_file);
    }
    if (SSL_CTX_check_private_key(c) != 1) {
        SSL_CTX_free(c);
        return scn__tls_load_failed(log, "key (not the certificate's)",
                                    key_file);
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        SSL_CTX_free(c);
        return SCN_ERR_NOMEM;
    }
    t->ctx = c;
    *out = t;
    return 0;
}

void scn__tls_server_free(scn_tls_server *t)
{
    if (!t)
        return;
    /* Reference counted by OpenSSL: open connections keep it alive. */
    SSL_CTX_free(t->ctx);
    free(t);
}

scn_tls_conn *scn__tls_conn_new(scn_tls_server *t)
{
    scn_tls_conn *tc = calloc(1, sizeof(*tc));

    if (!tc)
        return NULL;
    tc->ssl = SSL_new(t->ctx);
    tc->rbio = BIO_new(BIO_s_mem());
    tc->wbio = BIO_new(BIO_s_mem());
    if (!tc->ssl || !tc->rbio || !tc->wbio) {
        SSL_free(tc->ssl);
        BIO_free(tc->rbio);
        BIO_free(tc->wbio);
        free(tc);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_bio(tc->ssl, tc->rbio, tc->wbio);
    SSL_set_accept_state(tc->ssl);
    return tc;
}

void scn__tls_conn_free(scn_tls_conn *tc)
{
    if (!tc)
        return;
    SSL_free(tc->ssl); /* and its BIOs */
    ERR_clear_error();
    free(tc);
}

int scn__tls_conn_feed(scn_tls_conn *tc, const void *in, size_t n)
{
    while (n) {
        int w = BIO_write(tc->rbio, in, n > INT32_MAX ? INT32_MAX : (int)n);

        if (w <= 0) {
            ERR_clear_error();
            return SCN_ERR_NOMEM;
        }
        in = (const unsigned char *)in + w;
        n -= (size_t)w;
    }
    return 0;
}

int scn__tls_conn_read(scn_tls_conn *tc, unsigned char *out, size_t cap)
{
    int r = SSL_read(tc->ssl, out, cap > INT32_MAX ? INT32_MAX : (int)cap);

    if (r > 0)
        return r;
    switch (SSL_get_error(tc->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        return SCN_ERR_PEER_CLOSED;
    default:
        ERR_clear_error();
        return SCN_ERR_TLS;
    }
}

bool scn__tls_conn_ready(const scn_tls_conn *tc)
{
    return SSL_is_init_finished(tc->ssl);
}

int scn__tls_conn_write(scn_tls_conn *tc, const void *p, size_t n)
{
    while (n) {
        int w = SSL_write(tc->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);

        /* Memory BIOs take everything: a short write is a failure. */
        if (w <= 0) {
            ERR_clear_error();
            return SCN_ERR_TLS;
        }
        p = (const unsigned char *)p + w;
        n -= (size_t)w;
    }
    return 0;
}

void scn__tls_conn_shutdown(scn_tls_conn *tc)
{
    if (SSL_is_init_finished(tc->ssl))
        SSL_shutdown(tc->ssl);
    ERR_clear_error();
}

size_t scn__tls_conn_pending(const scn_tls_conn *tc)
{
    return BIO_ctrl_pending(tc->wbio);
}

size_t scn__tls_conn_take(scn_tls_conn *tc, unsigned char *out, size_t cap)
{
    int r = BIO_read(tc->wbio, out, cap > INT32_MAX ? INT32_MAX : (int)cap);

    return r > 0 ? (size_t)r : 0;
}
