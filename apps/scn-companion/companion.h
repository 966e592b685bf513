/*
 * scn-companion: the program a drone's companion computer runs. One
 * scn_loop on the main thread serves the device session, the drone's
 * command channel and state/video servers, the cloud session, the live
 * fan-out and the MCAP recorder.
 */
#ifndef SCN_COMPANION_H
#define SCN_COMPANION_H

#include <stddef.h>
#include <stdint.h>

#include <scentience/cloud.h>
#include <scentience/fanout.h>
#include <scentience/recorder.h>
#include <scentience/scentience.h>
#include <scentience/timer.h>
#include <scentience/uav_channel.h>
#include <scentience/uav_state_server.h>
#include <scentience/uav_video_server.h>

#include "flight_script.h"

/* ---- fuse.c: recent drone states, stamped with their receive time ---- */

#define FUSE_JSON_MAX 1024

typedef struct fuse_entry {
    int64_t t_ns; /* wall clock when received */
    char json[FUSE_JSON_MAX];
} fuse_entry;

typedef struct fuse_ring {
    fuse_entry *e;
    size_t cap, head, count; /* head: next slot to write */
    int64_t keep_ns;         /* entries older than newest - keep_ns go */
} fuse_ring;

int fuse_init(fuse_ring *r, size_t cap, int64_t keep_ns);
void fuse_free(fuse_ring *r);
void fuse_add(fuse_ring *r, int64_t t_ns, const char *json);
/* The entry nearest in time to t_ns, NULL when none is recent enough. */
const fuse_entry *fuse_nearest(const fuse_ring *r, int64_t t_ns);

/* ---- follow.c: the --follow rule ---- */

#define FOLLOW_SEQS 4096

typedef struct follow_rule {
    const char *compound; /* NULL: not following; "any": the top label */
    char chosen[16];      /* the compound the oio names, once decided */
    double threshold;
    int64_t max_age_ns;
    int sent; /* oio already sent: once per compound while following */
    struct {
        uint64_t seq;
        int64_t frame_ns;
    } seqs[FOLLOW_SEQS]; /* seq -> frame TIMESTAMP, by seq % FOLLOW_SEQS */
} follow_rule;

void follow_remember(follow_rule *f, uint64_t seq, int64_t frame_ns);
/* Age of the inference for seq (now minus its frame's time), or -1 when
 * the frame is no longer known. */
int64_t follow_age_ns(const follow_rule *f, uint64_t seq, int64_t now_ns);
/* 1 when r should trigger `oio <chosen>` now (and marks it sent). */
int follow_decide(follow_rule *f, const scn_cloud_result *r, int64_t age_ns);

/* ---- the application ---- */

typedef struct comp {
    scn_loop *loop;
    scn_session *dev;
    scn_uav_channel *ch;
    scn_uav_state_server *state_srv;
    scn_uav_video_server *video_srv;
    scn_cloud *cloud;
    scn_fanout *fo;
    scn_recorder *rec;
    const char *record_path;
    uint16_t chan[SCN_RECORD_STREAM_COUNT];
    int chan_ok[SCN_RECORD_STREAM_COUNT];

    fuse_ring ring;
    follow_rule follow;

    script sc;
    size_t step;     /* next script step */
    int script_busy; /* a command or a wait is under way */
    int script_done;
    scn_timer *script_timer;

    int active;
    int flying;       /* takeoff answered ok, no land/emergency ok since */
    int land_replied; /* the exit landing completed (any outcome) */
    int closing;
    int fatal; /* exit code once a link failed for good */
    uint64_t frames, states, inferences, commands, reconnects;
    uint64_t fused_with_state, submit_errors;
    int opened[3]; /* device, drone, cloud: opened once (reconnect count) */
} comp;

int64_t wall_ns(void);
/* Records json on a well-known stream (log and publish time: now, or
 * publish_ns when > 0) and publishes it on the fan-out stream (NULL: no).
 */
void comp_emit(comp *c, scn_record_stream st, const char *stream,
               const char *json, size_t len, int64_t publish_ns);
/* An /events + "events" entry; detail may be NULL. */
void comp_event(comp *c, const char *event, const char *source,
                const char *detail);

/* wiring.c: callbacks of every component. */
void wire_device(comp *c, scn_session_options *o);
void wire_drone(comp *c, scn_uav_channel_options *co,
                scn_uav_state_server_options *so);
void wire_cloud(comp *c, scn_cloud_options *o);
/* Advances the script (on the loop thread). */
void script_kick(comp *c);
/* Sends `land` (exit while flying); land_replied is set when it ends. */
int comp_land(comp *c);

#endif
