/*
 * A bounded set of sequence numbers, kept sorted: the cloud session's
 * records whose answer is still owed (docs/PROTOCOL.md 9.4). Seqs mostly
 * arrive in increasing order, so adding is an append; a full set drops its
 * smallest member to make room. Pure, not thread-safe.
 */
#ifndef SCN_SEQSET_H
#define SCN_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct scn_seqset {
    uint64_t *v; /* sorted, no duplicates */
    size_t len, cap;
} scn_seqset;

/* Returns 0, SCN_ERR_INVALID_ARG (cap 0) or SCN_ERR_NOMEM. */
int scn__seqset_init(scn_seqset *s, size_t cap);
void scn__seqset_free(scn_seqset *s);
/* Adds seq (nothing when present). Returns true when the set was full and
 * its smallest member was dropped for it (or seq itself, when smaller). */
bool scn__seqset_add(scn_seqset *s, uint64_t seq);
/* Removes seq; returns whether it was there. */
bool scn__seqset_remove(scn_seqset *s, uint64_t seq);
/* Copies the members in (after, upto], smallest first, at most max of
 * them, into out; returns how many. */
size_t scn__seqset_range(const scn_seqset *s, uint64_t after, uint64_t upto,
                         uint64_t *out, size_t max);
size_t scn__seqset_count(const scn_seqset *s);

#endif
