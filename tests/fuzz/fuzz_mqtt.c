/*
 * The MQTT client's parsers (lib/mqtt/): spooled message records read
 * back from disk, broker URLs from flags and config files, topic filters
 * and their matching. The first byte picks one; the rest is the input.
 * - a record that decodes encodes back to the same bytes;
 * - an accepted URL has a host and a port in range, and written back
 *   from its parts parses to the same parts;
 * - a topic name is a filter that matches itself; "#" matches every
 *   topic not starting with '$'; a filter without wildcards matches
 *   only the same name; nothing invalid matches.
 */
#include "fuzz.h"

#include <scentience/error.h>
#include <scentience/mqtt.h>

#include "mqtt_policy.h"
#include "mqtt_record.h"
#include "mqtt_topic.h"

static void record(const uint8_t *p, size_t n)
{
    scn_mqtt_record r;
    uint8_t *again;

    if (scn__mqtt_record_decode(p, n, &r) != 0)
        return;
    FUZZ_CHECK(strlen(r.topic) == r.topic_len, "topic length");
    again = malloc(n);
    FUZZ_CHECK(again != NULL, "malloc");
    FUZZ_CHECK(scn__mqtt_record_encode(again, n, r.topic, r.topic_len,
                                       r.payload, r.len, r.retain) == n &&
                   memcmp(again, p, n) == 0,
               "record does not encode back to itself");
    free(again);
}

static void url(const uint8_t *p, size_t n)
{
    char *text = fuzz_cstr(p, n);
    char host[256], host2[256], back[300];
    int port, port2;
    bool tls, tls2;

    if (scn__mqtt_url_parse(text, host, sizeof(host), &port, &tls) == 0) {
        FUZZ_CHECK(host[0] && port >= 1 && port <= 65535, "parts");
        snprintf(back, sizeof(back), "%s://%s%s%s:%d", tls ? "mqtts" : "mqtt",
                 strchr(host, ':') ? "[" : "", host,
                 strchr(host, ':') ? "]" : "", port);
        FUZZ_CHECK(scn__mqtt_url_parse(back, host2, sizeof(host2), &port2,
                                       &tls2) == 0 &&
                       !strcmp(host, host2) && port == port2 && tls == tls2,
                   "%s written as %s reads differently", text, back);
    }
    free(text);
}

static void topics(const uint8_t *p, size_t n)
{
    /* filter NUL topic */
    const uint8_t *nul = memchr(p, 0, n);
    size_t fn = nul ? (size_t)(nul - p) : n;
    char *filter = fuzz_cstr(p, fn);
    char *topic = fuzz_cstr(nul ? nul + 1 : p + n, nul ? n - fn - 1 : 0);
    int m = scn_mqtt_topic_matches(filter, topic);

    if (m)
        FUZZ_CHECK(scn__mqtt_filter_valid(filter) &&
                       scn__mqtt_topic_valid(topic),
                   "a match needs a valid filter and topic");
    if (scn__mqtt_topic_valid(topic)) {
        FUZZ_CHECK(scn__mqtt_filter_valid(topic), "a name is a filter");
        FUZZ_CHECK(scn_mqtt_topic_matches(topic, topic), "%s", topic);
        FUZZ_CHECK(scn_mqtt_topic_matches("#", topic) == (topic[0] != '$'),
                   "# and %s", topic);
    }
    if (scn__mqtt_topic_valid(filter) && m)
        FUZZ_CHECK(!strcmp(filter, topic), "a name matches only itself");
    free(filter);
    free(topic);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        record(data + 1, size - 1);
        break;
    case 1:
        url(data + 1, size - 1);
        break;
    default:
        topics(data + 1, size - 1);
    }
    return 0;
}
