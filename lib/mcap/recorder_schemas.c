/*
 * Topics and JSON Schemas of the well-known recording streams. They
 * describe the messages the apps write (docs/PROTOCOL.md for device frames)
 * and stay open to new keys: a field added to the protocol must not make
 * old viewers reject new recordings, so no schema sets
 * additionalProperties to false.
 */
#include <stddef.h>

#include <scentience/recorder.h>

#define NUM "{\"type\":\"number\"}"
#define INT "{\"type\":\"integer\"}"
#define STR "{\"type\":\"string\"}"

/* A device frame as scn_frame_to_json() writes it: UID and TIMESTAMP always,
 * compounds keyed by formula with an optional _A/_B sensor channel. */
static const char olfaction_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"title\":\"scentience.Olfaction\","
    "\"description\":\"One olfaction device frame (docs/PROTOCOL.md, "
    "device frames); absent compounds read as 0.\","
    "\"type\":\"object\","
    "\"required\":[\"UID\",\"TIMESTAMP\"],"
    "\"properties\":{"
    "\"UID\":" STR ","
    "\"TIMESTAMP\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"SEQ\":{\"type\":\"integer\",\"minimum\":0},"
    "\"ENV_temperatureC\":" NUM ",\"ENV_humidity\":" NUM ","
    "\"ENV_pressureHpa\":" NUM ",\"STATUS_opuA\":" NUM ","
    "\"BATT_health\":" NUM ",\"BATT_v\":" NUM ",\"BATT_charge\":" NUM ","
    "\"BATT_time\":" NUM "},"
    "\"patternProperties\":{"
    "\"^(CO2|NH3|NO|NO2|CO|C2H5OH|H2|CH4|C3H8|C4H10|H2S|HCHO|SO2|VOC)"
    "(_[AB])?$\":" NUM "}}";

/* A drone state string, parsed: the documented keys as numbers. */
static const char uav_state_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"title\":\"scentience.UavState\","
    "\"description\":\"One drone state report; angles in degrees, speeds "
    "in dm/s, heights in cm, battery in %.\","
    "\"type\":\"object\","
    "\"properties\":{"
    "\"pitch\":" INT ",\"roll\":" INT ",\"yaw\":" INT ","
    "\"vgx\":" INT ",\"vgy\":" INT ",\"vgz\":" INT ","
    "\"templ\":" INT ",\"temph\":" INT ",\"tof\":" INT ",\"h\":" INT ","
    "\"bat\":" INT ",\"baro\":" NUM ",\"time\":" INT ","
    "\"agx\":" NUM ",\"agy\":" NUM ",\"agz\":" NUM ","
    "\"olfa\":" NUM ",\"olfb\":" NUM ","
    "\"x\":" INT ",\"y\":" INT ",\"z\":" INT "}}";

/* A command sent to the drone and what came of it. */
static const char uav_command_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"title\":\"scentience.UavCommand\","
    "\"description\":\"A drone command as sent (passwords redacted) and "
    "its answer, its first 128 bytes (answer_truncated: the drone sent "
    "more).\","
    "\"type\":\"object\","
    "\"required\":[\"command\"],"
    "\"properties\":{"
    "\"command\":" STR ","
    "\"answer\":{\"type\":[\"string\",\"null\"]},"
    "\"answer_truncated\":{\"type\":\"boolean\"},"
    "\"error\":" STR ","
    "\"attempts\":" INT ",\"elapsed_ms\":" INT ","
    /* a record not kept whole (no memory): the member left out */
    "\"left_out\":" STR ",\"left_out_bytes\":" INT ","
    "\"left_out_reason\":" STR "}}";

