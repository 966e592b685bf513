/*
 * Device-frame codec internals: the frame layout, the entry point the
 * session uses for already-parsed JSON, and the compact JSON writer shared
 * by parsing (per-key raw values) and scn_frame_to_json().
 */
#ifndef SCN_FRAME_INTERNAL_H
#define SCN_FRAME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <scentience/error.h>
#include <scentience/frame.h>

/* Open-addressing index of key names; twice SCN_FRAME_MAX_KEYS keeps the
 * load factor at or below one half. Must be a power of two. */
#define SCN_FRAME_SLOTS (2 * SCN_FRAME_MAX_KEYS)

typedef struct scn_frame_key {
    const char *name; /* cJSON's copy of the key, owned by root */
    size_t raw_off;   /* value as compact JSON, NUL-terminated, in raw */
    size_t raw_len;
    scn_key_kind kind;
} scn_frame_key;

/*
 * Everything a parse produces lives either in the cJSON tree (root) or in
 * storage owned by the frame and reused by the next parse: the fixed arrays
 * below and the raw buffer, which only grows. A typical frame therefore
 * costs no allocation besides cJSON's own.
 */
struct scn_frame {
    cJSON *root;           /* NULL when the frame is empty */
    const char *uid;       /* into root */
    const char *timestamp; /* into root */
    int64_t timestamp_ns;
    uint64_t seq;
    bool has_seq;
    uint32_t field_mask;    /* bit f: field f present */
    uint64_t compound_mask; /* bit 3 * c + channel: compound present */
    double fields[SCN_FIELD_COUNT];
    double compounds[SCN_COMPOUND_COUNT][3];
    size_t nkeys;
    scn_frame_key keys[SCN_FRAME_MAX_KEYS];
    uint16_t slots[SCN_FRAME_SLOTS]; /* key index + 1; 0 is free */
    /* Every key's value as compact JSON, produced eagerly while parsing so
     * const accessors never write (concurrent readers are safe) and
     * pointers handed out never move until the next parse. */
    char *raw;
    size_t raw_cap;
};

/*
 * Takes ownership of root (any cJSON value, or NULL) and validates it
 * exactly as scn_frame_parse() does after its own JSON parsing. Returns the
 * same codes. On error root is freed and the frame is left empty; on
 * success root is freed by the next parse or scn_frame_free().
 *
 * Checks that need the source text (raw control bytes, "\u0000" escapes
 * that cJSON silently truncates, number syntax cJSON accepts leniently)
 * happen only in scn_frame_json_parse(); a caller that parses with cJSON
 * directly gets cJSON's leniency there.
 */
int scn_frame_adopt(scn_frame *f, cJSON *root);

/*
 * Strict JSON parse of json[0..len) (no NUL terminator needed), as done by
 * scn_frame_parse(): RFC 8259 syntax (no raw control characters, no
 * "\u0000", no NUL bytes, nothing but whitespace after the value), and
 * nesting checked against SCN_FRAME_MAX_DEPTH before cJSON recurses.
 * Returns 0 with *out set (caller owns it), SCN_ERR_MALFORMED,
 * SCN_ERR_TOO_DEEP or SCN_ERR_INVALID_ARG. The session may use it to parse
 * once and then route by "type".
 */
int scn_frame_json_parse(const char *json, size_t len, cJSON **out);

/*
 * Compact JSON writer. With grow set it reallocs buf as needed (oom set on
 * failure); otherwise it writes while the text fits in cap and keeps
 * counting past it, so len is always the length the full text needs.
 */
typedef struct scn_jw {
    char *buf;
    size_t len;
    size_t cap;
    bool grow;
    bool oom;
} scn_jw;

void scn_jw_put(scn_jw *w, const char *s, size_t n);

/* Writes s as a JSON string literal. Returns 0 or SCN_ERR_MALFORMED when
 * s is not valid UTF-8 (nothing sensible can be emitted for it). */
int scn_jw_string(scn_jw *w, const char *s);

/* Writes a finite double so that strtod() gives it back: integral values
 * below 2^53 in magnitude as plain integers; short decimals in [1e-4, 1e6)
 * with the fewest fraction digits (at most 9) that round-trip, without
 * printf; others with the fewest of 15, 16 or 17 significant digits that
 * round-trip. */
void scn_jw_number(scn_jw *w, double x);

/*
 * Writes item as compact JSON. depth is the nesting level item would have
 * if it is a container (the frame object is level 1). Validates as it
 * goes: SCN_ERR_TOO_DEEP, SCN_ERR_OUT_OF_RANGE (non-finite number),
 * SCN_ERR_MALFORMED (invalid UTF-8, or a node cJSON's parser never makes).
 */
int scn_jw_value(scn_jw *w, const cJSON *item, int depth);

/* Whether the NUL-terminated s is valid UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). */
bool scn_utf8_valid(const char *s);

#endif
