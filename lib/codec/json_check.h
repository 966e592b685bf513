/*
 * A fast pass that vouches for well-formed JSON before the strict checks
 * that build a cJSON tree: most texts the library checks (the companion's
 * own messages, drone states) are plain, and a tree per message was the
 * largest cost of publishing and of cloud records.
 */
#ifndef SCN_JSON_CHECK_H
#define SCN_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* What scn__json_check() saw of a text it vouched for. */
typedef struct scn_json_shape {
    bool object;       /* the value is an object */
    bool flat_scalars; /* an object whose members are strings or numbers */
} scn_json_shape;

/*
 * One allocation-free pass over json[0..len). true only for a text every
 * strict check in lib/ accepts: one RFC 8259 value between optional
 * spaces, tabs and line ends; strings in valid UTF-8 with no control bytes
 * and no "\u" escapes; numbers of the strict grammar without an exponent,
 * at most 63 characters (so finite, and whole in cJSON's number buffer);
 * member names without escapes, unique within their object; nesting up to
 * SCN_FRAME_MAX_DEPTH. Then scn__frame_json_parse(), the duplicate and UTF-8
 * checks on its tree, and cJSON's own parse all accept it, and *shape (may
 * be NULL) says what it is.
 *
 * false says nothing: the text may still be acceptable (an exponent, a
 * "\u" escape, a repeated name that cJSON takes). The caller then runs its
 * full check, which also names the problem. So using this first never
 * changes a verdict.
 */
bool scn__json_check(const char *json, size_t len, scn_json_shape *shape);

#endif
