#include "device_request.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Largest integer a double holds exactly: bounds request ids. */
#define ID_MAX 9007199254740991.0

static cJSON *error_reply(const char *code, const char *message,
                          const devreq *r)
{
    cJSON *e = cJSON_CreateObject();

    cJSON_AddStringToObject(e, "type", "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    if (r && r->has_id)
        cJSON_AddNumberToObject(e, "id", r->id);
    return e;
}

cJSON *devreq_error(const char *code, const char *message)
{
    return error_reply(code, message, NULL);
}

static int parse_stream(const cJSON *req, devreq *r, const char **why)
{
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(req, "on");
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(req, "rate_hz");

    r->on = 1;
    if (on && !cJSON_IsNull(on)) {
        if (!cJSON_IsBool(on)) {
            *why = "on must be a boolean";
            return -1;
        }
        r->on = cJSON_IsTrue(on);
    }
    if (rate && !cJSON_IsNull(rate)) {
        if (!cJSON_IsNumber(rate) || !isfinite(rate->valuedouble)) {
            *why = "rate_hz must be a number";
            return -1;
        }
        if (rate->valuedouble < DEVREQ_RATE_MIN ||
            rate->valuedouble > DEVREQ_RATE_MAX) {
            *why = "rate_hz out of range 0.1-1000";
            return -1;
        }
        r->has_rate = 1;
        r->rate_hz = rate->valuedouble;
    }
    return 0;
}

int devreq_parse(const char *text, size_t len, devreq *r, cJSON **reply)
{
    const cJSON *type, *id;
    const char *code = "bad_request", *why = NULL;
    char msg[160];
    cJSON *req;

    memset(r, 0, sizeof(*r));
    *reply = NULL;
    req = cJSON_ParseWithLength(text ? text : "", len);
    if (!req) {
        *reply = error_reply("malformed", "request is not valid JSON", NULL);
        return -1;
    }
    if (!cJSON_IsObject(req)) {
        why = "a request is a JSON object";
        goto fail;
    }
    id = cJSON_GetObjectItemCaseSensitive(req, "id");
    if (id && (!cJSON_IsNumber(id) || !isfinite(id->valuedouble) ||
               id->valuedouble != floor(id->valuedouble) ||
               fabs(id->valuedouble) > ID_MAX)) {
        why = "id must be an integer";
        goto fail;
    }
    if (id) {
        r->has_id = 1;
        r->id = id->valuedouble;
    }
    type = cJSON_GetObjectItemCaseSensitive(req, "type");
    if (!cJSON_IsString(type)) {
        why = "type must be a string";
    } else if (!strcmp(type->valuestring, "sample")) {
        r->kind = DEVREQ_SAMPLE;
    } else if (!strcmp(type->valuestring, "stream")) {
        r->kind = DEVREQ_STREAM;
        (void)parse_stream(req, r, &why);
    } else {
        snprintf(msg, sizeof(msg), "unknown request type \"%.100s\"",
                 type->valuestring);
        code = "unknown_type";
        why = msg;
    }
fail:
    if (why)
        *reply = error_reply(code, why, r);
    cJSON_Delete(req);
    return why ? -1 : 0;
}

cJSON *devreq_ack(const devreq *r)
{
    cJSON *a;

    if (!r->has_id)
        return NULL;
    a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", "ack");
    cJSON_AddNumberToObject(a, "id", r->id);
    cJSON_AddStringToObject(a, "request",
                            r->kind == DEVREQ_SAMPLE ? "sample" : "stream");
    if (r->kind == DEVREQ_STREAM)
        cJSON_AddBoolToObject(a, "on", r->on);
    return a;
}
