/*
 * The /live protocol of scn_fanout on a server another object owns
 * (scn_live serves /live, Foxglove and the dashboard on one port): the
 * owner forwards the server's callbacks for the connections of the /live
 * route. Loop thread, except publishing (thread-safe).
 */
#ifndef SCN_FANOUT_INTERNAL_H
#define SCN_FANOUT_INTERNAL_H

#include <scentience/fanout.h>
#include <scentience/server.h>
#include <stdbool.h>
#include <stddef.h>

#include "fanout_request.h"

/* A fan-out publishing to /live subscribers of srv (not owned). NULL: no
 * memory. */
scn_fanout *scn__fanout_attach(scn_server *srv);
/* Forgets every subscriber and frees fo (not the server). */
void scn__fanout_detach(scn_fanout *fo);

/* The server's callbacks, for one /live connection. connect returns 0 to
 * accept. */
int scn__fanout_conn_connect(scn_fanout *fo, scn_server_conn *conn,
                             const char *peer);
void scn__fanout_conn_message(scn_fanout *fo, scn_server_conn *conn,
                              const void *data, size_t len, int is_binary);
void scn__fanout_conn_close(scn_fanout *fo, scn_server_conn *conn);
void scn__fanout_conn_error(scn_fanout *fo, scn_server_conn *conn, int err);

/* Publishes json that is known to be one JSON value, on a valid stream
 * name (scn_fanout_publish checks both first). */
int scn__fanout_publish_valid(scn_fanout *fo, const char *stream,
                              const char *json, size_t len);

/* A text made only when it is needed (a frame's canonical JSON): sets
 * *json and *len, valid until the publish returns; returns 0 or
 * SCN_ERR_NOMEM. */
typedef int (*scn_fanout_text_fn)(void *arg, const char **json, size_t *len);

/* scn__fanout_publish_valid() of the text text(arg) makes, which is made
 * only when a subscriber wants stream, or when len_max (no shorter than
 * the text) cannot rule out SCN_ERR_MESSAGE_TOO_BIG. */
int scn__fanout_publish_text(scn_fanout *fo, const char *stream, size_t len_max,
                             scn_fanout_text_fn text, void *arg);

/* scn__fanout_stream_name_ok(): fanout_request.h. One complete JSON value and
 * nothing else but whitespace. */
bool scn__json_value_ok(const char *json, size_t len);

#endif
