/* The fleet's topic tree and envelope (fleet_topic.h). */
#include "fleet_topic.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const names[FLEET_STREAM_COUNT] = {
    "olfaction", "state",  "inference",       "events",
    "command",   "status", "command/request", "command/reply"};

const char *fleet_stream_name(fleet_stream s)
{
    return (unsigned)s < FLEET_STREAM_COUNT ? names[s] : NULL;
}

int fleet_stream_qos(fleet_stream s, int data_qos)
{
    /* The fast streams: a ground station usually wants the newest, not
     * all; one that must see every thinned value asks for QoS 1. */
    return s == FLEET_OLFACTION || s == FLEET_STATE ? data_qos : 1;
}

int fleet_stream_retained(fleet_stream s)
{
    return s == FLEET_STATUS;
}

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int fleet_drone_id_check(const char *id, char *why, size_t why_cap)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n > FLEET_DRONE_ID_MAX) {
        snprintf(why, why_cap, "a drone id has 1 to %d characters",
                 FLEET_DRONE_ID_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!id_char(id[i])) {
            snprintf(why, why_cap,
                     "a drone id has only letters, digits, '_' and '-'");
            return -1;
        }
    return 0;
}

size_t fleet_topic(char *buf, size_t cap, const char *id, fleet_stream s)
{
    char why[64];
    int n;

    if (!fleet_stream_name(s) || fleet_drone_id_check(id, why, sizeof(why)))
        return 0;
    n = snprintf(buf, cap, FLEET_TOPIC_ROOT "%s/%s", id, names[s]);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int fleet_topic_parse(const char *topic, char *id, size_t id_cap,
                      fleet_stream *s)
{
    const char *rest, *slash;
    char why[64];
    size_t n;

    if (strncmp(topic, FLEET_TOPIC_ROOT, strlen(FLEET_TOPIC_ROOT)) != 0)
        return -1;
    rest = topic + strlen(FLEET_TOPIC_ROOT);
    if (!(slash = strchr(rest, '/')))
        return -1;
    n = (size_t)(slash - rest);
    if (n >= id_cap || n > FLEET_DRONE_ID_MAX)
        return -1;
    memcpy(id, rest, n);
    id[n] = '\0';
    if (fleet_drone_id_check(id, why, sizeof(why)))
        return -1;
    for (int i = 0; i < FLEET_STREAM_COUNT; i++)
        if (strcmp(slash + 1, names[i]) == 0) {
            *s = (fleet_stream)i;
            return 0;
        }
    return -1;
}

uint64_t fleet_seq_next(fleet_seqs *q, fleet_stream s)
{
    return ++q->last[s];
}

void fleet_run_id(char out[FLEET_RUN_LEN + 1], const uint8_t random8[8])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[random8[i] >> 4];
        out[2 * i + 1] = hex[random8[i] & 15];
    }
    out[FLEET_RUN_LEN] = '\0';
}

size_t fleet_envelope(char *buf, size_t cap, const char *run, uint64_t seq,
                      int64_t ts_ns, const char *data, size_t len)
{
    char head[96];
    int n;

    if (ts_ns >= 0)
        n = snprintf(head, sizeof(head),
                     "{\"run\":\"%s\",\"seq\":%" PRIu64 ",\"ts\":%" PRId64
                     ",\"data\":",
                     run, seq, ts_ns);
    else
        n = snprintf(head, sizeof(head),
                     "{\"run\":\"%s\",\"seq\":%" PRIu64 ",\"data\":", run, seq);
    if (n < 0 || (size_t)n >= sizeof(head))
        return 0;
    size_t need = (size_t)n + len + 1;
    if (need < cap) {
        memcpy(buf, head, (size_t)n);
        memcpy(buf + n, data, len);
        buf[need - 1] = '}';
        buf[need] = '\0';
    }
    return need;
}
