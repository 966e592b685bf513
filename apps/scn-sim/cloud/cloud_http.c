/*
 * POST /v1/predict (PROTOCOL.md 9.6): the headers are judged when they
 * arrive (LWS_CALLBACK_HTTP), the body is collected (HTTP_BODY) and the
 * answer written when it is complete (HTTP_BODY_COMPLETION), so that a
 * refused request still has its body read and the connection stays usable.
 */
#include "cloud_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/simclock.h"
#include "common/simhttp.h"
#include "common/simlog.h"

static char *error_body(const char *code, const char *message,
                        unsigned retry_after)
{
    cJSON *e = cJSON_CreateObject();
    char *t;

    cJSON_AddStringToObject(e, "type", "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    if (retry_after)
        cJSON_AddNumberToObject(e, "retry_after", retry_after);
    t = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    return t;
}

static void log_predict(const cloud_conn *c, int status, const char *label)
{
    cJSON *ev = simlog_event("predict");

    cJSON_AddNumberToObject(ev, "status", status);
    cJSON_AddStringToObject(ev, "peer", c->peer);
    cJSON_AddStringToObject(ev, "key", c->key_name[0] ? c->key_name : "?");
    if (label)
        cJSON_AddStringToObject(ev, "label", label);
    simlog_emit(ev);
}

static void cloud_http_free(void *pss)
{
    cloud_conn *c = pss;
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
    c->rx_overflow = 0;
    c->http_status = 0;
    c->http_code = NULL;
    c->auth_desc = NULL;
}

static int cloud_http_request(sim_server *base, void *pss, struct lws *wsi,
                              const char *uri)
{
    cloud_srv *s = (cloud_srv *)base;
    cloud_conn *c = pss;
    unsigned retry = 0;
    int malformed;
    ks_verdict v;

    c->srv = s;
    c->wsi = wsi;
    if (!lws_get_peer_simple(wsi, c->peer, sizeof(c->peer)))
        snprintf(c->peer, sizeof(c->peer), "?");
    if (!lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) ||
        strcmp(uri, "/v1/predict")) {
        /* Nothing else is served over plain HTTP. */
        if (sim_http_answer(wsi, 404, NULL, NULL, 0, 0))
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    v = sim_check_bearer(base->ks, wsi, c->peer, &c->key, &retry, &malformed);
    snprintf(c->key_name, sizeof(c->key_name), "%s",
             v == KS_INVALID && !c->key ? "?" : ks_key_name(c->key));
    /* Same order as the handshake (PROTOCOL.md 2): key, address, quota. */
    if (v == KS_INVALID || v == KS_EXPIRED || v == KS_REVOKED) {
        c->http_status = 401;
        c->http_code = v == KS_EXPIRED   ? "expired"
                       : v == KS_REVOKED ? "revoked"
                                         : "invalid";
        c->auth_desc = c->http_code;
    } else if (v == KS_ADDRESS) {
        c->http_status = 403;
        c->http_code = "address";
    } else if (v == KS_QUOTA || cloud_refusing(s)) {
        c->http_status = 429;
        c->http_code = "quota";
        c->retry_after = v == KS_QUOTA ? retry : cloud_refusing(s);
    }
    return 0;
}

static int cloud_http_body(void *pss, const void *in, size_t len)
{
    cloud_conn *c = pss;
    char *n;

    /* Too big: the rest is read and thrown away, answered at the end. */
    if (c->rx_overflow || c->rx_len + len > CLOUD_RX_MAX) {
        c->rx_overflow = 1;
        return 0;
    }
    n = realloc(c->rx, c->rx_len + len + 1);
    if (!n)
        return -1;
    c->rx = n;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    c->rx[c->rx_len] = '\0';
    return 0;
}

static int cloud_http_complete(void *pss)
{
    cloud_conn *c = pss;
    int status = c->http_status;
    const char *code = c->http_code, *why = "", *label = NULL;
    char *body = NULL;
    unsigned retry = 0;
    int rc;

    if (!status && c->rx_overflow) {
        status = 413;
        code = "too_big";
        why = "body above 64 KiB";
    }
    if (!status) {
        cJSON *req = c->rx ? cJSON_ParseWithLength(c->rx, c->rx_len) : NULL;
        cJSON *inf = NULL;

        if (!cJSON_IsObject(req))
            why = "body: not a JSON object";
        else if (!cJSON_GetObjectItemCaseSensitive(req, "input"))
            why = "body: no input";
        else
            inf = cloud_model_infer(
                &c->srv->base.pl,
                cJSON_GetObjectItemCaseSensitive(req, "input"), NULL, &why);
        if (inf) {
            cJSON *l = cJSON_GetArrayItem(
                cJSON_GetObjectItemCaseSensitive(inf, "labels"), 0);

            status = 200;
            body = cJSON_PrintUnformatted(inf);
            if (l)
                label =
                    cJSON_GetObjectItemCaseSensitive(l, "label")->valuestring;
            log_predict(c, status, label);
            label = NULL;
            ks_quota_take(c->key, (double)sim_mono_us() / 1e6, &retry);
            cJSON_Delete(inf);
        } else {
            status = 400;
            code = "malformed";
        }
        cJSON_Delete(req);
    }
    if (status != 200) {
        if (status == 429)
            retry = c->retry_after;
        body = error_body(code, why[0] ? why : code, retry);
        log_predict(c, status, NULL);
    }
    rc = sim_http_answer(c->wsi, status, body, c->auth_desc, retry, 0);
    cJSON_free(body);
    cloud_http_free(c);
    if (rc)
        return -1;
    return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

const sim_http_ops cloud_http_ops = {
    .request = cloud_http_request,
    .body = cloud_http_body,
    .complete = cloud_http_complete,
    .drop = cloud_http_free,
};
