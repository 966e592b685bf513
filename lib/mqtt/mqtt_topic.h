/*
 * MQTT topic names and filters (MQTT 3.1.1 section 4.7): what may be
 * published to, subscribed to, and what matches what. Pure.
 */
#ifndef SCN_MQTT_TOPIC_H
#define SCN_MQTT_TOPIC_H

#include <stdbool.h>

/* A topic a message may be published to: 1..65535 bytes of UTF-8 without
 * wildcards (+ #) or control characters U+0000..U+001F and U+007F. */
bool scn__mqtt_topic_valid(const char *topic);

/* A subscription filter: as a topic, but + may stand for a whole level
 * and # for the last level (alone or after a /). */
bool scn__mqtt_filter_valid(const char *filter);

#endif
