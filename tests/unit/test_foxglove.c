/* The Foxglove protocol codec: requests read (and refused), server
 * messages written as the protocol has them, the message data prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "foxglove.h"

static void parse(const char *text, scn_fg_request *r)
{
    scn__fg_request_parse(text, strlen(text), false, r);
}

static void test_subscribe_unsubscribe(void **state)
{
    scn_fg_request r;

    (void)state;
    parse("{\"op\":\"subscribe\",\"subscriptions\":[{\"id\":0,\"channelId\":3},"
          "{\"id\":4294967295,\"channelId\":1}]}",
          &r);
    assert_int_equal(r.op, SCN_FG_SUBSCRIBE);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.sub_id[0], 0);
    assert_int_equal(r.channel_id[0], 3);
    assert_int_equal(r.sub_id[1], 4294967295u);
    parse("{\"op\":\"unsubscribe\",\"subscriptionIds\":[7,8]}", &r);
    assert_int_equal(r.op, SCN_FG_UNSUBSCRIBE);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.sub_id[1], 8);
    parse("{\"op\":\"subscribe\",\"subscriptions\":[]}", &r);
    assert_int_equal(r.op, SCN_FG_SUBSCRIBE);
    assert_int_equal(r.n, 0);
}

static void test_refusals(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"op\":5}",
        "{\"subscriptions\":[]}",
        "{\"op\":\"subscribe\"}",
        "{\"op\":\"subscribe\",\"subscriptions\":[{\"id\":1}]}",
        "{\"op\":\"subscribe\",\"subscriptions\":[{\"id\":-1,\"channelId\":1}]"
        "}",
        "{\"op\":\"subscribe\",\"subscriptions\":[{\"id\":1.5,\"channelId\":1}]"
        "}",
        "{\"op\":\"subscribe\",\"subscriptions\":[{\"id\":4294967296,"
        "\"channelId\":1}]}",
        "{\"op\":\"unsubscribe\",\"subscriptionIds\":[\"1\"]}",
        "{\"op\":\"dance\"}",
    };
    scn_fg_request r;
    char big[8192];
    size_t at;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse(bad[i], &r);
        assert_int_equal(r.op, SCN_FG_BAD);
        assert_non_null(r.why);
        assert_int_equal(r.n, 0);
    }
    /* Operations of the protocol we do not offer: named in the answer. */
    parse("{\"op\":\"advertise\",\"channels\":[]}", &r);
    assert_int_equal(r.op, SCN_FG_UNSUPPORTED);
    assert_string_equal(r.name, "advertise");
    parse("{\"op\":\"fetchAsset\",\"uri\":\"x\",\"requestId\":1}", &r);
    assert_int_equal(r.op, SCN_FG_UNSUPPORTED);
    scn__fg_request_parse("\x01\x00\x00\x00\x00"
                          "abc",
                          8, true, &r);
    assert_int_equal(r.op, SCN_FG_UNSUPPORTED);
    /* More subscriptions than one request may carry. */
    at = (size_t)snprintf(big, sizeof(big),
                          "{\"op\":\"subscribe\",\"subscriptions\":[");
    for (int i = 0; i <= SCN_FG_REQUEST_MAX; i++)
        at +=
            (size_t)snprintf(big + at, sizeof(big) - at,
                             "%s{\"id\":%d,\"channelId\":1}", i ? "," : "", i);
    snprintf(big + at, sizeof(big) - at, "]}");
    parse(big, &r);
    assert_int_equal(r.op, SCN_FG_BAD);
}

static void test_server_messages(void **state)
{
    scn_fg_channel ch = {3, "/uav/state", "scentience.UavState",
                         "{\"type\":\"object\"}"};
    uint32_t ids[2] = {3, 9};
    char *text;
    cJSON *o, *c;

    (void)state;
    text = scn__fg_server_info("scn-companion", "42");
    o = cJSON_Parse(text);
    assert_string_equal(cJSON_GetObjectItem(o, "op")->valuestring,
                        "serverInfo");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "capabilities")),
                     0);
    assert_string_equal(cJSON_GetObjectItem(o, "sessionId")->valuestring, "42");
    cJSON_Delete(o);
    free(text);

    text = scn__fg_advertise(&ch, 1);
    o = cJSON_Parse(text);
    c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "channels"), 0);
    assert_int_equal(cJSON_GetObjectItem(c, "id")->valueint, 3);
    assert_string_equal(cJSON_GetObjectItem(c, "topic")->valuestring,
                        "/uav/state");
    assert_string_equal(cJSON_GetObjectItem(c, "encoding")->valuestring,
                        "json");
    assert_string_equal(cJSON_GetObjectItem(c, "schemaEncoding")->valuestring,
                        "jsonschema");
    assert_string_equal(cJSON_GetObjectItem(c, "schema")->valuestring,
                        "{\"type\":\"object\"}");
    cJSON_Delete(o);
    free(text);

    text = scn__fg_unadvertise(ids, 2);
    assert_string_equal(text, "{\"op\":\"unadvertise\",\"channelIds\":[3,9]}");
    free(text);
    text = scn__fg_status(SCN_FG_ERROR, "no \"such\" channel");
    assert_string_equal(text, "{\"op\":\"status\",\"level\":2,\"message\":"
                              "\"no \\\"such\\\" channel\"}");
    free(text);
}

static void test_message_prefix(void **state)
{
    unsigned char p[SCN_FG_MESSAGE_PREFIX];
    static const unsigned char want[SCN_FG_MESSAGE_PREFIX] = {
        0x01, 0x04, 0x03, 0x02, 0x01, 0x08, 0x07,
        0x06, 0x05, 0x04, 0x03, 0x02, 0x01};

    (void)state;
    /* Little-endian subscription id and nanoseconds after opcode 1. */
    scn__fg_message_prefix(p, 0x01020304u, 0x0102030405060708ull);
    assert_memory_equal(p, want, sizeof(want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscribe_unsubscribe),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_server_messages),
        cmocka_unit_test(test_message_prefix),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