/* A cloud inference result for one input frame. */
static const char inference_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"title\":\"scentience.Inference\","
    "\"description\":\"A cloud inference result: labels with scores for "
    "the input with sequence number seq.\","
    "\"type\":\"object\","
    "\"properties\":{"
    "\"model\":" STR ",\"seq\":{\"type\":\"integer\",\"minimum\":0},"
    "\"labels\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"properties\":{\"label\":" STR ",\"score\":" NUM "}}},"
    "\"target\":" STR ",\"bearing_deg\":" NUM "}}";

/* Connection and application events. Keys appear only redacted. */
static const char events_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"title\":\"scentience.Event\","
    "\"description\":\"A connection or application event; an API key "
    "appears only redacted (****abcd).\","
    "\"type\":\"object\","
    "\"required\":[\"event\"],"
    "\"properties\":{"
    "\"event\":" STR ",\"source\":" STR ",\"state\":" STR ","
    "\"previous\":" STR ",\"reason\":" STR ",\"detail\":" STR ","
    /* FAILED by the attempt limit: why the last attempt failed */
    "\"last_error\":" STR ","
    /* a record not kept whole: the member left out, its size and why */
    "\"left_out\":" STR ",\"left_out_bytes\":" INT ","
    "\"left_out_reason\":" STR ",\"events_incomplete\":" INT ","
    "\"url\":" STR ",\"key\":" STR ","
    "\"delay_ms\":" INT ",\"attempt\":" INT ",\"http_status\":" INT ","
    "\"close_code\":" INT ","
    /* "discontinuity": frames resumed on a new connection */
    "\"gap_ms\":" INT ",\"reconnects\":" INT ",\"last_seq\":" INT ","
    "\"first_seq\":" INT ",\"last_timestamp\":" STR ","
    "\"first_timestamp\":" STR "}}";

/* A fused record handed to the cloud stream (docs/PROTOCOL.md 9.3), by
 * reference: the frame is the /olfaction message with this uid and
 * timestamp, so it is not stored twice; the state is the one attached. */
static const char cloud_record_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"title\":\"scentience.CloudRecord\","
    "\"description\":\"A fused record submitted to the cloud stream: its "
    "seq (inference results name it), the device frame it carries (uid and "
    "timestamp of the /olfaction message) and the drone state attached, "
    "with age_ms = frame time minus state time; no state: none known.\","
    "\"type\":\"object\","
    "\"required\":[\"seq\",\"uid\",\"timestamp\"],"
    "\"properties\":{"
    "\"seq\":{\"type\":\"integer\",\"minimum\":1},"
    "\"stream\":" STR ",\"uid\":" STR ","
    "\"timestamp\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"state\":{\"type\":\"object\"},\"age_ms\":" INT "}}";

static const struct {
    const char *topic;
    const char *name;
    const char *schema;
} streams[SCN_RECORD_STREAM_COUNT] = {
    [SCN_RECORD_OLFACTION] = {"/olfaction", "scentience.Olfaction",
                              olfaction_schema},
    [SCN_RECORD_UAV_STATE] = {"/uav/state", "scentience.UavState",
                              uav_state_schema},
    [SCN_RECORD_UAV_COMMAND] = {"/uav/command", "scentience.UavCommand",
                                uav_command_schema},
    [SCN_RECORD_INFERENCE] = {"/inference", "scentience.Inference",
                              inference_schema},
    [SCN_RECORD_EVENTS] = {"/events", "scentience.Event", events_schema},
    [SCN_RECORD_CLOUD_RECORD] = {"/cloud/record", "scentience.CloudRecord",
                                 cloud_record_schema},
};

static int known(scn_record_stream stream)
{
    return (unsigned)stream < SCN_RECORD_STREAM_COUNT;
}

const char *scn_record_stream_topic(scn_record_stream stream)
{
    return known(stream) ? streams[stream].topic : NULL;
}

const char *scn_record_stream_schema_name(scn_record_stream stream)
{
    return known(stream) ? streams[stream].name : NULL;
}

const char *scn_record_stream_schema(scn_record_stream stream)
{
    return known(stream) ? streams[stream].schema : NULL;
}
