/* Encoding of the v1 requests. */
#include "request.h"

#include <math.h>
#include <scentience/error.h>
#include <stdio.h>

static int finish(int n, size_t cap, size_t *len)
{
    if (n < 0 || (size_t)n >= cap)
        return SCN_ERR_NOMEM;
    *len = (size_t)n;
    return 0;
}

int scn__request_sample(char *buf, size_t cap, uint32_t id, size_t *len)
{
    int n = id ? snprintf(buf, cap, "{\"type\":\"sample\",\"id\":%u}", id)
               : snprintf(buf, cap, "{\"type\":\"sample\"}");
    return finish(n, cap, len);
}

int scn__request_stream(char *buf, size_t cap, int on, double rate_hz,
                        uint32_t id, size_t *len)
{
    char idpart[24] = "";
    int n;

    if (!isfinite(rate_hz) || (rate_hz != 0 && (rate_hz < SCN_RATE_MIN_HZ ||
                                                rate_hz > SCN_RATE_MAX_HZ)))
        return SCN_ERR_OUT_OF_RANGE;
    if (id)
        snprintf(idpart, sizeof(idpart), ",\"id\":%u", id);
    if (on && rate_hz > 0)
        n = snprintf(buf, cap,
                     "{\"type\":\"stream\",\"on\":true,\"rate_hz\":%.15g%s}",
                     rate_hz, idpart);
    else
        n = snprintf(buf, cap, "{\"type\":\"stream\",\"on\":%s%s}",
                     on ? "true" : "false", idpart);
    return finish(n, cap, len);
}
