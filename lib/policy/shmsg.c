/* Reference-counted shared messages. */
#include "shmsg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

scn_shmsg *scn__shmsg_alloc(size_t len)
{
    scn_shmsg *m;

    if (len > SIZE_MAX - sizeof(*m))
        return NULL;
    m = malloc(sizeof(*m) + len);
    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    m->len = len;
    return m;
}

scn_shmsg *scn__shmsg_new(const void *data, size_t len)
{
    scn_shmsg *m = scn__shmsg_alloc(len);

    if (m && len)
        memcpy(m->data, data, len);
    return m;
}

scn_shmsg *scn__shmsg_ref(scn_shmsg *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void scn__shmsg_unref(scn_shmsg *m)
{
    /* Release on every drop and acquire before the free, so that no
     * reader of the bytes can still be using them. */
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}
