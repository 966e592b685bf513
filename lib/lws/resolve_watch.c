/*
 * A host name resolved off the loop (lib/core/resolve.c) and its result
 * delivered on the loop (io.h): the resolver's descriptor watched like
 * any foreign one, so sessions and the MQTT link share one way of waiting.
 */
#include <scentience/error.h>
#include <stdlib.h>

#include "io.h"

struct scn_resolve_watch {
    scn_resolve *job;
    scn_fd_watch *watch;
    scn_resolved_fn fn;
    void *user;
};

static void on_ready(void *user, bool readable, bool writable, bool hangup)
{
    scn_resolve_watch *w = user;
    scn_addr_text addrs[SCN_RESOLVE_MAX];
    size_t n = 0;
    scn_resolved_fn fn = w->fn;
    void *fn_user = w->user;
    int rc;

    (void)writable;
    if (!readable && !hangup)
        return;
    rc = scn__resolve_result(w->job, addrs, &n);
    scn__resolve_watch_free(w);
    fn(fn_user, rc, (const scn_addr_text *)addrs, n);
}

int scn__resolve_watch_start(scn_loop *loop, const char *host,
                             scn_resolved_fn fn, void *user,
                             scn_resolve_watch **out)
{
    scn_resolve_watch *w = calloc(1, sizeof(*w));
    int rc;

    *out = NULL;
    if (!w)
        return SCN_ERR_NOMEM;
    w->fn = fn;
    w->user = user;
    rc = scn__resolve_start(host, &w->job);
    if (rc == 0)
        rc = scn__fd_watch_new(loop, scn__resolve_fd(w->job), on_ready, w,
                               &w->watch);
    if (rc) {
        scn__resolve_watch_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void scn__resolve_watch_free(scn_resolve_watch *w)
{
    if (!w)
        return;
    scn__fd_watch_free(w->watch);
    scn__resolve_free(w->job); /* a thread still resolving ends by itself */
    free(w);
}
