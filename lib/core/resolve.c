/*
 * A host name resolved on a detached thread (resolve.h). The job is
 * shared by the loop and the thread and freed by whichever lets go last,
 * so closing a session or link while its name is being resolved neither waits
 * nor leaves the thread anything freed to touch: the thread uses only the
 * job (its name, its result, its eventfd). glibc's getaddrinfo_a would do
 * the same on threads of glibc's own, but a request in progress cannot
 * be cancelled there either, and its memory would still have to outlive
 * the link; a thread of ours is simpler to reason about.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <scentience/error.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolve.h"

struct scn_resolve {
    pthread_mutex_t mu;
    int refs;  /* the loop's and the thread's; under mu */
    int efd;   /* written once by the thread when the result is set */
    bool done; /* the result is set; under mu with it */
    int err;
    size_t n;
    scn_addr_text addrs[SCN_RESOLVE_MAX];
    char host[]; /* a copy: the caller's may go away first */
};

static void release(scn_resolve *r)
{
    int left;

    pthread_mutex_lock(&r->mu);
    left = --r->refs;
    pthread_mutex_unlock(&r->mu);
    if (left)
        return;
    close(r->efd);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static int gai_error(int rc)
{
    return rc == EAI_MEMORY ? SCN_ERR_NOMEM : SCN_ERR_RESOLVE;
}

static void *resolve_main(void *arg)
{
    scn_resolve *r = arg;
    struct addrinfo hints, *res = NULL, *ai;
    scn_addr_text addrs[SCN_RESOLVE_MAX];
    size_t n = 0;
    uint64_t one = 1;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC; /* as lws and libmosquitto ask */
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(r->host, NULL, &hints, &res);
    for (ai = rc == 0 ? res : NULL; ai && n < SCN_RESOLVE_MAX;
         ai = ai->ai_next) {
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addrs[n], sizeof(addrs[n]),
                        NULL, 0, NI_NUMERICHOST) == 0)
            n++;
    }
    if (res)
        freeaddrinfo(res);
    pthread_mutex_lock(&r->mu);
    r->err = rc ? gai_error(rc) : n ? 0 : SCN_ERR_RESOLVE;
    r->n = n;
    r->done = true;
    memcpy(r->addrs, addrs, n * sizeof(addrs[0]));
    pthread_mutex_unlock(&r->mu);
    /* An eventfd cannot fill up with one write; nobody may read it. */
    while (write(r->efd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
    release(r);
    return NULL;
}

int scn__resolve_start(const char *host, scn_resolve **out)
{
    size_t len = strlen(host) + 1;
    scn_resolve *r = calloc(1, sizeof(*r) + len);
    sigset_t all, old;
    pthread_attr_t attr;
    pthread_t t;
    int rc;

    *out = NULL;
    if (!r)
        return SCN_ERR_NOMEM;
    memcpy(r->host, host, len);
    r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->efd < 0) {
        free(r);
        return errno == ENOMEM ? SCN_ERR_NOMEM : SCN_ERR_IO;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->refs = 2;
    if (pthread_attr_init(&attr) != 0) {
        rc = SCN_ERR_NOMEM;
        goto fail;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* Signals stay with the application's threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&t, &attr, resolve_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        rc = rc == ENOMEM ? SCN_ERR_NOMEM : SCN_ERR_IO;
        goto fail;
    }
    *out = r;
    return 0;
fail:
    close(r->efd);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return rc;
}

bool scn__resolve_is_address(const char *host)
{
    unsigned char ip[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, ip) == 1 ||
           inet_pton(AF_INET6, host, ip) == 1;
}

int scn__resolve_fd(const scn_resolve *r)
{
    return r->efd;
}

int scn__resolve_result(scn_resolve *r, scn_addr_text addrs[SCN_RESOLVE_MAX],
                        size_t *n)
{
    int err;

    pthread_mutex_lock(&r->mu);
    err = r->done ? r->err : SCN_ERR_STATE;
    *n = r->n;
    memcpy(addrs, r->addrs, r->n * sizeof(r->addrs[0]));
    pthread_mutex_unlock(&r->mu);
    return err;
}

void scn__resolve_free(scn_resolve *r)
{
    if (r)
        release(r);
}
