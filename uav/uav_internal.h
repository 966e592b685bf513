/*
 * Helpers shared by the UAV text codecs: the command table, message
 * writing, locale-independent number reading and writing, and a bounded
 * output buffer with the "size needed" convention of scn_frame_to_json().
 */
#ifndef SCN_UAV_INTERNAL_H
#define SCN_UAV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scentience/uav.h>

/* Static facts about one command id. */
typedef struct scn_uav_cmd_info {
    const char *name;
    unsigned char kind;    /* scn_uav_kind */
    unsigned char timeout; /* scn_uav_timeout */
    unsigned char answer;  /* scn_uav_answer_class */
    unsigned char nargs;   /* arguments after the command word */
    const char *usage;     /* "go x y z speed" */
} scn_uav_cmd_info;

/* NULL for an id out of range. */
const scn_uav_cmd_info *scn__uav_cmd_info_of(scn_uav_cmd_id id);

/* Looks up a command word (exact, case-sensitive). */
bool scn__uav_cmd_lookup(const char *word, size_t len, scn_uav_cmd_id *out);

/* Writes a message into msg (see uav.h); a no-op when msg_cap is 0. */
void scn__uav_msg(char *msg, size_t msg_cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Checks a Wi-Fi string against the rules for cmd ("ssid: name ..."):
 * non-empty, at most max bytes, printable ASCII without spaces. secret
 * keeps the content out of the message. s is read up to max + 1 bytes.
 * Returns 0, SCN_ERR_INVALID_ARG or SCN_ERR_OUT_OF_RANGE.
 */
int scn__uav_check_text(const char *cmd, const char *what, const char *s,
                        size_t max, bool secret, char *msg, size_t msg_cap);

/*
 * Reads "-?[0-9]+" from s[0..len). canonical additionally refuses leading
 * zeros and "-0". Values beyond +-10^18 saturate there (*overflow set),
 * so callers can still report them as out of range.
 */
bool scn__uav_read_int(const char *s, size_t len, bool canonical, int64_t *out,
                       bool *overflow);

/*
 * Reads "-?[0-9]+(\.[0-9]+)?" from s[0..len) into the nearest double, without
 * strtod (which follows LC_NUMERIC). At most 15 significant digits, so the
 * value is exact before one correctly rounded division.
 */
bool scn__uav_read_decimal(const char *s, size_t len, double *out,
                           bool *integral);

/* A bounded writer: len keeps counting past cap so the size needed is
 * known; buf stays NUL-terminated while it fits. */
typedef struct scn_uav_out {
    char *buf;
    size_t cap;
    size_t len;
} scn_uav_out;

void scn__uav_out_init(scn_uav_out *o, char *buf, size_t cap);
void scn__uav_out_put(scn_uav_out *o, const char *s, size_t n);
void scn__uav_out_str(scn_uav_out *o, const char *s);
void scn__uav_out_int(scn_uav_out *o, int64_t v);
/* v as a decimal scn__uav_read_decimal() reads back as v, with the fewest
 * fraction digits that do so but at least min_frac ("-1.50" for 2): any
 * value the reader produced is written exactly. Another value (not a
 * decimal of 15 significant digits) is written as scn__uav_round_decimal()
 * rounds it. No "-0". false when v is not finite or |v| >= 1e15. */
bool scn__uav_out_decimal(scn_uav_out *o, double v, unsigned min_frac);

/* v rounded half away from zero to two decimals (fewer where 15
 * significant digits leave no room), as the drone writes decimals; false
 * when v is not finite or that is 1e15 or more in magnitude. */
bool scn__uav_round_decimal(double v, double *out);
/* Finishes: 0, or SCN_ERR_NOMEM with buf set to "" (cap > 0); *written
 * gets the length, or the size needed with the NUL on NOMEM. */
int scn__uav_out_end(scn_uav_out *o, size_t *written);

#endif
