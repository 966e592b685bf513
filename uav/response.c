/*
 * Answers of the drone to commands: "ok", "error [reason]", or the value a
 * read command asks for. The same grammar decides whether a late answer
 * could belong to a command, which the command channel needs to
 * resynchronise after a timeout.
 */
#include <string.h>

#include <scentience/error.h>

#include "uav_internal.h"

static bool is_trailing_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether s[0..len) starts with the lowercase word w, ignoring case. */
static bool starts_with_ci(const char *s, size_t len, const char *w)
{
    size_t n = strlen(w);

    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (lower(s[i]) != w[i])
            return false;
    }
    return true;
}

/* An integer answer: int32, then the command's own sane range, so that a
 * stray number is not taken for a battery level. */
static bool parse_int(scn_uav_cmd_id cmd, const char *s, size_t len,
                      scn_uav_answer *out)
{
    int64_t v;
    bool overflow;

    if (!scn__uav_read_int(s, len, false, &v, &overflow) || overflow ||
        v < INT32_MIN || v > INT32_MAX)
        return false;
    if (cmd == SCN_UAV_READ_BATTERY && (v < 0 || v > 100))
        return false;
    if (cmd == SCN_UAV_READ_TIME && v < 0)
        return false;
    out->kind = SCN_UAV_ANSWER_NUMBER;
    out->is_integer = true;
    out->integer = v;
    out->number = (double)v;
    return true;
}

/* An integer or a decimal ("100.0" is how some firmware prints speed?). */
static bool parse_number(scn_uav_cmd_id cmd, const char *s, size_t len,
                         scn_uav_answer *out)
{
    double v;
    bool integral;

    if (parse_int(cmd, s, len, out))
        return out->number >= 0 || cmd != SCN_UAV_READ_SPEED;
    if (!scn__uav_read_decimal(s, len, &v, &integral))
        return false;
    if (cmd == SCN_UAV_READ_SPEED && v < 0)
        return false;
    out->kind = SCN_UAV_ANSWER_NUMBER;
    out->is_integer = false;
    out->integer = 0;
    out->number = v;
    return true;
}

/* "36.0000, 48.9994": two decimals, a comma, spaces optional around it. */
static bool parse_pos(const char *s, size_t len, scn_uav_answer *out)
{
    const char *comma = memchr(s, ',', len);
    bool integral;

    if (comma == NULL)
        return false;
    size_t a = (size_t)(comma - s), b = a + 1;
    while (a > 0 && s[a - 1] == ' ')
        a--;
    while (b < len && s[b] == ' ')
        b++;
    if (!scn__uav_read_decimal(s, a, &out->pos[0], &integral) ||
        !scn__uav_read_decimal(s + b, len - b, &out->pos[1], &integral))
        return false;
    out->kind = SCN_UAV_ANSWER_POS;
    return true;
}

/* sdk? and sn?: one printable word. */
static bool parse_word(const char *s, size_t len, scn_uav_answer *out)
{
    if (len == 0 || len > SCN_UAV_WORD_MAX || memchr(s, ' ', len) != NULL)
        return false;
    memcpy(out->text, s, len);
    out->text[len] = '\0';
    out->kind = SCN_UAV_ANSWER_WORD;
    return true;
}

static bool classify(scn_uav_cmd_id cmd, scn_uav_answer_class cls,
                     const char *s, size_t len, scn_uav_answer *out)
{
    while (len > 0 && is_trailing_space(s[len - 1]))
        len--;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < ' ' || s[i] > '~')
            return false;
    }
    if (len == 2 && starts_with_ci(s, len, "ok")) {
        out->kind = SCN_UAV_ANSWER_OK;
        /* "ok" to a read is a late answer to something else. */
        return cls == SCN_UAV_ANSWER_CLASS_ACK;
    }
    if (starts_with_ci(s, len, "error") && (len == 5 || s[5] == ' ')) {
        size_t r = 5;
        while (r < len && s[r] == ' ')
            r++;
        size_t n = len - r;
        /* A cut between words must not leave the reason ending in a
         * space: the answer had none there. */
        if (n > SCN_UAV_REASON_MAX)
            n = SCN_UAV_REASON_MAX;
        while (n > 0 && s[r + n - 1] == ' ')
            n--;
        memcpy(out->text, s + r, n);
        out->text[n] = '\0';
        out->kind = SCN_UAV_ANSWER_ERROR;
        return true;
    }
    switch (cls) {
    case SCN_UAV_ANSWER_CLASS_INT:
        return parse_int(cmd, s, len, out);
    case SCN_UAV_ANSWER_CLASS_NUMBER:
        return parse_number(cmd, s, len, out);
    case SCN_UAV_ANSWER_CLASS_POS:
        return parse_pos(s, len, out);
    case SCN_UAV_ANSWER_CLASS_TEXT:
        return parse_word(s, len, out);
    default:
        return false;
    }
}

int scn_uav_answer_parse(scn_uav_cmd_id cmd, const char *text, size_t len,
                         scn_uav_answer *out)
{
    const scn_uav_cmd_info *info = scn__uav_cmd_info_of(cmd);

    if (out == NULL)
        return SCN_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    if (info == NULL || (text == NULL && len > 0))
        return SCN_ERR_INVALID_ARG;
    out->cmd = cmd;
    out->raw_len = len > SCN_UAV_RAW_MAX ? SCN_UAV_RAW_MAX : len;
    out->raw_truncated = len > SCN_UAV_RAW_MAX;
    if (out->raw_len > 0)
        memcpy(out->raw, text, out->raw_len);
    out->raw[out->raw_len] = '\0';
    if (classify(cmd, (scn_uav_answer_class)info->answer, text, len, out))
        return 0;
    /* Nothing half-parsed survives a refusal: only raw stays. */
    out->kind = SCN_UAV_ANSWER_MALFORMED;
    out->is_integer = false;
    out->integer = 0;
    out->number = 0;
    out->pos[0] = out->pos[1] = 0;
    out->text[0] = '\0';
    return SCN_ERR_MALFORMED;
}

int scn_uav_answer_err(const scn_uav_answer *answer)
{
    if (answer == NULL)
        return SCN_ERR_INVALID_ARG;
    switch (answer->kind) {
    case SCN_UAV_ANSWER_OK:
    case SCN_UAV_ANSWER_NUMBER:
    case SCN_UAV_ANSWER_POS:
    case SCN_UAV_ANSWER_WORD:
        return 0;
    case SCN_UAV_ANSWER_ERROR:
        return SCN_ERR_UAV_REFUSED;
    default:
        return SCN_ERR_MALFORMED;
    }
}

bool scn_uav_answer_could_belong(scn_uav_cmd_id cmd, const char *text,
                                 size_t len)
{
    scn_uav_answer a;

    if (text == NULL)
        return false;
    return scn_uav_answer_parse(cmd, text, len, &a) == 0;
}
