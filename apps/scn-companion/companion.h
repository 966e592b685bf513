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

#include <scentience/api_key.h>
#include <scentience/cloud.h>
#include <scentience/live.h>
#include <scentience/recorder.h>
#include <scentience/scentience.h>
#include <scentience/timer.h>
#include <scentience/uav_channel.h>
#include <scentience/uav_state_server.h>
#include <scentience/uav_video_server.h>

#include "cloud_json.h"
#include "flight_script.h"
#include "live_listen.h"
#include "ratelimit.h"

/* ---- fuse.c: recent drone states, stamped with their receive time ---- */

/* A state's JSON up to FUSE_JSON_MAX - 1 bytes is held in its entry:
 * every state of documented fields alone (466 bytes at most) is. A
 * longer one (unknown keys, up to SCN_UAV_STATE_JSON_MAX) is held in a
 * heap copy, so the ring (1024 entries) stays about 0.5 MiB. */
#define FUSE_JSON_MAX 512

typedef struct fuse_entry {
    int64_t t_ns;     /* wall clock when received */
    size_t len;       /* of json, without its NUL */
    const char *json; /* small, or big for a long one */
    char *big; /* the heap copy; reused by the slot's next long one, freed
                * when a short one takes the slot or it leaves the window */
    size_t big_cap;
    char small[FUSE_JSON_MAX];
} fuse_entry;

typedef struct fuse_ring {
    fuse_entry *e;
    int64_t *t_ns; /* e[i].t_ns again, packed: the nearest-state search
                    * reads only these (entries over 0.5 KiB apart, a
                    * cache miss each) */
    /* late[i]: e[i] was received with an earlier time than the entry
     * before it (the wall clock stepped back); late_count of those are
     * held. With none, times only grow from the oldest to the newest
     * and the search stops early. */
    unsigned char *late;
    size_t late_count;
    size_t cap, head, count; /* head: next slot to write */
    int64_t keep_ns;         /* entries older than newest - keep_ns go */
} fuse_ring;

int fuse_init(fuse_ring *r, size_t cap, int64_t keep_ns);
void fuse_free(fuse_ring *r);
/* Adds json[0..len) (NUL-terminated); -1 when a long one's copy could
 * not be allocated (nothing added). */
int fuse_add(fuse_ring *r, int64_t t_ns, const char *json, size_t len);
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

typedef struct config {
    const char *device_url, *device, *drone_url, *video_out, *listen;
    const char *script, *follow, *record, *key_file, *cloud_url, *spool;
    double rate, threshold, max_age, duration;
    int state_port, video_port, no_status, no_land;
    /* Live listener (--live-*): see docs/PROTOCOL.md 10 and 11. */
    live_listen_settings live;
    uint64_t spool_cap; /* --spool-cap; 0: the library's default */
    /* The fleet output (--mqtt-*): see docs/PROTOCOL.md 12. */
    const char *mqtt_url, *drone_id, *mqtt_username, *mqtt_password_file;
    const char *mqtt_ca, *mqtt_cert, *mqtt_key, *mqtt_spool, *mqtt_commands;
    double mqtt_rate;        /* per second for olfaction, state; 0: all */
    int mqtt_data_qos;       /* their QoS: 0 (default) or 1 */
    uint64_t mqtt_spool_cap; /* 0: the library's default */
} config;

/* main.c: the defaults. */
void comp_config_defaults(config *cf);

/* The values a config file set: cf points into them, so they are kept
 * until comp_settings_free(). */
typedef struct comp_settings {
    config *cf;
    char **kept;
    size_t nkept, capkept;
} comp_settings;

/* One setting of a config file (apps/common/config_file.h, user: a
 * comp_settings), applied to its cf as the flag would be. The reader and
 * this are what --config and --check-config share, so that they agree. */
int comp_config_setting(const char *key, const char *value, void *settings,
                        char *why, size_t why_cap);
void comp_settings_free(comp_settings *s);

/* check_config.c: scn-companion --check-config FILE. Reports every problem
 * in FILE on stderr and returns 0 only for a config the companion would
 * start with, else CLI_EX_CONFIG (78). */
int comp_check_config(const char *path);

