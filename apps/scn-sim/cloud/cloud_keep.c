/*
 * The inferences the reference cloud keeps per stream, so that a client
 * whose connection died before an answer arrived can ask for it again
 * (docs/PROTOCOL.md 9.4). Indexed by seq modulo CLOUD_KEEP: seqs only grow
 * on a stream, so the slots always hold the newest CLOUD_KEEP answers.
 */
#include "cloud_sim.h"

#include <stdlib.h>
#include <string.h>

void cloud_keep_put(cloud_ackrec *a, uint64_t seq, const char *text)
{
    cloud_kept *k = &a->kept[seq % CLOUD_KEEP];
    char *copy = strdup(text);

    if (!copy)
        return; /* not kept: asked for later, it is "gone" */
    free(k->text);
    k->seq = seq;
    k->text = copy;
}

const char *cloud_keep_get(const cloud_ackrec *a, uint64_t seq)
{
    const cloud_kept *k = &a->kept[seq % CLOUD_KEEP];

    return k->text && k->seq == seq ? k->text : NULL;
}

void cloud_keep_free(cloud_ackrec *a)
{
    for (size_t i = 0; i < CLOUD_KEEP; i++) {
        free(a->kept[i].text);
        a->kept[i].text = NULL;
    }
}
