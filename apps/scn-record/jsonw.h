/*
 * Small JSON and CSV writing helpers for scn-record: escaped strings and
 * CSV cells on a stream (its /events objects: apps/common/json_obj.h).
 */
#ifndef SCN_RECORD_JSONW_H
#define SCN_RECORD_JSONW_H

#include <stddef.h>
#include <stdio.h>

/* Writes s[0..len) as a JSON string, quotes included. */
void json_put_string(FILE *f, const char *s, size_t len);

/* Writes one CSV cell, quoted when it holds a comma, quote or line break
 * (RFC 4180). */
void csv_put_cell(FILE *f, const char *s, size_t len);

#endif
