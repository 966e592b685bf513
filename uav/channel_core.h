/*
 * The command channel's policy: one command in flight, a bounded queue,
 * activation, timeouts by class, read retries, emergency first, and the
 * resynchronisation rule after a timeout (docs/PROTOCOL.md, "UAV command
 * channel"). Pure: time comes in as an argument and the outside world is
 * three function pointers, so unit tests drive it without sockets.
 */
#ifndef SCN_UAV_CHANNEL_CORE_H
#define SCN_UAV_CHANNEL_CORE_H

#include <scentience/uav.h>
#include <scentience/uav_channel.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct uav_job {
    scn_uav_cmd cmd;
    char line[SCN_UAV_LINE_MAX + 1];
    size_t len;
    scn_uav_reply_fn cb;
    void *user;
    uint32_t attempts;
    uint64_t queued_at;
    uint64_t sent_at;
    uint64_t ticket; /* the link's number for the line, 0: not queued */
    bool written;    /* handed to the socket: the drone may have it */
} uav_job;

typedef enum uav_phase {
    UAV_DOWN = 0,   /* no link */
    UAV_ACTIVATING, /* link up, hello_scentience not yet answered ok */
    UAV_READY       /* SDK mode: commands flow */
} uav_phase;

/* What the channel knows of the drone's flight (scn_uav_channel_airborne):
 * from the answers to takeoff, land and emergency on this channel. */
typedef enum uav_airborne {
    UAV_AIRBORNE_UNKNOWN = -1,
    UAV_AIRBORNE_NO = 0,
    UAV_AIRBORNE_YES = 1
} uav_airborne;

typedef struct uav_core_ops {
    /* Queues a line on the link; urgent lines overtake anything queued
     * below. *ticket receives the number scn__uav_core_written() will report
     * when it reaches the socket. Returns 0 or an error (the link is
     * down). */
    int (*send)(const char *line, size_t len, bool urgent, uint64_t *ticket,
                void *ctx);
    /* A job is finished: reply_err 0 or SCN_ERR_*; answer may be NULL. */
    void (*complete)(const uav_job *job, int reply_err,
                     const scn_uav_answer *answer, uint64_t now, void *ctx);
    /* SDK mode entered (1) or left (0). */
    void (*active)(int active, void *ctx);
    void *ctx;
} uav_core_ops;

typedef struct uav_core {
    uav_phase phase;
    uav_core_ops ops;
    uint32_t short_ms, long_ms, resync_ms, read_retries, activation_retry_ms;
    bool require_airborne; /* refuse what moves the drone unless airborne */
    uav_airborne airborne;
    uav_job *ring;
    size_t cap, head, count;
    uav_job inflight;
    bool has_inflight;
    bool inflight_internal; /* the channel's own hello_scentience */
    uint64_t deadline;      /* in-flight timeout */
    /* Answers still owed by commands we gave up on (timed out or
     * superseded). Until they arrive or stray_until passes, the next
     * command waits, so that a late answer is never taken for it. */
    uint32_t strays_expected;
    uint32_t hellos_owed; /* of those, timed-out hello_scentience */
    uint64_t stray_until;
    uint64_t hello_at; /* ACTIVATING without hello in flight: retry */
    bool pumping;
    scn_uav_channel_stats stats;
} uav_core;

int scn__uav_core_init(uav_core *c, const scn_uav_channel_options *o,
                       const uav_core_ops *ops);
void scn__uav_core_free(uav_core *c);
/* Queues a validated command. Returns 0, SCN_ERR_QUEUE_FULL, or
 * SCN_ERR_UAV_NOT_AIRBORNE (require_airborne, a command that moves the
 * drone, and the drone not known airborne). */
int scn__uav_core_submit(uav_core *c, uint64_t now, const scn_uav_cmd *cmd,
                         const char *line, size_t len, scn_uav_reply_fn cb,
                         void *user);
/* Sends emergency now, ahead of everything; fails every queued command
 * (SUPERSEDED). Returns 0 or the send error (reported loudly by caller). */
int scn__uav_core_emergency(uav_core *c, uint64_t now, scn_uav_reply_fn cb,
                            void *user);
void scn__uav_core_link_up(uav_core *c, uint64_t now);
/* The link is gone, and aborted: what was not written never will be. The
 * command in flight completes as UAV_OUTCOME_UNKNOWN when its line was
 * written, else as UAV_LINK_LOST (not sent), like every queued one. */
void scn__uav_core_link_down(uav_core *c, uint64_t now);
/* The line with this ticket was handed to the socket. */
void scn__uav_core_written(uav_core *c, uint64_t ticket);
void scn__uav_core_answer(uav_core *c, uint64_t now, const char *text,
                          size_t len);
/* Handles what is due; returns the next deadline (UINT64_MAX: none). */
uint64_t scn__uav_core_tick(uav_core *c, uint64_t now);

#endif
