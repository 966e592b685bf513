/* The MQTT client's decisions that need no socket (mqtt_policy.h). */
#include <scentience/error.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_policy.h"

int scn__mqtt_connack_error(int code, bool sent_credentials)
{
    switch (code) {
    case 4:    /* bad user name or password */
    case 0x86: /* bad user name or password */
    case 0x8C: /* bad authentication method */
        return SCN_ERR_MQTT_AUTH;
    case 5:    /* not authorised */
    case 0x87: /* not authorised */
        return sent_credentials ? SCN_ERR_MQTT_AUTH
                                : SCN_ERR_MQTT_NOT_AUTHORISED;
    case 0x8A: /* banned */
        return SCN_ERR_MQTT_NOT_AUTHORISED;
    case 3:    /* server unavailable */
    case 0x88: /* server unavailable */
    case 0x89: /* server busy */
    case 0x9F: /* connection rate exceeded */
        return SCN_ERR_TRY_AGAIN;
    default: /* protocol version, client id, malformed, quota ... */
        return SCN_ERR_MQTT_REFUSED;
    }
}

bool scn__mqtt_failure_is_fatal(int err, bool fail_fast_auth)
{
    return fail_fast_auth &&
           (err == SCN_ERR_MQTT_AUTH || err == SCN_ERR_MQTT_NOT_AUTHORISED ||
            err == SCN_ERR_TLS);
}

int scn__mqtt_url_parse(const char *url, char *host, size_t host_cap, int *port,
                        bool *tls)
{
    const char *p, *h, *end;
    bool bracketed = false;
    size_t hlen;
    long n = 0;

    if (!url || !host || !host_cap)
        return SCN_ERR_URL;
    if (!strncmp(url, "mqtt://", 7)) {
        *tls = false;
        *port = 1883;
        p = url + 7;
    } else if (!strncmp(url, "mqtts://", 8)) {
        *tls = true;
        *port = 8883;
        p = url + 8;
    } else {
        return SCN_ERR_URL;
    }
    if (*p == '[') {
        h = p + 1;
        end = strchr(h, ']');
        if (!end)
            return SCN_ERR_URL;
        hlen = (size_t)(end - h);
        p = end + 1;
        bracketed = true;
    } else {
        h = p;
        hlen = strcspn(p, ":/");
        p += hlen;
    }
    /* Brackets hold an IPv6 address, nothing else. */
    if (hlen == 0 || hlen >= host_cap || (bracketed && !memchr(h, ':', hlen)))
        return SCN_ERR_URL;
    for (size_t i = 0; i < hlen; i++) {
        char c = h[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
                  (bracketed && (c == ':' || c == '%'));

        if (!ok)
            return SCN_ERR_URL;
    }
    if (*p == ':') {
        p++;
        if (*p < '0' || *p > '9')
            return SCN_ERR_URL;
        while (*p >= '0' && *p <= '9' && n <= 65535)
            n = n * 10 + (*p++ - '0');
        if (n < 1 || n > 65535)
            return SCN_ERR_URL;
        *port = (int)n;
    }
    if (*p == '/')
        p++;
    if (*p)
        return SCN_ERR_URL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    return 0;
}
