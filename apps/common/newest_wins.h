/*
 * A rate limit where the newest message wins: at most one message per
 * interval goes out; one that comes sooner replaces the one waiting, and
 * the waiting one goes out when its turn comes (so the last value of a
 * burst is never lost, and nothing older than it is sent). For the fleet's
 * olfaction and state topics (docs/PROTOCOL.md 12.3). No clock inside:
 * the caller passes the time (monotonic ms) and keeps a timer for
 * newest_wins_wait_ms().
 */
#ifndef SCN_APP_NEWEST_WINS_H
#define SCN_APP_NEWEST_WINS_H

#include <stddef.h>
#include <stdint.h>

typedef struct newest_wins {
    uint64_t interval_ms; /* 0: every message goes at once */
    uint64_t next_ms;     /* when the next message may go (0: at once) */
    int waiting;          /* a message is held for its turn */
    char *held;           /* its bytes (grown to the largest held) */
    size_t held_len, held_cap;
    int64_t held_ts;     /* its time, as given */
    uint64_t replaced;   /* messages replaced before their turn */
    uint64_t lost_nomem; /* messages that could not be held */
} newest_wins;

/* Sets the interval (1000 / HZ; 0: no limit) and clears the rest. */
void newest_wins_init(newest_wins *w, uint64_t interval_ms);
void newest_wins_free(newest_wins *w);

/* A new message: returns 1 when it may go now (the caller sends it; it
 * replaces any waiting one, counted), 0 when it is held for its turn
 * (replacing any waiting one, counted), -1 when it could not be held (no
 * memory; counted in lost_nomem, the waiting one stays). */
int newest_wins_offer(newest_wins *w, uint64_t now_ms, const char *data,
                      size_t len, int64_t ts);

/* The waiting message once its turn has come: returns 1 with *data, *len
 * and *ts (valid until the next offer or take) and counts it as sent;
 * else 0. */
int newest_wins_take(newest_wins *w, uint64_t now_ms, const char **data,
                     size_t *len, int64_t *ts);

/* Milliseconds until the waiting message's turn (0: now); UINT64_MAX when
 * none waits. */
uint64_t newest_wins_wait_ms(const newest_wins *w, uint64_t now_ms);

#endif
