/*
 * The loop's libwebsockets context: creation, one turn of service, the
 * cross-thread wakeup, lws's logging and one-shot timers over lws_sul.
 */
#include <scentience/error.h>
#include <scentience/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lws_loop.h"

/* What lws reads from a socket at once (its default is 4 KiB): a session
 * receiving a burst of frames takes it in one recv() and one loop turn
 * instead of one per 4 KiB. One buffer per loop. */
#define SCN_LWS_READ_BYTES (64u * 1024)

static void lws_log_to_stderr(int level, const char *line)
{
    /* lws lines end in '\n' already; they may quote what a peer sent. */
    char esc[1024];
    size_t n = strlen(line);

    if (n && line[n - 1] == '\n')
        n--;
    scn_escape_text(esc, sizeof(esc), line, n);
    fprintf(stderr, "%s\n", esc);
    (void)level;
}

void scn__lws_logging(bool errors_to_stderr)
{
    if (errors_to_stderr)
        lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_stderr);
    else
        lws_set_log_level(0, NULL);
}

int scn__lws_loop_new(scn_loop *loop, bool errors_to_stderr)
{
    struct lws_context_creation_info info;
    struct scn_lws_loop *l = calloc(1, sizeof(*l));

    if (!l)
        return SCN_ERR_NOMEM;
    scn__mask_pool_init(&l->masks);
    /* lws logging is process-wide: silence it unless asked. */
    scn__lws_logging(errors_to_stderr);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = scn__ws_protocols;
    /* No LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT: lws never does TLS for us
     * (lib/tls/ does, over lws's plain sockets), and OpenSSL is set up only
     * when a wss:// session first connects, so that a ws://-only process
     * does not carry its ~4 MiB. */
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.timeout_secs = SCN_LWS_TIMEOUT_S;
    info.connect_timeout_secs = SCN_LWS_TIMEOUT_S;
    info.pt_serv_buf_size = SCN_LWS_READ_BYTES;
    info.user = loop;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    l->ctx = lws_create_context(&info);
    if (!l->ctx)
        goto fail;
    info.vhost_name = "scn-default";
    l->vhost = lws_create_vhost(l->ctx, &info);
    if (!l->vhost)
        goto fail;
    loop->lws = l;
    return 0;
fail:
    if (l->ctx)
        lws_context_destroy(l->ctx);
    free(l);
    return SCN_ERR_IO;
}

void scn__lws_loop_free(scn_loop *loop)
{
    struct scn_lws_loop *l = loop->lws;

    if (!l)
        return;
    scn__tls_ctx_free(l->tls);
    free(l->tls_out);
    scn__server_loop_free(loop);
    lws_context_destroy(l->ctx);
    free(l);
    loop->lws = NULL;
}

static void run_once_expired(lws_sorted_usec_list_t *sul)
{
    /* Only there to bound the poll wait of one turn. */
    (void)sul;
}

void scn__lws_service(scn_loop *loop, int timeout_ms)
{
    struct scn_lws_loop *l = loop->lws;

    /* lws 4.1 ignores the timeout except for "< 0: do not block"; a timer
     * bounds the wait instead. */
    if (timeout_ms > 0)
        lws_sul_schedule(l->ctx, 0, &l->run_once_sul, run_once_expired,
                         (lws_usec_t)timeout_ms * LWS_US_PER_MS);
    lws_service(l->ctx, timeout_ms > 0 ? 0 : -1);
    if (timeout_ms > 0)
        lws_sul_cancel(&l->run_once_sul);
}

void scn__lws_wake(scn_loop *loop)
{
    lws_cancel_service(loop->lws->ctx);
}

struct scn_lws_timer {
    lws_sorted_usec_list_t sul; /* first: lws_container_of below */
    struct lws_context *ctx;
    scn_lws_timer_fn fn;
    void *user;
};

static void timer_fired(lws_sorted_usec_list_t *sul)
{
    scn_lws_timer *t = lws_container_of(sul, scn_lws_timer, sul);

    /* t may be freed by fn: nothing touches it afterwards. */
    t->fn(t->user);
}

int scn__lws_timer_new(scn_loop *loop, scn_lws_timer_fn fn, void *user,
                       scn_lws_timer **out)
{
    scn_lws_timer *t = calloc(1, sizeof(*t));

    if (!t)
        return SCN_ERR_NOMEM;
    t->ctx = loop->lws->ctx;
    t->fn = fn;
    t->user = user;
    *out = t;
    return 0;
}

void scn__lws_timer_arm(scn_lws_timer *t, uint64_t delay_ms)
{
    /* lws reads a zero delay as "cancel": 1 us is "as soon as possible". */
    lws_sul_schedule(t->ctx, 0, &t->sul, timer_fired,
                     delay_ms ? (lws_usec_t)delay_ms * LWS_US_PER_MS : 1);
}

void scn__lws_timer_cancel(scn_lws_timer *t)
{
    lws_sul_cancel(&t->sul);
}

void scn__lws_timer_free(scn_lws_timer *t)
{
    if (!t)
        return;
    lws_sul_cancel(&t->sul);
    free(t);
}
