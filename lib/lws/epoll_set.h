/*
 * An epoll set of sockets that lws polls as one descriptor (epoll_set.c).
 *
 * lws 4.1 calls poll() on every descriptor it watches at every turn of
 * the loop, so 50 dashboards cost 50 descriptors' poll work per frame
 * received anywhere. Sockets in this set cost nothing until they are
 * ready: lws sees only the set's own descriptor, readable when any of
 * them is, and the owner runs scn__epoll_set_dispatch() then. Plain epoll,
 * no lws: the owner adopts the set's descriptor.
 */
#ifndef SCN_EPOLL_SET_H
#define SCN_EPOLL_SET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct scn_epoll_set scn_epoll_set;
typedef struct scn_epoll_watch scn_epoll_watch;

/* events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP as epoll reports them. */
typedef void (*scn_epoll_fn)(scn_epoll_watch *w, uint32_t events);

/* Embedded in its owner's structure; the set never allocates one. */
struct scn_epoll_watch {
    scn_epoll_set *set; /* NULL: not in a set */
    int fd;
    uint32_t events; /* what the set reports for fd now */
    scn_epoll_fn fn;
    void *user;
};

/* Returns 0 or SCN_ERR_IO / SCN_ERR_NOMEM. */
int scn__epoll_set_new(scn_epoll_set **out);
/* The descriptor to poll for readability. */
int scn__epoll_set_fd(const scn_epoll_set *set);
/* Closes the set's descriptor unless taken (lws closes what it adopted). */
void scn__epoll_set_free(scn_epoll_set *set, bool fd_taken);
/* Runs the callbacks of the sockets that are ready now, without waiting.
 * A watch removed meanwhile is not called. */
void scn__epoll_set_dispatch(scn_epoll_set *set);

/* Level-triggered. Returns 0 or SCN_ERR_IO. */
int scn__epoll_watch_add(scn_epoll_set *set, scn_epoll_watch *w, int fd,
                         uint32_t events, scn_epoll_fn fn, void *user);
/* Changes what is watched; a system call only when it differs. */
int scn__epoll_watch_set(scn_epoll_watch *w, uint32_t events);
/* Out of the set (before fd is closed); a no-op when not in one. */
void scn__epoll_watch_del(scn_epoll_watch *w);

#endif
