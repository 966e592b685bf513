/* The spool record of a QoS 1 message (mqtt_record.h). */
#include <scentience/error.h>
#include <string.h>

#include "mqtt_record.h"

#define FLAG_RETAIN 0x01u

size_t scn__mqtt_record_size(size_t topic_len, size_t payload_len)
{
    size_t head = SCN_MQTT_RECORD_HEAD + topic_len + 1;

    if (topic_len > SCN_MQTT_TOPIC_MAX || payload_len > SIZE_MAX - head)
        return 0;
    return head + payload_len;
}

size_t scn__mqtt_record_encode(void *buf, size_t cap, const char *topic,
                               size_t topic_len, const void *payload,
                               size_t len, bool retain)
{
    size_t need = scn__mqtt_record_size(topic_len, len);
    unsigned char *p = buf;

    if (!need || cap < need)
        return 0;
    p[0] = SCN_MQTT_RECORD_VERSION;
    p[1] = retain ? FLAG_RETAIN : 0;
    p[2] = (unsigned char)(topic_len >> 8);
    p[3] = (unsigned char)topic_len;
    memcpy(p + SCN_MQTT_RECORD_HEAD, topic, topic_len);
    p[SCN_MQTT_RECORD_HEAD + topic_len] = 0;
    if (len)
        memcpy(p + SCN_MQTT_RECORD_HEAD + topic_len + 1, payload, len);
    return need;
}

int scn__mqtt_record_decode(const void *rec, size_t rec_len,
                            scn_mqtt_record *out)
{
    const unsigned char *p = rec;
    size_t topic_len;

    if (rec_len < SCN_MQTT_RECORD_HEAD || p[0] != SCN_MQTT_RECORD_VERSION ||
        (p[1] & ~FLAG_RETAIN))
        return SCN_ERR_MALFORMED;
    topic_len = (size_t)p[2] << 8 | p[3];
    if (topic_len == 0 || rec_len - SCN_MQTT_RECORD_HEAD < topic_len + 1 ||
        p[SCN_MQTT_RECORD_HEAD + topic_len] != 0 ||
        memchr(p + SCN_MQTT_RECORD_HEAD, 0, topic_len))
        return SCN_ERR_MALFORMED;
    out->topic = (const char *)p + SCN_MQTT_RECORD_HEAD;
    out->topic_len = topic_len;
    out->payload = p + SCN_MQTT_RECORD_HEAD + topic_len + 1;
    out->len = rec_len - SCN_MQTT_RECORD_HEAD - topic_len - 1;
    out->retain = (p[1] & FLAG_RETAIN) != 0;
    return 0;
}
