/* MQTT topic names and filters (mqtt_topic.h, scn_mqtt_topic_matches). */
#include <scentience/mqtt.h>
#include <string.h>

#include "mqtt_record.h"
#include "mqtt_topic.h"
#include "utf8.h"

/* Length, UTF-8 and control characters, common to names and filters.
 * Control characters are allowed by the spec but "should not" be used;
 * a topic is shown on dashboards and in logs, so they are refused. */
static bool text_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > SCN_MQTT_TOPIC_MAX || !scn__utf8_check(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

bool scn__mqtt_topic_valid(const char *topic)
{
    return text_ok(topic) && !strpbrk(topic, "+#");
}

bool scn__mqtt_filter_valid(const char *filter)
{
    if (!text_ok(filter))
        return false;
    for (const char *p = filter; *p; p++) {
        bool level_start = p == filter || p[-1] == '/';
        bool level_end = p[1] == '\0' || p[1] == '/';

        if (*p == '+' && !(level_start && level_end))
            return false;
        if (*p == '#' && !(level_start && p[1] == '\0'))
            return false;
    }
    return true;
}

int scn_mqtt_topic_matches(const char *filter, const char *topic)
{
    const char *f = filter, *t = topic;

    if (!filter || !topic || !scn__mqtt_filter_valid(filter) ||
        !scn__mqtt_topic_valid(topic))
        return 0;
    /* A wildcard at the start never matches a $ topic ($SYS/...). */
    if (topic[0] == '$' && (f[0] == '+' || f[0] == '#'))
        return 0;
    for (;;) {
        if (f[0] == '#')
            return 1; /* the rest, the parent level included */
        if (f[0] == '+') {
            f++;
            while (*t && *t != '/')
                t++;
        } else {
            while (*f && *f != '/' && *f == *t) {
                f++;
                t++;
            }
            if ((*f && *f != '/') || (*t && *t != '/'))
                return 0;
        }
        /* Both at the end of a level. */
        if (!*f && !*t)
            return 1;
        if (!*t) /* "a/#" matches "a" */
            return f[0] == '/' && f[1] == '#' && f[2] == '\0';
        if (!*f)
            return 0;
        f++;
        t++;
    }
}
