/* Newest-wins rate limit (newest_wins.h). */
#include "newest_wins.h"

#include <stdlib.h>
#include <string.h>

void newest_wins_init(newest_wins *w, uint64_t interval_ms)
{
    memset(w, 0, sizeof(*w));
    w->interval_ms = interval_ms;
}

void newest_wins_free(newest_wins *w)
{
    free(w->held);
    newest_wins_init(w, w->interval_ms);
}

/* The turn after one that went at now_ms. */
static void sent_at(newest_wins *w, uint64_t now_ms)
{
    w->next_ms = now_ms + w->interval_ms;
}

int newest_wins_offer(newest_wins *w, uint64_t now_ms, const char *data,
                      size_t len, int64_t ts)
{
    if (w->interval_ms == 0 || now_ms >= w->next_ms) {
        if (w->waiting) {
            /* Its turn came but the caller's timer has not run yet: the
             * newer message goes in its place. */
            w->waiting = 0;
            w->replaced++;
        }
        sent_at(w, now_ms);
        return 1;
    }
    if (len > w->held_cap) {
        char *p = realloc(w->held, len);

        if (!p) {
            w->lost_nomem++;
            return -1;
        }
        w->held = p;
        w->held_cap = len;
    }
    if (w->waiting)
        w->replaced++;
    if (len)
        memcpy(w->held, data, len);
    w->held_len = len;
    w->held_ts = ts;
    w->waiting = 1;
    return 0;
}

int newest_wins_take(newest_wins *w, uint64_t now_ms, const char **data,
                     size_t *len, int64_t *ts)
{
    if (!w->waiting || now_ms < w->next_ms)
        return 0;
    w->waiting = 0;
    sent_at(w, now_ms);
    *data = w->held;
    *len = w->held_len;
    *ts = w->held_ts;
    return 1;
}

uint64_t newest_wins_wait_ms(const newest_wins *w, uint64_t now_ms)
{
    if (!w->waiting)
        return UINT64_MAX;
    return now_ms >= w->next_ms ? 0 : w->next_ms - now_ms;
}
