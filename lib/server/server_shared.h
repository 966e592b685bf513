/*
 * What lib's own users of a server (the fan-out, the live listener) may
 * do beyond the public API. They see no more of the server than this:
 * its structures stay in server_internal.h.
 */
#ifndef SCN_SERVER_SHARED_H
#define SCN_SERVER_SHARED_H

#include <scentience/server.h>
#include <stddef.h>

#include "shmsg.h"

/* Queues a reference to a shared message (see peerq.h) on conn, after
 * prefix (plen bytes, copied). Same returns as scn_server_conn_send. */
int scn__server_conn_send_shared(scn_server_conn *conn, scn_shmsg *m,
                                 int is_binary, const void *prefix,
                                 size_t plen);
/* The largest message a connection's queue takes (queue_bytes). */
size_t scn__server_queue_bytes(const scn_server *srv);
/* Callbacks still due (a free deferred inside a callback) get a NULL user:
 * the owner is going away. */
void scn__server_clear_user(scn_server *srv);

#endif
