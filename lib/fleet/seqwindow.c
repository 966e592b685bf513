/*
 * A sliding window of seen seqs. A QoS 1 message sent again after a
 * reconnect comes at most max_inflight behind the newest, so a window of
 * SCN_FLEET_SEQ_WINDOW recognises it; anything further back is taken as
 * the companion counting again from the start.
 */
#include <string.h>

#include "seqwindow.h"

#define WINDOW ((uint64_t)SCN_FLEET_SEQ_WINDOW)

static void set_bit(scn_seqwindow *w, uint64_t seq)
{
    uint64_t i = seq % WINDOW;

    w->seen[i / 64] |= (uint64_t)1 << (i % 64);
}

static int test_bit(const scn_seqwindow *w, uint64_t seq)
{
    uint64_t i = seq % WINDOW;

    return (w->seen[i / 64] >> (i % 64)) & 1;
}

static void clear_bit(scn_seqwindow *w, uint64_t seq)
{
    uint64_t i = seq % WINDOW;

    w->seen[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static void start_at(scn_seqwindow *w, uint64_t seq)
{
    memset(w->seen, 0, sizeof(w->seen));
    w->started = 1;
    w->newest = seq;
    set_bit(w, seq);
}

scn_seq_verdict scn__seqwindow_add(scn_seqwindow *w, uint64_t seq,
                                   uint64_t *gap)
{
    if (gap)
        *gap = 0;
    if (!w->started) {
        start_at(w, seq);
        return SCN_SEQ_NEW;
    }
    if (seq > w->newest) {
        uint64_t skipped = seq - w->newest - 1;

        /* The seqs between leave the window's far end: clear their bits
         * so that they read as not seen. */
        if (seq - w->newest >= WINDOW)
            memset(w->seen, 0, sizeof(w->seen));
        else
            for (uint64_t s = w->newest + 1; s < seq; s++)
                clear_bit(w, s);
        w->newest = seq;
        set_bit(w, seq);
        if (gap)
            *gap = skipped;
        return SCN_SEQ_NEW;
    }
    if (w->newest - seq >= WINDOW) {
        start_at(w, seq);
        return SCN_SEQ_RESTART;
    }
    if (test_bit(w, seq))
        return SCN_SEQ_DUPLICATE;
    set_bit(w, seq);
    return SCN_SEQ_LATE;
}
