#include "keycheck.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#include "simlog.h"

int sim_keys_reload(keystore *ks)
{
    cJSON *ev = simlog_event("reload");
    char err[256];

    if (ks_reload(ks, err, sizeof(err))) {
        cJSON_AddBoolToObject(ev, "ok", 0);
        cJSON_AddStringToObject(ev, "error", err);
        simlog_emit(ev);
        simlog_error("key reload failed, keeping the old keys: %s", err);
        return -1;
    }
    cJSON_AddBoolToObject(ev, "ok", 1);
    cJSON_AddNumberToObject(ev, "keys", (double)ks_count(ks));
    cJSON_AddBoolToObject(ev, "dev_mode", ks_is_dev(ks));
    simlog_emit(ev);
    simlog_info("keys reloaded: %zu", ks_count(ks));
    return 0;
}

int sim_keys_close_code(const ks_key *k, const char *peer, time_t now,
                        const char **reason)
{
    switch (ks_recheck(k, peer, now)) {
    case KS_REVOKED:
        *reason = "key revoked";
        return 4001;
    case KS_EXPIRED:
        *reason = "key expired";
        return 4002;
    case KS_ADDRESS:
        *reason = "address no longer allowed";
        return 4003;
    default:
        *reason = NULL;
        return 0;
    }
}
