/*
 * What a loop owns and tears down (sessions, servers): the loop knows its
 * children only through these hooks, never by type.
 */
#ifndef SCN_LOOP_CHILD_H
#define SCN_LOOP_CHILD_H

#include <stdbool.h>
#include <stddef.h>

/* The struct that holds member m at p (a hook's owner). */
#define SCN_CONTAINER_OF(p, type, m)                                           \
    ((type *)(void *)((char *)(p)-offsetof(type, m)))

typedef struct scn_loop_child {
    struct scn_loop_child *next; /* under loop->mu */
    /* Frees the child (scn_loop_free); it leaves with scn__loop_disown. */
    void (*destroy)(struct scn_loop_child *c);
    /* While true the child may still make something happen, and
     * scn_loop_run goes on. Called under loop->mu. */
    bool (*busy)(struct scn_loop_child *c);
    /* The loop thread's half of cross-thread requests, after a wakeup.
     * Called under loop->mu: must not run user callbacks. NULL: none. */
    void (*wake)(struct scn_loop_child *c);
} scn_loop_child;

#endif
