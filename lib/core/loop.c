/*
 * The event loop: run by the caller or on a thread of its own, over the
 * libwebsockets context of lib/lws/lws_loop.c. Other threads reach it only
 * through a wakeup, which makes the loop thread look at every child's
 * pending work. It tears its children (sessions, servers) down through
 * their scn_loop_child hooks without knowing what they are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session_internal.h"

uint64_t scn_loop_now_ms(const scn_loop *loop)
{
    struct timespec ts;

    (void)loop;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The first version's last field: the smallest struct_size accepted. */
#define LOOP_OPTIONS_V0 SCN_OPTIONS_END(scn_loop_options, lws_errors_to_stderr)

void scn_loop_options_init_sized(scn_loop_options *o, size_t size)
{
    scn_loop_options d;

    memset(&d, 0, sizeof(d));
    scn_options_give(o, size, &d, sizeof(d));
}

int scn_loop_new(const scn_loop_options *opts, scn_loop **out)
{
    scn_loop_options own;
    scn_loop *loop;
    int rc;

    if (!out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    memset(&own, 0, sizeof(own));
    if (opts &&
        (rc = scn_options_take(&own, sizeof(own), LOOP_OPTIONS_V0, opts)))
        return rc;
    opts = &own;
    loop = calloc(1, sizeof(*loop));
    if (!loop)
        return SCN_ERR_NOMEM;
    loop->log.fn = opts->log;
    loop->log.user = opts->log_user;
    loop->log.level = opts->log_level;
    if ((rc = scn__lws_loop_new(loop, opts->lws_errors_to_stderr))) {
        free(loop);
        return rc;
    }
    pthread_mutex_init(&loop->mu, NULL);
    pthread_mutex_init(&loop->user_calls_mu, NULL);
    atomic_init(&loop->stop, false);
    atomic_init(&loop->in_service, false);
    *out = loop;
    return 0;
}

void scn_loop_free(scn_loop *loop)
{
    if (!loop)
        return;
    scn_loop_stop(loop);
    for (;;) {
        scn_loop_child *c;

        pthread_mutex_lock(&loop->mu);
        c = loop->children;
        pthread_mutex_unlock(&loop->mu);
        if (!c)
            break;
        c->destroy(c); /* disowns itself */
    }
    scn__lws_loop_free(loop);
    pthread_mutex_destroy(&loop->user_calls_mu);
    pthread_mutex_destroy(&loop->mu);
    free(loop);
}

/* The calling thread is the one inside scn__lws_service(). */
static bool in_service_here(const scn_loop *loop, pthread_t self)
{
    return atomic_load(&loop->in_service) &&
           pthread_equal(self, loop->service_thread);
}

void scn__loop_enter_user_call(scn_loop *loop, scn_user_call *uc)
{
    uc->thread = pthread_self();
    uc->in_service = in_service_here(loop, uc->thread);
    if (uc->in_service) {
        loop->service_depth++; /* the hot path: no lock */
        return;
    }
    pthread_mutex_lock(&loop->user_calls_mu);
    uc->next = loop->user_calls;
    loop->user_calls = uc;
    pthread_mutex_unlock(&loop->user_calls_mu);
}

void scn__loop_leave_user_call(scn_loop *loop, scn_user_call *uc)
{
    scn_user_call **p;

    if (uc->in_service) {
        loop->service_depth--;
        return;
    }
    pthread_mutex_lock(&loop->user_calls_mu);
    for (p = &loop->user_calls; *p != uc; p = &(*p)->next)
        ;
    *p = uc->next;
    pthread_mutex_unlock(&loop->user_calls_mu);
}

bool scn__loop_in_user_call(scn_loop *loop)
{
    pthread_t self = pthread_self();
    bool in = false;

    if (in_service_here(loop, self) && loop->service_depth > 0)
        return true;
    pthread_mutex_lock(&loop->user_calls_mu);
    for (scn_user_call *uc = loop->user_calls; uc && !in; uc = uc->next)
        in = pthread_equal(uc->thread, self);
    pthread_mutex_unlock(&loop->user_calls_mu);
    return in;
}

bool scn__loop_on_thread(const scn_loop *loop)
{
    if (atomic_load(&loop->in_service))
        return pthread_equal(pthread_self(), loop->service_thread);
    /* Not running: the caller owns the loop. */
    return !loop->has_thread;
}

void scn__loop_adopt(scn_loop *loop, scn_loop_child *c)
{
    pthread_mutex_lock(&loop->mu);
    c->next = loop->children;
    loop->children = c;
    pthread_mutex_unlock(&loop->mu);
}

void scn__loop_disown(scn_loop *loop, scn_loop_child *c)
{
    pthread_mutex_lock(&loop->mu);
    for (scn_loop_child **pp = &loop->children; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&loop->mu);
}

void scn__loop_wake_children(scn_loop *loop)
{
    pthread_mutex_lock(&loop->mu);
    for (scn_loop_child *c = loop->children; c; c = c->next)
        if (c->wake)
            c->wake(c);
    pthread_mutex_unlock(&loop->mu);
}

static int service(scn_loop *loop, int timeout_ms)
{
    /* Written only when it changes, so that readers on other threads (who
     * look only while in_service is set) never race with a rewrite. */
    if (!pthread_equal(loop->service_thread, pthread_self()))
        loop->service_thread = pthread_self();
    atomic_store(&loop->in_service, true);
    scn__lws_service(loop, timeout_ms);
    atomic_store(&loop->in_service, false);
    return 0;
}

int scn_loop_run_once(scn_loop *loop, uint32_t timeout_ms)
{
    if (!loop)
        return SCN_ERR_INVALID_ARG;
    if (scn__loop_in_user_call(loop))
        return SCN_ERR_RECURSIVE;
    if (loop->has_thread)
        return SCN_ERR_STATE;
    return service(loop, timeout_ms > INT32_MAX ? INT32_MAX : (int)timeout_ms);
}

/* Nothing can happen any more: no timer is armed and no child is busy
 * (every session has ended, no server listens). Loop thread only. */
static bool nothing_left(scn_loop *loop)
{
    bool live = false;

    if (loop->armed_timers)
        return false;
    pthread_mutex_lock(&loop->mu);
    for (scn_loop_child *c = loop->children; c && !live; c = c->next)
        live = c->busy(c);
    pthread_mutex_unlock(&loop->mu);
    return !live;
}

int scn_loop_run(scn_loop *loop)
{
    if (!loop)
        return SCN_ERR_INVALID_ARG;
    if (scn__loop_in_user_call(loop))
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
    scn__lws_wake(loop);
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
        scn__lws_wake(loop);
}
