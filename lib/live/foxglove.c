/* The Foxglove WebSocket protocol, server side. */
#include "foxglove.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Operations of the protocol that need a capability we do not declare. */
static const char *const unsupported_ops[] = {"advertise",
                                              "unadvertise",
                                              "getParameters",
                                              "setParameters",
                                              "subscribeParameterUpdates",
                                              "unsubscribeParameterUpdates",
                                              "subscribeConnectionGraph",
                                              "unsubscribeConnectionGraph",
                                              "fetchAsset"};

/* A JSON number that is a uint32. */
static bool get_u32(const cJSON *obj, const char *key, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    double d;

    if (!cJSON_IsNumber(v))
        return false;
    d = v->valuedouble;
    if (!(d >= 0 && d <= 4294967295.0) || floor(d) != d)
        return false;
    *out = (uint32_t)d;
    return true;
}

static void bad(scn_fg_request *out, const char *why)
{
    out->op = SCN_FG_BAD;
    out->n = 0;
    out->why = why;
}

static void parse_subscribe(const cJSON *req, scn_fg_request *out)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(req, "subscriptions");
    const cJSON *it;

    if (!cJSON_IsArray(arr)) {
        bad(out, "\"subscriptions\" must be an array");
        return;
    }
    out->op = SCN_FG_SUBSCRIBE;
    cJSON_ArrayForEach(it, arr)
    {
        if (out->n == SCN_FG_REQUEST_MAX) {
            bad(out, "too many subscriptions in one request (at most 64)");
            return;
        }
        if (!cJSON_IsObject(it) || !get_u32(it, "id", &out->sub_id[out->n]) ||
            !get_u32(it, "channelId", &out->channel_id[out->n])) {
            bad(out, "a subscription needs a numeric id and channelId");
            return;
        }
        out->n++;
    }
}

static void parse_unsubscribe(const cJSON *req, scn_fg_request *out)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(req, "subscriptionIds");
    const cJSON *it;

    if (!cJSON_IsArray(arr)) {
        bad(out, "\"subscriptionIds\" must be an array");
        return;
    }
    out->op = SCN_FG_UNSUBSCRIBE;
    cJSON_ArrayForEach(it, arr)
    {
        double d = cJSON_IsNumber(it) ? it->valuedouble : -1;

        if (out->n == SCN_FG_REQUEST_MAX) {
            bad(out, "too many subscription ids in one request (at most 64)");
            return;
        }
        if (!(d >= 0 && d <= 4294967295.0) || floor(d) != d) {
            bad(out, "subscription ids are numbers");
            return;
        }
        out->sub_id[out->n++] = (uint32_t)d;
    }
}

void scn__fg_request_parse(const void *data, size_t len, bool binary,
                           scn_fg_request *out)
{
    const char *op;
    cJSON *req;

    memset(out, 0, sizeof(*out));
    if (binary) {
        /* Client message data (1) and service calls (2). */
        out->op = SCN_FG_UNSUPPORTED;
        snprintf(out->name, sizeof(out->name), "binary opcode %u",
                 len ? ((const unsigned char *)data)[0] : 0u);
        return;
    }
    req = cJSON_ParseWithLength(data, len);
    op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "op"));
    if (!cJSON_IsObject(req) || !op) {
        bad(out, "requests are JSON objects with a string \"op\"");
        cJSON_Delete(req);
        return;
    }
    snprintf(out->name, sizeof(out->name), "%s", op);
    if (strcmp(op, "subscribe") == 0) {
        parse_subscribe(req, out);
    } else if (strcmp(op, "unsubscribe") == 0) {
        parse_unsubscribe(req, out);
    } else {
        bad(out, "unknown operation");
        for (size_t i = 0;
             i < sizeof(unsupported_ops) / sizeof(unsupported_ops[0]); i++)
            if (strcmp(op, unsupported_ops[i]) == 0)
                out->op = SCN_FG_UNSUPPORTED;
    }
    cJSON_Delete(req);
}

/* Prints and deletes obj. */
static char *print(cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;

    cJSON_Delete(obj);
    return text;
}

char *scn__fg_server_info(const char *name, const char *session_id)
{
    cJSON *o = cJSON_CreateObject(), *enc;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "op", "serverInfo");
    cJSON_AddStringToObject(o, "name", name);
    /* No capability: no time, client publishing, parameters, services,
     * connection graph or assets (see docs/PROTOCOL.md 11.2). */
    cJSON_AddArrayToObject(o, "capabilities");
    enc = cJSON_AddArrayToObject(o, "supportedEncodings");
    if (enc)
        cJSON_AddItemToArray(enc, cJSON_CreateString("json"));
    if (session_id)
        cJSON_AddStringToObject(o, "sessionId", session_id);
    return print(o);
}

char *scn__fg_advertise(const scn_fg_channel *ch, size_t n)
{
    cJSON *o = cJSON_CreateObject(), *arr;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "op", "advertise");
    arr = cJSON_AddArrayToObject(o, "channels");
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *c = cJSON_CreateObject();

        if (!c)
            break;
        cJSON_AddNumberToObject(c, "id", ch[i].id);
        cJSON_AddStringToObject(c, "topic", ch[i].topic);
        cJSON_AddStringToObject(c, "encoding", "json");
        cJSON_AddStringToObject(c, "schemaName", ch[i].schema_name);
        cJSON_AddStringToObject(c, "schema", ch[i].schema);
        cJSON_AddStringToObject(c, "schemaEncoding", "jsonschema");
        cJSON_AddItemToArray(arr, c);
    }
    return print(o);
}

char *scn__fg_unadvertise(const uint32_t *ids, size_t n)
{
    cJSON *o = cJSON_CreateObject(), *arr;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "op", "unadvertise");
    arr = cJSON_AddArrayToObject(o, "channelIds");
    for (size_t i = 0; arr && i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(ids[i]));
    return print(o);
}

char *scn__fg_status(int level, const char *message)
{
    cJSON *o = cJSON_CreateObject();

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "op", "status");
    cJSON_AddNumberToObject(o, "level", level);
    cJSON_AddStringToObject(o, "message", message);
    return print(o);
}

void scn__fg_message_prefix(unsigned char out[SCN_FG_MESSAGE_PREFIX],
                            uint32_t sub_id, uint64_t time_ns)
{
    out[0] = 0x01;
    scn__fg_prefix_set_sub(out, sub_id);
    for (int i = 0; i < 8; i++)
        out[5 + i] = (unsigned char)(time_ns >> (8 * i));
}
