/*
 * The loop's libwebsockets state, behind scn_loop's opaque lws pointer.
 * For the files in lib/lws/ only: it includes libwebsockets.h.
 */
#ifndef SCN_LWS_LOOP_H
#define SCN_LWS_LOOP_H

#include <libwebsockets.h>

#include "io.h"
#include "mask_pool.h"
#include "session_internal.h"
#include "tls_mem.h"

struct scn_lws_loop {
    struct lws_context *ctx;
    struct lws_vhost *vhost; /* client vhost: plain TCP, wss:// too */
    scn_tls_ctx *tls;        /* wss:// with the system CAs, on first need */
    /* ws_adapter.c: ciphertext on its way to lws (LWS_PRE before it). */
    unsigned char *tls_out;
    size_t tls_out_cap;
    lws_sorted_usec_list_t wait_sul; /* bounds one turn's poll() */
    lws_dll2_owner_t timers;         /* armed scn_lws_timers, by due */
    struct lws_vhost *server_vhost;      /* server_adapter.c: all servers' */
    struct scn_server *servers;          /* server_adapter.c: listening ones */
    struct scn_server_loop *server_loop; /* server_adapter.c: epoll set */
    scn_mask_pool masks;        /* ws_adapter.c: client frames' masking keys */
    struct lws_vhost *fd_vhost; /* fd_watch.c: foreign sockets' */
};

/* server_adapter.c: before the context goes (lws closes the set's
 * descriptor with it). */
void scn__server_loop_free(scn_loop *loop);

/* ws_adapter.c */
extern const struct lws_protocols scn__ws_protocols[];

static inline struct lws_context *scn_lws_ctx(const scn_loop *loop)
{
    return loop->lws->ctx;
}

#endif
