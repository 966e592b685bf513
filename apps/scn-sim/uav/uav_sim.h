/*
 * `scn-sim uav`: a simulated drone speaking UAV-Sockets, on the common
 * server skeleton (common/simserver.h). The pieces: uav_main.c (options),
 * uav_server.c (handshake, faults, the simulation clock), uav_conn.c (one
 * command connection), uav_drone.c (the drone: command rules and physics, no
 * I/O), uav_links.c (the drone's outgoing state and video links to the app) and
 * uav_video.c (the fake video).
 */
#ifndef SCN_SIM_UAV_SIM_H
#define SCN_SIM_UAV_SIM_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#include "common/keystore.h"
#include "common/plume.h"
#include "common/simserver.h"
#include "uav_drone.h"

#define UAV_PROTOCOL      "scentience.uav.v1"
#define UAV_PEER_MAX      64
#define UAV_RX_MAX        1024        /* kept of one command message */
#define UAV_OUTQ_MAX      64          /* answers waiting per connection */
#define UAV_INFLIGHT_HIGH 32          /* unanswered commands: stop reading */
#define UAV_INFLIGHT_LOW  16          /* ...and read again */
#define UAV_TICK_US       5000        /* the simulation clock's wall period */
#define UAV_TX_CAP        (32 * 1024) /* an IDR access unit: uav_video.h */

typedef struct uav_opts {
    sim_opts base;
    double time_scale;      /* simulated seconds per wall second */
    double battery_drain_s; /* simulated flight seconds per 1% */
    double battery0;        /* % at start */
    const char *state_host; /* NULL: the peer that sent hello_scentience */
    int state_port, video_port;
    double state_rate_hz;
    double video_fps;
    double reconnect_s; /* wall delay before a link is tried again */
    /* Faults (base: drop and stall command connections every ... s). */
    double stall_for_s;
    uint64_t garbage_state_every; /* every Nth state string; 0: off */
    const char *state_extra;      /* appended to every state string */
    unsigned late_answers_ms;
} uav_opts;

typedef struct uav_srv uav_srv;

/* An answer waiting to go out, at due_us (monotonic). */
typedef struct uav_out {
    char *text;
    size_t len;
    int64_t made_us, due_us;
    int cmd; /* scn_uav_cmd_id, -1 when the message was no command */
} uav_out;

/* One command connection (lws per-session data, zeroed by lws). */
typedef struct uav_conn {
    sim_conn h;
    uav_srv *srv;
    struct lws *wsi;
    ks_key *key;
    char peer[UAV_PEER_MAX];

    uav_out q[UAV_OUTQ_MAX]; /* ring */
    unsigned q_head, q_len;
    unsigned inflight; /* commands received, answer not yet written */
    int rx_paused;     /* flow control currently off */
    int rx_load;       /* too many unanswered commands */

    char rx[UAV_RX_MAX + 1];
    size_t rx_len, rx_total;
    int rx_started, rx_binary;
    uint64_t commands, answers;
} uav_conn;

/* An outgoing link from the drone to the app (state or video). The lws
 * client connection uses the struct as its user data. */
typedef struct uav_link {
    uav_srv *srv;
    const char *name; /* "state", "video" */
    int video;
    struct lws *wsi;
    int live;        /* a connection attempt or connection exists */
    int want;        /* should be connected */
    int up;          /* established */
    int closing;     /* close frame due (streamoff, stop, new host) */
    int dropped;     /* killed by a fault */
    const char *why; /* why we closed it, for the log */
    char host[UAV_PEER_MAX];
    int port;
    lws_sorted_usec_list_t sul_retry;
    int64_t period_us, next_due_us;
    int pending; /* a message is due */
    /* Keepalive: a ping every LINK_PING_US; no answer (nor anything else
     * from the app) for LINK_DEAD_US and the link is dropped and made
     * again, as a drone must: TCP alone would wait for its retransmission
     * backoff, tens of seconds after a long blackout. */
    int64_t last_rx_us, last_ping_us;
    int ping_due;
    /* This connection's counts: messages, bytes, CRC-32 of what went
     * out (video), skipped (due while the socket was busy). */
    uint64_t seq, bytes, skipped, garbage;
    unsigned long crc;
    uint64_t connects;
} uav_link;

struct uav_srv {
    sim_server base;
    const uav_opts *o;
    struct lws_vhost *vh_links;
    uav_drone drone;
    int stalled;
    int64_t stall_until_us;
    char app_host[UAV_PEER_MAX]; /* "" until hello_scentience */
    uav_link state, video;
    uint64_t total_commands;
    lws_sorted_usec_list_t sul_tick;
};

/* Simulated seconds since the start. */
double uav_sim_time(const uav_srv *s);

/* uav_main.c */
int uav_main(int argc, char **argv);

/* uav_server.c */
int uav_run(const uav_opts *o);
uav_conn *uav_find_conn(uav_srv *s, unsigned long id);

/* uav_conn.c: one command connection; its life, for the skeleton. */
extern const sim_conn_ops uav_conn_ops;
/* Queues an answer (late by --late-answers). */
void uav_conn_answer(uav_conn *c, int cmd, const char *text);
/* Asks for a write when the first answer is due. */
void uav_conn_poll(uav_conn *c, int64_t now_us);
void uav_conn_update_rx(uav_conn *c);
void uav_conn_close(uav_conn *c, int code, const char *reason);
void uav_conn_drop(uav_conn *c);

/* uav_links.c */
extern const struct lws_protocols uav_link_protocols[];
void uav_links_init(uav_srv *s);
/* Connects (on) or closes (off) a link to host:port; a link to another
 * host is closed and opened again. */
void uav_link_want(uav_link *l, int on, const char *host, int port);
/* Marks a message due when its period has passed. */
void uav_link_poll(uav_link *l, int64_t now_us);
void uav_link_drop(uav_link *l);
void uav_links_stop(uav_srv *s);
/* Whether a link still has a connection (or attempt) open. */
int uav_links_busy(const uav_srv *s);

#endif
