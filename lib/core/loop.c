/*
 * The event loop: one libwebsockets context, run by the caller or on a
 * thread of its own. Other threads reach it only through lws_cancel_service,
 * which makes the loop thread look at every session's pending work.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session_internal.h"

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

uint64_t scn_loop_now_ms(const scn_loop *loop)
{
    struct timespec ts;

    (void)loop;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int scn_loop_new(const scn_loop_options *opts, scn_loop **out)
{
    struct lws_context_creation_info info;
    scn_loop *loop;

    if (!out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    loop = calloc(1, sizeof(*loop));
    if (!loop)
        return SCN_ERR_NOMEM;
    if (opts) {
        loop->log.fn = opts->log;
        loop->log.user = opts->log_user;
        loop->log.level = opts->log_level;
    }
    /* lws logging is process-wide: silence it unless asked, and never go
     * beyond warnings, whose lines cannot hold header values. */
    if (opts && opts->lws_errors_to_stderr)
        lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_stderr);
    else
        lws_set_log_level(0, NULL);

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = scn_ws_protocols;
    /* No LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT: OpenSSL is set up only when
     * a wss:// session first connects (tls_client.c), so that a ws://-only
     * process does not carry its ~4 MiB. */
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.timeout_secs = SCN_LWS_TIMEOUT_S;
    info.connect_timeout_secs = SCN_LWS_TIMEOUT_S;
    info.user = loop;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    loop->ctx = lws_create_context(&info);
    if (!loop->ctx)
        goto fail;
    info.vhost_name = "scn-default";
    loop->vhost = lws_create_vhost(loop->ctx, &info);
    if (!loop->vhost)
        goto fail;
    pthread_mutex_init(&loop->mu, NULL);
    atomic_init(&loop->stop, false);
    atomic_init(&loop->in_service, false);
    *out = loop;
    return 0;
fail:
    if (loop->ctx)
        lws_context_destroy(loop->ctx);
    free(loop);
    return SCN_ERR_IO;
}

void scn_loop_free(scn_loop *loop)
{
    if (!loop)
        return;
    scn_loop_stop(loop);
    while (loop->sessions)
        scn_session_destroy(loop->sessions);
    scn_loop_free_servers(loop);
    scn_tls_vhost_free(&loop->tls);
    lws_context_destroy(loop->ctx);
    pthread_mutex_destroy(&loop->mu);
    free(loop);
}

bool scn_loop_on_thread(const scn_loop *loop)
{
    if (atomic_load(&loop->in_service))
        return pthread_equal(pthread_self(), loop->service_thread);
    /* Not running: the caller owns the loop. */
    return !loop->has_thread;
}

void scn_loop_attach(scn_loop *loop, scn_session *s)
{
    pthread_mutex_lock(&loop->mu);
    s->next = loop->sessions;
    loop->sessions = s;
    pthread_mutex_unlock(&loop->mu);
}

void scn_loop_detach(scn_loop *loop, scn_session *s)
{
    pthread_mutex_lock(&loop->mu);
    for (scn_session **pp = &loop->sessions; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&loop->mu);
}

static void run_once_expired(lws_sorted_usec_list_t *sul)
{
    /* Only there to bound the poll wait of scn_loop_run_once. */
    (void)sul;
}

static int service(scn_loop *loop, int timeout_ms)
{
    /* Written only when it changes, so that readers on other threads (who
     * look only while in_service is set) never race with a rewrite. */
    if (!pthread_equal(loop->service_thread, pthread_self()))
        loop->service_thread = pthread_self();
    atomic_store(&loop->in_service, true);
    /* lws 4.1 ignores the timeout except for "< 0: do not block"; a timer
     * bounds the wait instead. */
    if (timeout_ms > 0)
        lws_sul_schedule(loop->ctx, 0, &loop->run_once_sul, run_once_expired,
                         (lws_usec_t)timeout_ms * LWS_US_PER_MS);
    lws_service(loop->ctx, timeout_ms > 0 ? 0 : -1);
    if (timeout_ms > 0)
        lws_sul_cancel(&loop->run_once_sul);
    atomic_store(&loop->in_service, false);
    return 0;
}

int scn_loop_run_once(scn_loop *loop, uint32_t timeout_ms)
{
    if (!loop)
        return SCN_ERR_INVALID_ARG;
    if (loop->cb_depth > 0)
        return SCN_ERR_RECURSIVE;
    if (loop->has_thread)
        return SCN_ERR_STATE;
    return service(loop, timeout_ms > INT32_MAX ? INT32_MAX : (int)timeout_ms);
}

/* Nothing can happen any more: every session has ended (CLOSED or
 * FAILED), no server listens and no timer is armed. Loop thread only. */
static bool nothing_left(scn_loop *loop)
{
    bool live = false;

    if (loop->servers || loop->armed_timers)
        return false;
    pthread_mutex_lock(&loop->mu);
    for (scn_session *s = loop->sessions; s && !live; s = s->next)
        live = s->fsm.state != SCN_STATE_CLOSED &&
               s->fsm.state != SCN_STATE_FAILED;
    pthread_mutex_unlock(&loop->mu);
    return !live;
}

int scn_loop_run(scn_loop *loop)
{
    if (!loop)
        return SCN_ERR_INVALID_ARG;
    if (loop->cb_depth > 0)
        return SCN_ERR_RECURSIVE;
    if (loop->has_thread)
        return SCN_ERR_STATE;
    while (!atomic_exchange(&loop->stop, false) && !nothing_left(loop))
        service(loop, 1000);
    return 0;
}

static void *loop_thread(void *arg)
{
    scn_loop *loop = arg;

    while (!atomic_load(&loop->stop))
        service(loop, 1000);
    return NULL;
}

int scn_loop_start(scn_loop *loop)
{
    if (!loop)
        return SCN_ERR_INVALID_ARG;
    if (loop->has_thread)
        return SCN_ERR_STATE;
    atomic_store(&loop->stop, false);
    loop->has_thread = true;
    if (pthread_create(&loop->thread, NULL, loop_thread, loop) != 0) {
        loop->has_thread = false;
        return SCN_ERR_IO;
    }
    return 0;
}

int scn_loop_stop(scn_loop *loop)
{
    if (!loop)
        return SCN_ERR_INVALID_ARG;
    atomic_store(&loop->stop, true);
    lws_cancel_service(loop->ctx);
    if (loop->has_thread && !pthread_equal(pthread_self(), loop->thread)) {
        pthread_join(loop->thread, NULL);
        loop->has_thread = false;
        atomic_store(&loop->stop, false);
    }
    return 0;
}

void scn_loop_wakeup(scn_loop *loop)
{
    if (loop)
        lws_cancel_service(loop->ctx);
}
