/*
 * One blocking HTTP(S) POST in an lws context of its own: what
 * scn_cloud_predict() sends (cloud.c builds the body and reads the
 * answer). The API key goes out only as the Authorization header.
 *
 * A host name is resolved first (resolve.h) and lws given the address:
 * lws 4.1.6 would call a blocking getaddrinfo() that ignores timeout_ms.
 * ci.host keeps the name, which lws uses for Host, SNI and the
 * certificate check (lws_ssl_client_bio_create takes CIS_HOST).
 */
#include <errno.h>
#include <poll.h>
#include <scentience/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "io.h"
#include "key.h"

static int append_reply(scn_http_post *p, const void *in, size_t len)
{
    char *n;

    if (p->reply_len + len > p->reply_max)
        return -1;
    n = realloc(p->reply, p->reply_len + len + 1);
    if (!n)
        return -1;
    memcpy(n + p->reply_len, in, len);
    p->reply = n;
    p->reply_len += len;
    n[p->reply_len] = '\0';
    return 0;
}

static int add_headers(struct lws *wsi, scn_http_post *p, unsigned char **pp,
                       unsigned char *end)
{
    static const char ctype[] = "application/json";
    char auth[16 + SCN_KEY_MAX];
    int n, rc = 0;

    if (p->bearer) {
        n = snprintf(auth, sizeof(auth), "Bearer %s", p->bearer);
        rc = lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                          (unsigned char *)auth, n, pp, end);
        memset(auth, 0, sizeof(auth)); /* the key does not linger */
    }
    if (rc ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)ctype,
                                     (int)sizeof(ctype) - 1, pp, end) ||
        lws_add_http_header_content_length(wsi, p->body_len, pp, end))
        return -1;
    /* The body goes from CLIENT_HTTP_WRITEABLE once the headers are out. */
    lws_client_http_body_pending(wsi, 1);
    lws_callback_on_writable(wsi);
    return 0;
}

typedef struct post_state {
    scn_http_post *p;
    int err; /* transport failure */
    bool done;
} post_state;

static int post_cb(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len)
{
    post_state *st = user;
    scn_http_post *p = st ? st->p : NULL;
    unsigned char *buf;
    char rbuf[LWS_PRE + 4096], *px;
    int n;

    if (!p)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        st->err = SCN_ERR_NETWORK;
        st->done = true;
        return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return add_headers(wsi, p, (unsigned char **)in,
                           *(unsigned char **)in + len);
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
        buf = malloc(LWS_PRE + p->body_len);
        if (!buf)
            return -1;
        memcpy(buf + LWS_PRE, p->body, p->body_len);
        n = lws_write(wsi, buf + LWS_PRE, p->body_len, LWS_WRITE_HTTP_FINAL);
        free(buf);
        if (n < (int)p->body_len)
            return -1;
        lws_client_http_body_pending(wsi, 0);
        return 0;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        p->status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
        px = rbuf + LWS_PRE;
        n = (int)sizeof(rbuf) - LWS_PRE;
        return lws_http_client_read(wsi, &px, &n) < 0 ? -1 : 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        return append_reply(p, in, len);
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        st->done = true;
        lws_set_wsi_user(wsi, NULL);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols post_protocols[] = {
    {"scn-predict", post_cb, 0, 0, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The first address of p->host, into addr, waiting until deadline at the
 * most. Returns 0, SCN_ERR_TIMEOUT, SCN_ERR_RESOLVE, SCN_ERR_IO or
 * SCN_ERR_NOMEM. A resolver thread given up on ends by itself. */
static int resolve_by(const char *host, uint64_t deadline, scn_addr_text addr)
{
    scn_addr_text addrs[SCN_RESOLVE_MAX];
    scn_resolve *r;
    struct pollfd pfd = {.events = POLLIN};
    uint64_t now;
    size_t n = 0;
    int rc = scn__resolve_start(host, &r), k;

    if (rc)
        return rc;
    pfd.fd = scn__resolve_fd(r);
    while ((now = mono_ms()) < deadline) {
        k = poll(&pfd, 1, (int)(deadline - now));
        if (k > 0 || (k < 0 && errno != EINTR))
            break;
    }
    rc = scn__resolve_result(r, addrs, &n);
    if (rc == 0)
        memcpy(addr, addrs[0], sizeof(addrs[0]));
    scn__resolve_free(r);
    return rc == SCN_ERR_STATE ? SCN_ERR_TIMEOUT : rc;
}

int scn__http_post_run(scn_http_post *p)
{
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    struct lws_context *ctx;
    post_state st = {.p = p};
    uint64_t deadline, now = mono_ms();
    scn_addr_text addr;
    int rc;

    deadline = now + p->timeout_ms;
    if (scn__resolve_is_address(p->host))
        snprintf(addr, sizeof(addr), "%.*s", (int)sizeof(addr) - 1, p->host);
    else if ((rc = resolve_by(p->host, deadline, addr)) != 0)
        return rc;

    /* Process-wide, as scn_loop_new() sets it: lws's notices go to stderr
     * otherwise, and its debug levels would print the Authorization. */
    scn__lws_logging(p->lws_errors_to_stderr);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = post_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = p->ca_file;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    ctx = lws_create_context(&info);
    if (!ctx)
        return SCN_ERR_IO;
    memset(&ci, 0, sizeof(ci));
    ci.context = ctx;
    ci.address = addr;
    ci.port = p->port;
    ci.path = p->path;
    ci.host = p->host;
    ci.origin = p->host;
    ci.method = "POST";
    ci.protocol = post_protocols[0].name;
    ci.local_protocol_name = post_protocols[0].name;
    ci.userdata = &st;
    if (p->tls) {
        ci.ssl_connection = LCCSCF_USE_SSL;
        if (p->insecure)
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
                                 LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                 LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    }
    if (!lws_client_connect_via_info(&ci)) {
        st.err = SCN_ERR_NETWORK;
        st.done = true;
    }
    while (!st.done && now < deadline) {
        lws_service(ctx, 50);
        now = mono_ms();
    }
    lws_context_destroy(ctx);
    if (!st.done)
        return SCN_ERR_TIMEOUT;
    return st.err;
}
