/*
 * A message shared by every connection it is queued on: one allocation
 * and a reference count, so that a message published to 50 dashboards is
 * held once, not 50 times. The bytes never change after creation; any
 * thread may take or drop a reference.
 */
#ifndef SCN_SHMSG_H
#define SCN_SHMSG_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct scn_shmsg {
    atomic_size_t refs;
    size_t len;
    unsigned char data[];
} scn_shmsg;

/* A copy of data with one reference, or NULL (no memory). */
scn_shmsg *scn__shmsg_new(const void *data, size_t len);
/* An uninitialised message of len bytes for the caller to fill before
 * sharing it; one reference. */
scn_shmsg *scn__shmsg_alloc(size_t len);
scn_shmsg *scn__shmsg_ref(scn_shmsg *m);
/* Drops a reference; the last one frees. NULL is allowed. */
void scn__shmsg_unref(scn_shmsg *m);

#endif
