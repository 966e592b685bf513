/*
 * An epoll set that lws polls as one descriptor (epoll_set.h).
 */
#include "epoll_set.h"

#include <errno.h>
#include <scentience/error.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events taken per dispatch; the rest wait for the next turn (level-
 * triggered: nothing is lost). */
#define BATCH 64

struct scn_epoll_set {
    int fd;
    /* The batch being dispatched: a watch removed meanwhile is cleared
     * from what is left of it. */
    struct epoll_event ev[BATCH];
    int n, at;
};

int scn__epoll_set_new(scn_epoll_set **out)
{
    scn_epoll_set *set = calloc(1, sizeof(*set));

    *out = NULL;
    if (!set)
        return SCN_ERR_NOMEM;
    set->fd = epoll_create1(EPOLL_CLOEXEC);
    if (set->fd < 0) {
        free(set);
        return SCN_ERR_IO;
    }
    *out = set;
    return 0;
}

int scn__epoll_set_fd(const scn_epoll_set *set)
{
    return set->fd;
}

void scn__epoll_set_free(scn_epoll_set *set, bool fd_taken)
{
    if (!set)
        return;
    if (!fd_taken && set->fd >= 0)
        close(set->fd);
    free(set);
}

void scn__epoll_set_dispatch(scn_epoll_set *set)
{
    int n;

    do
        n = epoll_wait(set->fd, set->ev, BATCH, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return;
    set->n = n;
    for (set->at = 0; set->at < set->n; set->at++) {
        scn_epoll_watch *w = set->ev[set->at].data.ptr;

        if (w)
            w->fn(w, set->ev[set->at].events);
    }
    set->n = set->at = 0;
}

int scn__epoll_watch_add(scn_epoll_set *set, scn_epoll_watch *w, int fd,
                         uint32_t events, scn_epoll_fn fn, void *user)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};

    if (epoll_ctl(set->fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return SCN_ERR_IO;
    w->set = set;
    w->fd = fd;
    w->events = events;
    w->fn = fn;
    w->user = user;
    return 0;
}

int scn__epoll_watch_set(scn_epoll_watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};

    if (!w->set || w->events == events)
        return 0;
    if (epoll_ctl(w->set->fd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
        return SCN_ERR_IO;
    w->events = events;
    return 0;
}

void scn__epoll_watch_del(scn_epoll_watch *w)
{
    scn_epoll_set *set = w->set;

    if (!set)
        return;
    (void)epoll_ctl(set->fd, EPOLL_CTL_DEL, w->fd, NULL);
    for (int i = set->at + 1; i < set->n; i++) {
        if (set->ev[i].data.ptr == w)
            set->ev[i].data.ptr = NULL;
    }
    w->set = NULL;
}
