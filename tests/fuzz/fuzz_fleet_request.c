/*
 * Fleet command requests (apps/common/fleet_gate.c): whatever anyone who
 * can publish to the broker sends, with every command the operator may
 * list opened, nothing that passes the gate moves the drone, takes off or
 * fails the validator; a retained request never passes; a request passes
 * at most once. The first byte picks retained (its low bit).
 */
#include "fuzz.h"

#include "fleet_gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fleet_gate gate; /* remembers ids across inputs: bounded ring */
    static int ready;
    fleet_request req;
    fleet_verdict v;
    char why[256], detail[256];
    int retained;

    if (!ready) {
        fleet_gate_init(&gate);
        FUZZ_CHECK(fleet_gate_allow_list(&gate,
                                         "land,emergency,stop,streamon,"
                                         "streamoff,oiooff,follow",
                                         why, sizeof(why)) == 0,
                   "the whole may-list refused: %s", why);
        ready = 1;
    }
    if (size == 0)
        return 0;
    retained = data[0] & 1;
    v = fleet_gate_check(&gate, (const char *)data + 1, size - 1, retained,
                         &req, detail, sizeof(detail));
    FUZZ_CHECK(v >= FLEET_PASS && v <= FLEET_DUPLICATE, "verdict %d", v);
    if (v != FLEET_PASS) {
        FUZZ_CHECK(detail[0], "a refusal without a sentence");
        return 0;
    }
    FUZZ_CHECK(!retained, "a retained request passed");
    FUZZ_CHECK(size - 1 <= FLEET_REQUEST_MAX, "an oversize request passed");
    FUZZ_CHECK(req.id[0] && strlen(req.id) <= FLEET_ID_MAX, "bad id passed");
    FUZZ_CHECK(req.which < FLEET_CMD_COUNT, "no fleet command");
    if (req.which != FLEET_CMD_FOLLOW) {
        FUZZ_CHECK(scn_uav_cmd_validate(&req.cmd, why, sizeof(why)) == 0,
                   "an invalid command passed: %s", req.command);
        FUZZ_CHECK(!scn_uav_cmd_moves(req.cmd.id) &&
                       scn_uav_cmd_kind(req.cmd.id) != SCN_UAV_KIND_MOTION &&
                       req.cmd.id != SCN_UAV_TAKEOFF,
                   "a command that flies the drone passed: %s", req.command);
    }
    /* The same request again is a duplicate, never a second action. */
    FUZZ_CHECK(fleet_gate_check(&gate, (const char *)data + 1, size - 1, 0,
                                &req, detail, sizeof(detail)) ==
                   FLEET_DUPLICATE,
               "a request passed twice");
    return 0;
}
