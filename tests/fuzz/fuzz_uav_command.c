/*
 * Raw drone command lines (uav/validate.c, uav/command.c), what scn-uav
 * and flight scripts let a user type. An accepted line passes the
 * validator, is written back byte for byte (the oio compound in lowercase)
 * and parses again to the same command; its redacted form hides exactly
 * the Wi-Fi password; and no refusal message quotes a password.
 */
#include "fuzz.h"

#include <strings.h>

#include <scentience/error.h>
#include <scentience/uav.h>

/* The password token of an ssid or ap line, when the line has one. */
static bool password_of(const char *line, char *name, char *pass, size_t cap)
{
    char w[4][256];
    int n;

    if (strlen(line) >= 256)
        return false;
    n = sscanf(line, "%255s %255s %255s %255s", w[0], w[1], w[2], w[3]);
    if (n == 4 && strcmp(w[0], "ssid") == 0) {
        snprintf(name, cap, "%s", w[1]);
        snprintf(pass, cap, "%s", w[3]);
        return true;
    }
    if (n == 3 && strcmp(w[0], "ap") == 0) {
        snprintf(name, cap, "%s", w[1]);
        snprintf(pass, cap, "%s", w[2]);
        return true;
    }
    return false;
}

/* Long and odd enough not to occur in a message by chance. */
static bool distinctive(const char *s)
{
    bool digit = false, upper = false;

    for (const char *p = s; *p; p++) {
        digit = digit || (*p >= '0' && *p <= '9');
        upper = upper || (*p >= 'A' && *p <= 'Z');
    }
    return strlen(s) >= 8 && digit && upper;
}

static void check_accepted(const scn_uav_cmd *cmd, const char *line, size_t len)
{
    char out[SCN_UAV_LINE_MAX + 1], red[SCN_UAV_LINE_MAX + 1], want[300];
    char msg[256];
    size_t n = 0, rn = 0;
    scn_uav_cmd again;

    FUZZ_CHECK(scn_uav_cmd_validate(cmd, msg, sizeof msg) == 0,
               "parsed but invalid: %s", msg);
    FUZZ_CHECK(scn_uav_cmd_format(cmd, out, sizeof out, &n, msg, sizeof msg) ==
                   0,
               "format: %s", msg);
    if (cmd->id == SCN_UAV_OIO)
        FUZZ_CHECK(n == len && strncasecmp(out, line, len) == 0,
                   "\"%s\" written \"%s\"", line, out);
    else
        FUZZ_CHECK(n == len && memcmp(out, line, len) == 0,
                   "\"%s\" written \"%s\"", line, out);
    FUZZ_CHECK(scn_uav_cmd_parse(out, n, &again, msg, sizeof msg) == 0 &&
                   memcmp(&again, cmd, sizeof again) == 0,
               "\"%s\" parses to another command", out);

    FUZZ_CHECK(scn_uav_cmd_format_redacted(cmd, red, sizeof red, &rn, msg,
                                           sizeof msg) == 0,
               "redacted format: %s", msg);
    if (cmd->id == SCN_UAV_SSID)
        snprintf(want, sizeof want, "ssid %s pass ****", cmd->ssid);
    else if (cmd->id == SCN_UAV_AP)
        snprintf(want, sizeof want, "ap %s ****", cmd->ssid);
    else
        snprintf(want, sizeof want, "%s", out);
    FUZZ_CHECK(strcmp(red, want) == 0 && rn == strlen(want),
               "redacted \"%s\", want \"%s\"", red, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_cstr(data, size);
    char msg[256], name[256], pass[256];
    scn_uav_cmd cmd;
    static const scn_uav_cmd zero;
    int rc = scn_uav_cmd_parse((const char *)data, size, &cmd, msg, sizeof msg);

    FUZZ_CHECK(strlen(msg) < sizeof msg, "message");
    if (rc == 0) {
        FUZZ_CHECK(msg[0] == '\0', "accepted with message \"%s\"", msg);
        check_accepted(&cmd, (const char *)data, size);
    } else {
        FUZZ_CHECK(memcmp(&cmd, &zero, sizeof cmd) == 0, "refused but filled");
        FUZZ_CHECK(msg[0] != '\0', "refused (%s) without a message",
                   scn_err_name(rc));
        if (strlen(line) == size &&
            password_of(line, name, pass, sizeof pass) && distinctive(pass) &&
            strstr(name, pass) == NULL)
            FUZZ_CHECK(strstr(msg, pass) == NULL,
                       "refusal message quotes the password: %s", msg);
    }
    free(line);
    return 0;
}
