/* The app's video server: scn_server + callback + file sink. */
#include <scentience/error.h>
#include <scentience/server.h>
#include <scentience/uav_video_server.h>
#include <stdlib.h>
#include <string.h>

#include "drone_peer.h"
#include "video_sink.h"

struct scn_uav_video_server {
    scn_server *srv;
    uav_video_sink *sink;
    scn_uav_video_server_options opts;
    scn_uav_video_stats stats; /* loop thread only; sink stats added */
};

/* The first version's last field: the smallest struct_size accepted. */
#define VIDEO_SERVER_OPTIONS_V0                                                \
    SCN_OPTIONS_END(scn_uav_video_server_options, user)

static void video_server_defaults(scn_uav_video_server_options *o)
{
    memset(o, 0, sizeof(*o));
    o->bind_address = "0.0.0.0";
    o->port = 11111;
    o->buffer_bytes = 8u << 20;
    o->max_frame_bytes = 4u << 20;
}

void scn_uav_video_server_options_init_sized(scn_uav_video_server_options *o,
                                             size_t size)
{
    scn_uav_video_server_options d;

    video_server_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}

static void on_message(scn_server *srv, scn_server_conn *conn, const void *data,
                       size_t len, int is_binary, void *user)
{
    scn_uav_video_server *v = user;

    (void)srv;
    (void)conn;
    if (!is_binary)
        return; /* video is binary; text on this port is not ours */
    v->stats.frames++;
    v->stats.bytes += len;
    if (v->sink)
        scn__uav_video_sink_push(v->sink, data, len);
    if (v->opts.on_frame)
        v->opts.on_frame(v, data, len, v->opts.user);
}

int scn_uav_video_server_new(scn_loop *loop,
                             const scn_uav_video_server_options *o,
                             scn_uav_video_server **out)
{
    scn_uav_video_server *v;
    scn_uav_video_server_options own;
    scn_server_options so;
    scn_uav_drone_peers peers;
    int rc;

    if (!loop || !o || !out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    video_server_defaults(&own);
    if ((rc = scn_options_take(&own, sizeof(own), VIDEO_SERVER_OPTIONS_V0, o)))
        return rc;
    o = &own;
    if (!o->allow_any_peer &&
        (rc = scn__uav_drone_peers(o->drone_url, o->allow_peer, &peers)) != 0)
        return rc;
    v = calloc(1, sizeof(*v));
    if (!v)
        return SCN_ERR_NOMEM;
    v->opts = *o;
    if (!v->opts.buffer_bytes)
        v->opts.buffer_bytes = 8u << 20;
    if (!v->opts.max_frame_bytes)
        v->opts.max_frame_bytes = 4u << 20;
    if (o->out_path &&
        (rc = scn__uav_video_sink_open(o->out_path, v->opts.buffer_bytes,
                                       &v->sink)) != 0) {
        free(v);
        return rc;
    }
    scn_server_options_init(&so);
    so.bind_address = o->bind_address;
    so.port = o->port;
    if (!o->allow_any_peer) {
        so.allow = peers.list;
        so.allow_count = peers.count;
    }
    so.max_message_bytes = v->opts.max_frame_bytes;
    /* As the state server's (state_server.c), with room for a drone that
     * keeps its video link open between streamoff and streamon. */
    so.max_connections = 8;
    so.max_per_address = 4;
    so.idle_timeout_ms = 30000;
    so.ping_interval_ms = 2000;
    so.pong_timeout_ms = 4000;
    so.evict_idle_ms = 2000;
    so.callbacks.on_message = on_message;
    so.user = v;
    if ((rc = scn_server_new(loop, &so, &v->srv)) != 0) {
        scn__uav_video_sink_close(v->sink);
        free(v);
        return rc;
    }
    *out = v;
    return 0;
}

void scn_uav_video_server_free(scn_uav_video_server *v)
{
    if (!v)
        return;
    scn_server_free(v->srv);
    scn__uav_video_sink_close(v->sink);
    free(v);
}

int scn_uav_video_server_port(const scn_uav_video_server *v)
{
    return v ? scn_server_port(v->srv) : 0;
}

void scn_uav_video_server_get_stats(scn_uav_video_server *v,
                                    scn_uav_video_stats *out)
{
    scn_server_stats ss;
    uav_video_sink_stats ks;

    if (!v || !out)
        return;
    *out = v->stats;
    scn_server_get_stats(v->srv, &ss);
    out->refused_peers = ss.refused_address;
    if (v->sink) {
        scn__uav_video_sink_stats_get(v->sink, &ks);
        out->written_bytes = ks.written_bytes;
        out->dropped_frames = ks.dropped_frames;
        out->crc32 = ks.crc32;
    }
}
