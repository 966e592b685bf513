/*
 * TLS over memory BIOs, server and client roles.
 *
 * Client contexts are made when a wss:// session first connects, so a
 * ws://-only process never initialises OpenSSL (OpenSSL >= 1.1 sets itself
 * up on the first SSL_CTX_new).
 */
#include "tls_mem.h"
#include "tls_error.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <scentience/error.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

struct scn_tls_ctx {
    SSL_CTX *ctx;
};

struct scn_tls_conn {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    char why[160];    /* the last failure, for the log */
};

static int wrap_ctx(SSL_CTX *c, scn_tls_ctx **out)
{
    scn_tls_ctx *t = calloc(1, sizeof(*t));

    if (!t) {
        SSL_CTX_free(c);
        return SCN_ERR_NOMEM;
    }
    t->ctx = c;
    *out = t;
    return 0;
}

int scn__tls_server_new(const scn_logger *log, const char *cert_file,
                        const char *key_file, scn_tls_ctx **out)
{
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
    scn__tls_no_passphrase(c);
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
    return wrap_ctx(c, out);
}

int scn__tls_client_new(const scn_logger *log, const char *ca_file,
                        const char *cert_file, const char *key_file,
                        scn_tls_ctx **out)
{
    SSL_CTX *c = scn__tls_client_ctx_base();
    int rc;

    *out = NULL;
    if (!c)
        return SCN_ERR_NOMEM;
    /* ALPN as lws offered it: a WebSocket upgrade is HTTP/1.1. */
    if (SSL_CTX_set_alpn_protos(c, (const unsigned char *)"\x08http/1.1", 9) !=
        0) {
        SSL_CTX_free(c);
        ERR_clear_error();
        return SCN_ERR_NOMEM;
    }
    /* Every connection verifies unless it says otherwise (insecure). */
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    if ((rc = scn__tls_client_trust(c, log, ca_file, cert_file, key_file))) {
        SSL_CTX_free(c);
        return rc;
    }
    return wrap_ctx(c, out);
}

void scn__tls_ctx_free(scn_tls_ctx *t)
{
    if (!t)
        return;
    /* Reference counted by OpenSSL: open connections keep it alive. */
    SSL_CTX_free(t->ctx);
    free(t);
}

static scn_tls_conn *conn_new(scn_tls_ctx *t)
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
    return tc;
}

scn_tls_conn *scn__tls_conn_new(scn_tls_ctx *t)
{
    scn_tls_conn *tc = conn_new(t);

    if (tc)
        SSL_set_accept_state(tc->ssl);
    return tc;
}

scn_tls_conn *scn__tls_conn_client(scn_tls_ctx *t, const char *host,
                                   bool verify)
{
    scn_tls_conn *tc = conn_new(t);
    X509_VERIFY_PARAM *vp;
    int kind, ok;

    if (!tc)
        return NULL;
    SSL_set_connect_state(tc->ssl);
    if (!verify) {
        SSL_set_verify(tc->ssl, SSL_VERIFY_NONE, NULL);
        return tc;
    }
    /* An address literal gets no SNI (RFC 6066 3); a name is sent. */
    vp = SSL_get0_param(tc->ssl);
    kind = scn__tls_expect_host(vp, host);
    ok = kind == 0 ||
         (kind == 1 && SSL_set_tlsext_host_name(tc->ssl, host) == 1);
    if (!ok) {
        scn__tls_conn_free(tc);
        return NULL;
    }
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

static void note_failure(scn_tls_conn *tc)
{
    long v = SSL_get_verify_result(tc->ssl);
    unsigned long e = ERR_peek_last_error();

    if (v != X509_V_OK)
        snprintf(tc->why, sizeof(tc->why), "certificate verify failed: %s",
                 X509_verify_cert_error_string(v));
    else if (e)
        ERR_error_string_n(e, tc->why, sizeof(tc->why));
    else
        snprintf(tc->why, sizeof(tc->why), "TLS failure, no reason given");
    ERR_clear_error();
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
        note_failure(tc);
        return SCN_ERR_TLS;
    }
}

const char *scn__tls_conn_why(const scn_tls_conn *tc)
{
    return tc->why;
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
