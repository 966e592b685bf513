/* The --follow rule: act on a fresh inference naming the followed compound
 * above the threshold, once. Freshness is measured from the frame the
 * inference answers (its TIMESTAMP), not from when the answer arrived: a
 * backlog replayed from the spool after an outage describes where the
 * drone was, not where it is. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "companion.h"

void follow_remember(follow_rule *f, uint64_t seq, int64_t frame_ns)
{
    size_t i = (size_t)(seq % FOLLOW_SEQS);

    f->seqs[i].seq = seq;
    f->seqs[i].frame_ns = frame_ns;
}

int64_t follow_age_ns(const follow_rule *f, uint64_t seq, int64_t now_ns)
{
    size_t i = (size_t)(seq % FOLLOW_SEQS);

    if (seq == 0 || f->seqs[i].seq != seq)
        return -1;
    return now_ns - f->seqs[i].frame_ns;
}

int follow_decide(follow_rule *f, const scn_cloud_result *r, int64_t age_ns)
{
    if (!f->compound || f->sent)
        return 0;
    /* Unknown frame time (restarted process, long backlog): too old. */
    if (age_ns < 0 || age_ns > f->max_age_ns)
        return 0;
    for (size_t i = 0; i < r->label_count; i++) {
        const char *label = r->labels[i].label;
        bool any = strcasecmp(f->compound, "any") == 0;
        scn_compound known;

        if (r->labels[i].score < f->threshold)
            continue;
        /* "any" follows the first label that names a compound the drone
         * can track; otherwise only the one asked for. */
        if (any ? scn_compound_from_name(label, &known) == 0
                : strcasecmp(label, f->compound) == 0) {
            snprintf(f->chosen, sizeof(f->chosen), "%s", label);
            f->sent = 1;
            return 1;
        }
    }
    return 0;
}
