/*
 * Live fan-out requests (lib/live/fanout_request.c), what any dashboard may
 * send. The first byte says whether the frame was binary. An accepted
 * request holds valid, distinct names within the limits, and written back
 * as a request it reads the same; a refusal carries a known code and
 * nothing else.
 */
#include "fuzz.h"

#include "fanout_request.h"

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
    size_t n = strlen(s);

    FUZZ_CHECK(at + n < cap, "request too long to write");
    memcpy(buf + at, s, n + 1);
    return at + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    bool binary = fuzz_take(&in, 1) == 1;
    scn_fanout_request req, again;
    static const scn_fanout_request zero;
    const char *why, *code;
    char text[4096];
    size_t n = 0;

    code =
        scn__fanout_request_parse((const char *)in.p, in.n, binary, &req, &why);
    if (code != NULL) {
        FUZZ_CHECK(strcmp(code, "malformed") == 0 ||
                       strcmp(code, "bad_request") == 0 ||
                       strcmp(code, "unknown_type") == 0,
                   "code %s", code);
        FUZZ_CHECK(why != NULL && memcmp(&req, &zero, sizeof req) == 0,
                   "refused but filled");
        return 0;
    }
    FUZZ_CHECK(!binary, "binary request accepted");
    FUZZ_CHECK(req.n <= SCN_FANOUT_MAX_STREAMS, "%zu names", req.n);
    for (size_t i = 0; i < req.n; i++) {
        FUZZ_CHECK(
            scn__fanout_stream_name_ok(req.streams[i], strlen(req.streams[i])),
            "bad name accepted: %s", req.streams[i]);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(req.streams[i], req.streams[j]) != 0,
                       "name twice: %s", req.streams[i]);
    }
    n = put(text, n, sizeof text,
            req.subscribe ? "{\"type\":\"subscribe\",\"streams\":["
                          : "{\"type\":\"unsubscribe\",\"streams\":[");
    if (req.all)
        n = put(text, n, sizeof text, req.n ? "\"*\"," : "\"*\"");
    for (size_t i = 0; i < req.n; i++) {
        n = put(text, n, sizeof text, "\"");
        n = put(text, n, sizeof text, req.streams[i]);
        n = put(text, n, sizeof text, i + 1 < req.n ? "\"," : "\"");
    }
    n = put(text, n, sizeof text, "]}");
    FUZZ_CHECK(scn__fanout_request_parse(text, n, false, &again, &why) ==
                       NULL &&
                   memcmp(&again, &req, sizeof req) == 0,
               "written back as %s, reads differently", text);
    return 0;
}
