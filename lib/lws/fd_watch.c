/*
 * A foreign socket's readiness on the loop (io.h, "fd_watch.c"): another
 * library (libmosquitto) owns the socket and does its I/O; lws only polls
 * it, as a raw file, so that its events come from the loop's one poll,
 * never from a thread of that library.
 *
 * lws gets a dup of the descriptor: it closes what it adopted, and the
 * owner closes its own, in whichever order. All watches of a loop share
 * one vhost without a listener, made with the first.
 *
 * lws 4.1.6's raw file clears POLLOUT after its writable callback returns
 * (rops_handle_POLLIN_raw_file in roles/raw-file/ops-raw-file.c), so a
 * write asked for inside that callback would be lost: the rest of a
 * partial write would wait for the next read or timer. Such a request is
 * made from a sul instead, which lws runs at the top of its next turn,
 * before it polls.
 */
#include <fcntl.h>
#include <scentience/error.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lws_loop.h"

#define PROTOCOL_NAME "scn-fd"

struct scn_fd_watch {
    struct lws *wsi; /* NULL once lws let go of it */
    scn_fd_watch_fn fn;
    void *user;
    bool in_callback;
    bool in_writable; /* inside the writable callback: see the top */
    bool free_pending;
    lws_sorted_usec_list_t rearm; /* a write asked for in_writable */
};

static int fd_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len);

static const struct lws_protocols fd_protocols[] = {
    {PROTOCOL_NAME, fd_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static struct lws_vhost *fd_vhost(scn_loop *loop)
{
    struct lws_context_creation_info info;

    if (loop->lws->fd_vhost)
        return loop->lws->fd_vhost;
    memset(&info, 0, sizeof(info));
    info.vhost_name = "scn-fds";
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = fd_protocols;
    info.user = loop;
    loop->lws->fd_vhost = lws_create_vhost(loop->lws->ctx, &info);
    return loop->lws->fd_vhost;
}

/* Runs the owner's callback. A free asked for inside it happens after;
 * returns -1 then, which makes lws close the wsi (and the dup): a wsi
 * must not be killed from inside its own callback. */
static int notify(struct lws *wsi, scn_fd_watch *w, bool readable,
                  bool writable, bool hangup)
{
    w->in_callback = true;
    w->in_writable = writable;
    w->fn(w->user, readable, writable, hangup);
    w->in_callback = false;
    w->in_writable = false;
    if (!w->free_pending)
        return 0;
    lws_sul_cancel(&w->rearm);
    if (w->wsi)
        lws_set_opaque_user_data(wsi, NULL);
    free(w);
    return -1;
}

static void rearm_due(lws_sorted_usec_list_t *sul)
{
    scn_fd_watch *w = lws_container_of(sul, scn_fd_watch, rearm);

    if (w->wsi)
        lws_callback_on_writable(w->wsi);
}

static int fd_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    scn_fd_watch *w = wsi ? lws_get_opaque_user_data(wsi) : NULL;

    (void)user;
    (void)in;
    (void)len;
    if (!w)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        return notify(wsi, w, true, false, false);
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        return notify(wsi, w, false, true, false);
    case LWS_CALLBACK_RAW_CLOSE_FILE:
    case LWS_CALLBACK_WSI_DESTROY:
        /* lws closed its dup after an error or hangup on it. */
        lws_set_opaque_user_data(wsi, NULL);
        lws_sul_cancel(&w->rearm);
        w->wsi = NULL;
        notify(wsi, w, false, false, true);
        return 0;
    default:
        return 0;
    }
}

int scn__fd_watch_new(scn_loop *loop, int fd, scn_fd_watch_fn fn, void *user,
                      scn_fd_watch **out)
{
    struct lws_vhost *vh = fd_vhost(loop);
    lws_sock_file_fd_type desc;
    scn_fd_watch *w;

    *out = NULL;
    if (!vh)
        return SCN_ERR_IO;
    w = calloc(1, sizeof(*w));
    if (!w)
        return SCN_ERR_NOMEM;
    desc.filefd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (desc.filefd < 0) {
        free(w);
        return SCN_ERR_IO;
    }
    w->fn = fn;
    w->user = user;
    /* lws closes the dup itself when adopting fails. */
    w->wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, desc,
                                        PROTOCOL_NAME, NULL);
    if (!w->wsi) {
        free(w);
        return SCN_ERR_IO;
    }
    lws_set_opaque_user_data(w->wsi, w);
    *out = w;
    return 0;
}

void scn__fd_watch_want_write(scn_fd_watch *w)
{
    if (!w || !w->wsi || w->free_pending)
        return;
    if (w->in_writable)
        lws_sul_schedule(lws_get_context(w->wsi), 0, &w->rearm, rearm_due, 1);
    else
        lws_callback_on_writable(w->wsi);
}

void scn__fd_watch_free(scn_fd_watch *w)
{
    struct lws *wsi;

    if (!w)
        return;
    if (w->in_callback) {
        w->free_pending = true;
        return;
    }
    lws_sul_cancel(&w->rearm);
    wsi = w->wsi;
    if (wsi) {
        w->wsi = NULL;
        lws_set_opaque_user_data(wsi, NULL);
        /* A raw file closes synchronously: the dup is gone on return. */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
    free(w);
}
