/*
 * The QoS 1 in-flight window: which spooled messages were written on the
 * current connection under which packet id, and how far the broker's
 * PUBACKs acknowledge the spool. Records go out in spool order; PUBACKs
 * may come in any order (MQTT only orders them per topic), but the spool's
 * ack is cumulative, so it moves only over a run of acknowledged records
 * from the oldest in flight. Pure: no I/O, no clock.
 */
#ifndef SCN_MQTT_WINDOW_H
#define SCN_MQTT_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

typedef struct scn_mqtt_inflight {
    uint64_t seq; /* spool seq */
    int mid;      /* MQTT packet id on this connection */
    bool acked;
} scn_mqtt_inflight;

typedef struct scn_mqtt_window {
    scn_mqtt_inflight *slots; /* ring of max entries, oldest at head */
    uint32_t max, head, count;
    uint64_t max_sent; /* highest seq ever written (0: none) */
} scn_mqtt_window;

/* max: messages in flight at most (1..65535, MQTT's packet ids).
 * Returns 0, SCN_ERR_INVALID_ARG or SCN_ERR_NOMEM. */
int scn__mqtt_window_init(scn_mqtt_window *w, uint32_t max);
void scn__mqtt_window_free(scn_mqtt_window *w);

/* Room for one more message. */
bool scn__mqtt_window_has_room(const scn_mqtt_window *w);

/* Records that seq (above every seq in flight) went out as mid. Returns
 * true when seq was written before (a resend after a reconnect), false
 * for its first time. Call only with room. */
bool scn__mqtt_window_sent(scn_mqtt_window *w, uint64_t seq, int mid);

/* The broker acknowledged mid. Returns false when mid is not in flight (a
 * stale or repeated PUBACK). *upto gets the spool seq every record up to
 * which is now acknowledged when that moved, else 0 (an older one is
 * still owed). */
bool scn__mqtt_window_acked(scn_mqtt_window *w, int mid, uint64_t *upto);

/* The connection is gone: everything in flight will be sent again from
 * the spool (whose rewind starts at the oldest unacknowledged). Returns
 * how many were in flight unacknowledged. */
uint32_t scn__mqtt_window_reset(scn_mqtt_window *w);

/* The spool dropped records up to seq (its cap): they leave the window.
 * Returns what scn__mqtt_window_acked's *upto would: the acknowledged run
 * that follows them, now at the head (0: none). */
uint64_t scn__mqtt_window_forget_upto(scn_mqtt_window *w, uint64_t seq);

#endif
