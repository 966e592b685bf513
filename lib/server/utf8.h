/*
 * Incremental UTF-8 validation (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) for text that arrives in pieces, as
 * WebSocket text messages do. Pure.
 */
#ifndef SCN_UTF8_H
#define SCN_UTF8_H

#include <stdbool.h>
#include <stddef.h>

typedef struct scn_utf8 {
    unsigned char need;   /* continuation bytes still owed */
    unsigned char lo, hi; /* range the next continuation byte must be in */
} scn_utf8;

void scn__utf8_init(scn_utf8 *u);
/* Checks n more bytes. Returns false at the first invalid byte (the state
 * is then meaningless until init). */
bool scn__utf8_feed(scn_utf8 *u, const unsigned char *p, size_t n);
/* Whether the text fed so far ends on a character boundary. */
bool scn__utf8_complete(const scn_utf8 *u);
/* One complete buffer: valid and not cut inside a character. */
bool scn__utf8_check(const void *p, size_t n);

#endif