/* Links, as indexes of per-link arrays. */
enum { LINK_DEVICE, LINK_DRONE, LINK_CLOUD, LINK_MQTT, LINK_COUNT };

/* fleet.c's state (opaque here). */
typedef struct comp_fleet comp_fleet;

/* A session or channel replaced at a key rotation, closing (1000) before
 * it is freed. */
typedef struct retired {
    scn_session *dev;
    scn_uav_channel *ch;
    uint64_t deadline_ms;
} retired;

#define RETIRED_MAX 8

typedef struct comp {
    const config *cf;
    /* The key every link uses, resolved at start and on SIGHUP only (see
     * keys.c); NULL never once running. */
    scn_api_key *key;
    scn_loop *loop;
    scn_session *dev;
    scn_uav_channel *ch;
    scn_uav_channel *ch_next; /* the drone link on a new key, not yet used */
    scn_uav_state_server *state_srv;
    scn_uav_video_server *video_srv;
    scn_cloud *cloud;
    scn_live *live;
    uint32_t live_chan[SCN_RECORD_STREAM_COUNT]; /* 0: not advertised */
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
    int fatal;         /* the error once a link failed for good */
    int fatal_status;  /* its exit code, when not cli_exit_for_error's */
    comp_fleet *fleet; /* --mqtt-url */
    uint64_t frames, states, inferences, commands, reconnects;
    uint64_t fused_with_state, submit_errors;
    /* Each device frame's JSON, made once (wiring.c); frames_lost: frames
     * it could not be made for (out of memory). */
    char *frame_json;
    size_t frame_json_cap;
    uint64_t frames_lost;
    /* Each fused frame's cloud record and each inference, made in buffers
     * kept and grown the same way (a long drone state, a long UID, labels
     * of escaped control characters). */
    cloud_text cloud_rec, inference_json;
    /* Drone states not written as JSON (so neither recorded nor
     * published), states not fused (no memory for a long one's copy),
     * cloud records and inferences not recorded (no memory): each said in
     * /events and, rate-limited, on stderr (wiring.c). */
    uint64_t states_lost, states_unfused, cloud_records_lost,
        inferences_unrecorded;
    cli_ratelimit rl_state;
    /* --record failures (a full disk: the recorder's error is sticky):
     * messages lost (refused, or in the chunk that could not be
     * written), its last error, said as record_failed (wiring.c);
     * reporting: that entry is being written (its own failed write is
     * counted, not reported again). Exit 74. */
    uint64_t records_lost;
    int record_err, record_reporting;
    cli_ratelimit rl_record;
    /* Messages the live fan-out refused (out of memory, too big for any
     * subscriber), said as live_refused (wiring.c); not kept data: the
     * exit status stays. */
    uint64_t live_refused;
    int live_reporting;
    cli_ratelimit rl_live;
    /* /events and /uav/command records not kept whole (out of memory):
     * the member left out named in the record, said on stderr (wiring.c).
     * Exit 74. */
    uint64_t events_incomplete;
    cli_ratelimit rl_event;
    /* QoS 1 fleet messages lost (exit 74): dropped from the MQTT spool
     * unacknowledged, or refused by it (fleet.c). */
    uint64_t mqtt_lost;
    cli_ratelimit rl_frame;
    int opened[LINK_COUNT];   /* opened once (reconnect count) */
    uint64_t cmd_outstanding; /* commands sent, reply not yet in */
    /* Each link as its last state event left it (status.c). */
    struct {
        int state;  /* scn_state; idle before the first event */
        int reason; /* of the last event that had one */
        uint32_t attempt, delay_ms;
        uint64_t reconnects;
    } link[LINK_COUNT];
    scn_timer *status_timer;

    /* Records the cloud will never get (exit 74): dropped from the spool
     * before it acknowledged them, refused for lack of any room. Kept
     * here: a key rotation replaces the scn_cloud and its counters. */
    uint64_t spool_dropped, cloud_refused;
    struct {
        uint64_t first, last, count;
        int disk_full;
    } drop_unprinted; /* drops since the last stderr line */
    cli_ratelimit rl_submit, rl_drop, rl_spool;

    /* Key rotation (keys.c). */
    int rot_pending[LINK_COUNT]; /* link not yet on the new key */
    retired old[RETIRED_MAX];
    uint64_t key_reloads, key_reload_errors, key_rotations;
} comp;

