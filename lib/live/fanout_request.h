/*
 * Requests a live fan-out subscriber sends (docs/PROTOCOL.md 10.2, 10.3):
 * subscribe or unsubscribe, with a list of stream names. Pure: no server,
 * no lock; lib/live/fanout.c applies what this returns.
 */
#ifndef SCN_FANOUT_REQUEST_H
#define SCN_FANOUT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <scentience/fanout.h>

typedef struct scn_fanout_request {
    bool subscribe; /* false: unsubscribe */
    bool all;       /* "*" was listed */
    size_t n;       /* other names, distinct, in the order given */
    char streams[SCN_FANOUT_MAX_STREAMS][SCN_FANOUT_STREAM_MAX + 1];
} scn_fanout_request;

/* Whether s[0..n) is a stream name: 1 to SCN_FANOUT_STREAM_MAX of
 * [A-Za-z0-9._-], so that it goes into an envelope unescaped. */
bool scn__fanout_stream_name_ok(const char *s, size_t n);

/*
 * Reads one request, data[0..len) as received (is_binary: the frame type).
 * Returns NULL with *req filled, or the error code of the answer
 * ("malformed", "bad_request", "unknown_type") with *why its message; a
 * request is checked whole, so nothing of a bad one is used. The JSON
 * must be strict (scn__frame_json_parse()): a lenient parse would read
 * "\u" escapes with bad digits as the end of a string.
 */
const char *scn__fanout_request_parse(const char *data, size_t len,
                                      bool is_binary, scn_fanout_request *req,
                                      const char **why);

#endif
