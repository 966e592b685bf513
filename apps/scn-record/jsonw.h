/*
 * Small JSON and CSV writing helpers for scn-record: a bounded builder for
 * one event object, and escaped strings and CSV cells on a stream.
 */
#ifndef SCN_RECORD_JSONW_H
#define SCN_RECORD_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Builds one JSON object into a fixed buffer. A value that does not fit is
 * left out whole, never cut in the middle, so the result stays valid. */
typedef struct jb {
    char *buf;
    size_t cap, len;
    int members;
} jb;

void jb_begin(jb *b, char *buf, size_t cap);
void jb_str(jb *b, const char *key, const char *value);
void jb_int(jb *b, const char *key, int64_t value);
/* value is JSON text already (an object from the wire). */
void jb_raw(jb *b, const char *key, const char *json, size_t len);
/* Closes the object; returns its length. */
size_t jb_end(jb *b);

/* Writes s[0..len) as a JSON string, quotes included. */
void json_put_string(FILE *f, const char *s, size_t len);

/* Writes one CSV cell, quoted when it holds a comma, quote or line break
 * (RFC 4180). */
void csv_put_cell(FILE *f, const char *s, size_t len);

#endif
