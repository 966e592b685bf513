/*
 * A drone's streams under the names a viewer sees: "/<id>/<stream>" on
 * the recording and in Foxglove, "<id>.<stream>" on /live (dots, as /live
 * names allow no slash), with the recorder's JSON Schemas so that a
 * fleet recording reads like a companion's.
 */
#include <stdio.h>
#include <time.h>

#include "station.h"

/* The retained birth / will of a companion (docs/PROTOCOL.md, Fleet over
 * MQTT). */
static const char status_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"title\":\"scentience.FleetStatus\","
    "\"description\":\"A companion's retained status on the fleet broker: "
    "its birth (online true, what it has) or its will (online false).\","
    "\"type\":\"object\","
    "\"required\":[\"online\"],"
    "\"properties\":{\"online\":{\"type\":\"boolean\"},"
    "\"version\":{\"type\":\"string\"}}}";

static const int record_stream[SCN_FLEET_STREAM_COUNT] = {
    [SCN_FLEET_OLFACTION] = SCN_RECORD_OLFACTION,
    [SCN_FLEET_STATE] = SCN_RECORD_UAV_STATE,
    [SCN_FLEET_INFERENCE] = SCN_RECORD_INFERENCE,
    [SCN_FLEET_EVENTS] = SCN_RECORD_EVENTS,
    [SCN_FLEET_COMMAND] = SCN_RECORD_UAV_COMMAND,
    [SCN_FLEET_STATUS] = -1,
};

void gs_topic(char *buf, size_t cap, const char *id, scn_fleet_stream st)
{
    snprintf(buf, cap, "/%s/%s", id, scn_fleet_stream_name(st));
}

void gs_live_stream(char *buf, size_t cap, const char *id, scn_fleet_stream st)
{
    snprintf(buf, cap, "%s.%s", id, scn_fleet_stream_name(st));
}

const char *gs_schema_name(scn_fleet_stream st)
{
    if (record_stream[st] < 0)
        return "scentience.FleetStatus";
    return scn_record_stream_schema_name((scn_record_stream)record_stream[st]);
}

const char *gs_schema(scn_fleet_stream st)
{
    if (record_stream[st] < 0)
        return status_schema;
    return scn_record_stream_schema((scn_record_stream)record_stream[st]);
}

uint64_t gs_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
