/*
 * What lib's own users of a server (the fan-out, the live listener) may
 * do beyond the public API. They see no more of the server than this:
 * its structures stay in server_internal.h.
 */
#ifndef SCN_SERVER_SHARED_H
#define SCN_SERVER_SHARED_H

#include <scentience/server.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shmsg.h"

/* Queues a reference to a shared message (see peerq.h) on conn, after
 * prefix (plen bytes, copied). Same returns as scn_server_conn_send. */
int scn__server_conn_send_shared(scn_server_conn *conn, scn_shmsg *m,
                                 int is_binary, const void *prefix,
                                 size_t plen);
/* Queuing one message on many connections of a server: one lock and one
 * clock reading for all of them, and at most one wake of the loop. Between
 * begin and end the caller holds the server's lock: it must call nothing
 * else of the server (lock order: the caller's own lock, then this). */
typedef struct scn_server_batch {
    scn_server *srv;
    uint64_t now_ms;
    bool wake;
} scn_server_batch;

void scn__server_batch_begin(scn_server *srv, scn_server_batch *b);
/* scn__server_conn_send_shared() of one connection of b's server. */
int scn__server_batch_push(scn_server_batch *b, scn_server_conn *conn,
                           scn_shmsg *m, int is_binary, const void *prefix,
                           size_t plen);
void scn__server_batch_end(scn_server_batch *b);
/* The largest message a connection's queue takes (queue_bytes). */
size_t scn__server_queue_bytes(const scn_server *srv);
/* Callbacks still due (a free deferred inside a callback) get a NULL user:
 * the owner is going away. */
void scn__server_clear_user(scn_server *srv);

#endif