int64_t wall_ns(void);
/* Records json on a well-known stream (log and publish time: now, or
 * publish_ns when > 0) and publishes it on the fan-out stream (NULL: no).
 */
void comp_emit(comp *c, scn_record_stream st, const char *stream,
               const char *json, size_t len, int64_t publish_ns);
/* The recorder refused lost messages, or a flush failed (lost 0): rc
 * counted and said (an /events entry for the fan-out and the fleet,
 * stderr at most once an interval). */
void comp_record_failed(comp *c, int rc, uint64_t lost);
/* An /events + "events" entry; detail may be NULL. */
void comp_event(comp *c, const char *event, const char *source,
                const char *detail);

/* live.c: the live listener with a channel per stream the companion has.
 * Returns 0 or an exit code (the reason printed). */
int comp_live_start(comp *c);
/* Unadvertises every channel and closes the listener. */
void comp_live_stop(comp *c);

/* status.c: the /live "status" stream, once a second while the live
 * listener runs (docs/PROTOCOL.md 10.7). Returns 0 or SCN_ERR_NOMEM. */
int comp_status_start(comp *c);
void comp_status_stop(comp *c);
/* A link's state event, remembered for the next status message. */
void comp_status_link(comp *c, int link, const scn_state_event *ev);

/* wiring.c: callbacks of every component. */
/* At exit: what the rate limits held back, and the loss (1 if any). */
int comp_report_cloud_loss(comp *c);
void wire_device(comp *c, scn_session_options *o);
void wire_channel(comp *c, scn_uav_channel_options *co);
void wire_state(comp *c, scn_uav_state_server_options *so);
void wire_cloud(comp *c, scn_cloud_options *o);

/* The companion's own command to the drone (printed, recorded, counted):
 * returns 0, or the channel's refusal with why filled (then cb is never
 * called). */
int comp_send_command(comp *c, const char *line, scn_uav_reply_fn cb,
                      void *user, char *why, size_t why_cap);
/* What every command's end does (record, flight state, stdout); reply
 * callbacks call it first. */
void comp_command_reply(comp *c, const scn_uav_reply *r);

/* fleet.c: the MQTT output and fleet commands (--mqtt-url). start returns
 * 0 or an exit code (the reason printed); the rest do nothing without
 * --mqtt-url. */
int comp_fleet_start(comp *c);
/* The --mqtt-* settings as a whole (what each needs of the others): 0,
 * or -1 with the first problem in why. --config, --check-config and the
 * flags share it. */
int comp_mqtt_settings_check(const config *cf, char *why, size_t why_cap);
/* A recorded document, published on its topic (ts_ns: its time). */
void comp_fleet_publish(comp *c, scn_record_stream st, const char *json,
                        size_t len, int64_t ts_ns);
/* The device's UID (from its frames) and the drone's serial (asked once
 * the drone is active) go into the birth status. */
void comp_fleet_device_uid(comp *c, const char *uid);
void comp_fleet_drone_active(comp *c);
/* The offline status, a bounded wait for the broker to take what is
 * spooled, the summary line; frees. Call after the drone's channel is
 * freed (its pending fleet commands reply through here). */
void comp_fleet_stop(comp *c);

/* keys.c: the links, made with the current key, and SIGHUP. Each returns
 * 0 or the error of the library's constructor. */
int comp_new_device(comp *c);
int comp_new_channel(comp *c, scn_uav_channel **out);
int comp_new_cloud(comp *c);
/* Re-reads the key (SIGHUP); see keys.c for what follows. */
void comp_reload_key(comp *c);
/* Every loop turn: moves commands to the new drone link once it is active
 * and idle, frees closed retired links. */
void comp_key_poll(comp *c);
/* A link opened (link_event): ends its part of a rotation. */
void comp_key_link_open(comp *c, int link);
/* Frees every retired link (at exit). */
void comp_key_free_retired(comp *c);
/* Advances the script (on the loop thread). */
void script_kick(comp *c);
/* Sends `land` (exit while flying); land_replied is set when it ends. */
int comp_land(comp *c);

#endif
