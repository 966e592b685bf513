/**
 * @file
 *
 * JSON text pieces: a string literal and a number, written the way the
 * library writes them in every frame and message it produces
 * (scn_frame_to_json(), the recorder, the fan-out, the cloud). Applications
 * that build JSON of their own around the library's (an envelope with a
 * frame inside, a status line) use these rather than escaping by hand.
 *
 * Both work like snprintf: out receives at most cap - 1 bytes and a NUL
 * (when cap > 0), and the return value is the length the whole piece
 * needs, without the NUL, so a caller appending at out + len checks
 * `needed < cap` and grows or gives up. A piece that does not fit is not
 * cut: out then holds the empty string, never half a literal or half an
 * escape, so what a bounded builder keeps is always valid JSON.
 */
#ifndef SCENTIENCE_JSON_WRITER_H
#define SCENTIENCE_JSON_WRITER_H

#include <stddef.h>
#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Room that always holds what scn_json_write_number() writes, its NUL
 * included. */
#define SCN_JSON_NUMBER_MAX 32

/**
 * Writes s[0..len) as a JSON string literal, quotes included. `"` and `\`
 * are escaped, as are the control characters U+0000 to U+001F (`\b`, `\f`,
 * `\n`, `\r`, `\t`, the others `\u00XX`); everything else is copied, so
 * valid UTF-8 stays as it is and the result is as short as JSON allows.
 * Bytes that are not valid UTF-8 (a stray continuation byte, an overlong
 * form, a surrogate, a sequence cut short by len) become `\ufffd`, one
 * per byte: the output is always valid JSON in valid UTF-8, and the
 * damage stays visible. s may hold NUL bytes (written `\u0000`); s may be
 * NULL when len is 0.
 * Returns the length of the literal, without the NUL (see the file
 * comment for a literal that does not fit).
 */
SCN_API size_t scn_json_write_string(char *out, size_t cap, const char *s,
                                     size_t len);

/**
 * Writes x as a JSON number that reads back as exactly x: integral values
 * below 2^53 in magnitude as plain integers ("42", "-7"), others with the
 * fewest digits that round-trip ("6.23", "1e-07", "0.1"). The decimal
 * point is always '.', whatever LC_NUMERIC the application set. JSON has
 * no NaN or infinity: those are written `null`.
 * At most SCN_JSON_NUMBER_MAX - 1 bytes. Returns the length, without the
 * NUL (see the file comment for a number that does not fit).
 */
SCN_API size_t scn_json_write_number(char *out, size_t cap, double x);

#ifdef __cplusplus
}
#endif

#endif
