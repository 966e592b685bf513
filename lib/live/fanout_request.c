/* Live fan-out requests (see fanout_request.h). */
#include "fanout_request.h"

#include <string.h>

#include "frame_internal.h"

bool scn__fanout_stream_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > SCN_FANOUT_STREAM_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* The "streams" array, whole, into req. Returns NULL or the reason. */
static const char *parse_names(const cJSON *root, scn_fanout_request *req)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "streams");
    const cJSON *it;

    if (!cJSON_IsArray(arr))
        return "\"streams\" must be an array of stream names";
    cJSON_ArrayForEach(it, arr)
    {
        const char *name = cJSON_GetStringValue(it);
        size_t len;
        bool dup = false;

        if (!name)
            return "\"streams\" must hold strings";
        if (strcmp(name, "*") == 0) {
            req->all = true;
            continue;
        }
        len = strlen(name);
        if (!scn__fanout_stream_name_ok(name, len))
            return "stream names are 1-63 of [A-Za-z0-9._-], or \"*\"";
        for (size_t i = 0; i < req->n && !dup; i++)
            dup = strcmp(req->streams[i], name) == 0;
        if (dup)
            continue;
        if (req->n == SCN_FANOUT_MAX_STREAMS)
            return "too many streams (at most 32)";
        memcpy(req->streams[req->n++], name, len + 1);
    }
    return NULL;
}

const char *scn__fanout_request_parse(const char *data, size_t len,
                                      bool is_binary, scn_fanout_request *req,
                                      const char **why)
{
    cJSON *root = NULL;
    const char *type, *code = NULL;

    memset(req, 0, sizeof(*req));
    *why = NULL;
    if (is_binary || scn__frame_json_parse(data, len, &root) != 0 ||
        !cJSON_IsObject(root)) {
        *why = "requests are JSON objects in text";
        code = "malformed";
        goto out;
    }
    type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "type"));
    if (!type) {
        *why = "\"type\" must be a string";
        code = "bad_request";
    } else if (strcmp(type, "subscribe") != 0 &&
               strcmp(type, "unsubscribe") != 0) {
        *why = "known requests: subscribe, unsubscribe";
        code = "unknown_type";
    } else {
        req->subscribe = type[0] == 's';
        if ((*why = parse_names(root, req)) != NULL)
            code = "bad_request";
    }
out:
    cJSON_Delete(root);
    if (code)
        memset(req, 0, sizeof(*req));
    return code;
}
