/*
 * Duplicates and gaps of one stream of seqs (a drone's stream in the
 * fleet model): the newest seq and a bitmap of which of the window's seqs
 * before it were seen. Plain C, no allocation.
 */
#ifndef SCN_FLEET_SEQWINDOW_H
#define SCN_FLEET_SEQWINDOW_H

#include <stdint.h>

#include <scentience/fleet.h>

typedef struct scn_seqwindow {
    int started;     /* a seq was seen */
    uint64_t newest; /* the highest seq seen */
    /* bit (seq % SCN_FLEET_SEQ_WINDOW): seq in (newest - window, newest]
     * was seen */
    uint64_t seen[SCN_FLEET_SEQ_WINDOW / 64];
} scn_seqwindow;

typedef enum scn_seq_verdict {
    SCN_SEQ_NEW = 0,   /* the newest, next or beyond (gap says how far) */
    SCN_SEQ_LATE,      /* missing before, arrived now: a gap filled */
    SCN_SEQ_DUPLICATE, /* seen before */
    SCN_SEQ_RESTART    /* a window or more below the newest: counting
                          started over; the window now starts at it */
} scn_seq_verdict;

/* Takes seq; *gap (may be NULL) gets the number of seqs it skipped
 * (0 unless SCN_SEQ_NEW). */
scn_seq_verdict scn__seqwindow_add(scn_seqwindow *w, uint64_t seq,
                                   uint64_t *gap);

#endif
