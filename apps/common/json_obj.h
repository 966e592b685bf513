/*
 * One JSON object built on the heap for a record that holds peer text (a
 * device message, an error detail, a drone's answer), which must be kept
 * whole: the buffer grows as far as a limit the caller sets and documents.
 * Whatever still cannot be added (no memory, over the limit) is never cut
 * and never dropped without a trace: the builder remembers it, so that
 * the caller counts it and says so.
 *
 * Two ways to fill it, not mixed in one object:
 * - members (json_obj_begin ... json_obj_end): a member that cannot be
 *   added is left out whole, the object stays valid JSON, and left_out,
 *   left_out_bytes and err name the first one;
 * - pieces (json_obj_text, json_obj_string, from json_obj_init): after
 *   the first piece that cannot be added nothing more is (the text would
 *   not be JSON), and err says why.
 */
#ifndef SCN_APP_JSON_OBJ_H
#define SCN_APP_JSON_OBJ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct json_obj {
    char *buf;             /* the text, NUL-terminated; NULL until the first */
    size_t len, cap;       /* its length, and the allocation */
    size_t limit;          /* the text is never longer */
    int members;           /* members added */
    int open;              /* members: the opening brace is in */
    int err;               /* 0, or the first failure: SCN_ERR_NOMEM, or
                              SCN_ERR_MESSAGE_TOO_BIG (over the limit) */
    const char *left_out;  /* members: the key of the first left out */
    size_t left_out_bytes; /* the length of its value as JSON */
    unsigned left_out_count;
} json_obj;

/* Empty, for pieces; limit: the longest text (without its NUL). */
void json_obj_init(json_obj *o, size_t limit);
/* Appends s as it is (JSON text already). 0, or o->err. */
int json_obj_text(json_obj *o, const char *s);
/* Appends s as a JSON string literal, null for NULL or "". 0, or o->err. */
int json_obj_string(json_obj *o, const char *s);

/* Opens an object for members (limit >= 2: the braces). */
void json_obj_begin(json_obj *o, size_t limit);
void json_obj_str(json_obj *o, const char *key, const char *value);
void json_obj_int(json_obj *o, const char *key, int64_t value);
/* value is JSON text already (an object from the wire). */
void json_obj_raw(json_obj *o, const char *key, const char *json, size_t len);
/* After a member was left out (err set, object open): names it in the
 * object itself, as "left_out" (its key), "left_out_bytes" and
 * "left_out_reason" (scn_err_name of err), when those still fit. */
void json_obj_name_left_out(json_obj *o);
/* The same on a line of f, after the program's name the caller wrote:
 * '"WHAT" record lost its "KEY" (N bytes): REASON; C records incomplete'
 * ('was not recorded' when not even the braces found memory), then how
 * many such lines the caller's rate limit held back, if any. */
void json_obj_say_incomplete(const json_obj *o, FILE *f, const char *what,
                             uint64_t incomplete, uint64_t held);
/* Closes the object (room for the brace is kept from the start); returns
 * its length, 0 when not even the opening brace found memory. */
size_t json_obj_end(json_obj *o);

/* Frees the text; o may be built again after _init or _begin. */
void json_obj_free(json_obj *o);

#endif
