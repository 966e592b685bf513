/*
 * A rate limit for repeated stderr lines: a program that hits the same
 * failure hundreds of times a second (a full disk, a peer sending the same
 * bad message) prints the first at once and then at most one line per
 * interval, saying how many it held back. No clock inside: the caller
 * passes the time (monotonic ms).
 */
#ifndef SCN_APP_RATELIMIT_H
#define SCN_APP_RATELIMIT_H

#include <stdint.h>

typedef struct cli_ratelimit {
    uint64_t interval_ms;
    uint64_t next_ms; /* when the next line may go out (0: at once) */
    uint64_t held;    /* lines held back since the last one printed */
} cli_ratelimit;

/* 1: print the line now (*held, may be NULL, gets how many were held
 * back before it); 0: hold it back (counted). */
int cli_ratelimit_allow(cli_ratelimit *rl, uint64_t now_ms, uint64_t *held);

#endif
