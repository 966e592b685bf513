/*
 * scn-replay: serves an MCAP recording back as a live device server. One
 * playback clock is shared by every connection, as a real device's stream
 * is: a client that joins late sees the recording from where it is now.
 */
#ifndef SCN_REPLAY_H
#define SCN_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include <scentience/frame.h>
#include <scentience/live.h>
#include <scentience/loop.h>
#include <scentience/recording.h>
#include <scentience/server.h>
#include <scentience/timer.h>

/* KIND_OTHER: a channel played on the live listener only. */
enum { KIND_DEVICE, KIND_STATE, KIND_INFERENCE, KIND_OTHER, KIND_COUNT };

/* Close code at the end of the recording: no more data (PROTOCOL.md 5). */
#define REPLAY_END_OF_STREAM 4010

/* One message to play: the three served channels (and, with a live
 * listener, every other), in log time order. */
typedef struct rp_msg {
    uint64_t t; /* log time, ns */
    const char *data;
    size_t len;
    int kind;
    const scn_recording_channel *ch;
} rp_msg;

/* A recording channel on the live listener: its Foxglove channel (0:
 * none) and its /live stream (NULL: none). */
typedef struct rp_live_chan {
    const scn_recording_channel *ch;
    uint32_t id;
    const char *stream;
} rp_live_chan;

#define RP_LIVE_CHANNELS 32

typedef struct rp_conn {
    scn_server_conn *conn;
    int kind;
    int streaming; /* device: paced frames wanted (section 4 "stream") */
    uint64_t seq;  /* device: SEQ of the last frame sent */
    int closing;   /* closed at the end of the recording */
    struct rp_conn *next;
} rp_conn;

typedef struct rp_app {
    scn_loop *loop;
    scn_server *srv;
    scn_timer *timer;
    scn_recording *rec;
    scn_frame *frame;
    rp_msg *msgs;
    size_t n, pos, frames; /* frames: /olfaction messages among msgs */
    int has[KIND_COUNT];
    double speed, rate_hz; /* rate_hz: recorded frame rate times speed */
    int loop_mode;
    uint64_t base_t, base_wall; /* log time that plays at wall time */
    uint64_t loop_gap_ns;       /* log time between a pass and the next */
    uint64_t end_deadline;      /* last moment to wait for queues to drain */
    int started, ending, done;
    size_t open;
    rp_conn *conns;
    char *hello;
    size_t hello_len;
    /* The frame due, split around its SEQ value, and the message built. */
    char *pre, *suf, *out;
    size_t pre_len, suf_len, pre_cap, suf_cap, out_cap;
    uint64_t sent_frames, skipped, passes;
    /* The live listener (live.c): Foxglove, /live and the dashboard. */
    scn_live *live;
    rp_live_chan lch[RP_LIVE_CHANNELS];
    size_t nlch;
    const char *olfaction_topic;
} rp_app;

/* Monotonic clock, ns. */
uint64_t rp_now_ns(void);

/* Server callbacks (play.c); user is the rp_app. */
int rp_on_connect(scn_server *srv, scn_server_conn *conn, const char *peer,
                  const char *path, void *user);
void rp_on_message(scn_server *srv, scn_server_conn *conn, const void *data,
                   size_t len, int is_binary, void *user);
void rp_on_close(scn_server *srv, scn_server_conn *conn, int code, void *user);

/* The pacing timer's callback. */
void rp_tick(scn_timer *t, void *user);
/* Starts playback now (the first client came). */
void rp_start(rp_app *a);

/* live.c: the recording served to dashboards and Foxglove as if live.
 * rp_live_start returns 0 or an exit code (the reason printed). */
int rp_live_start(rp_app *a, const char *host, int port);
/* Whether the listener may bind there: loopback only, since off the
 * board a dashboard needs a token the replay cannot take yet. */
int rp_live_bind_ok(const char *host);
void rp_live_publish(rp_app *a, const rp_msg *m);
/* Whether a dashboard or Foxglove client is connected. */
int rp_live_watched(rp_app *a);
void rp_live_stop(rp_app *a);

#endif
