/**
 * @file
 *
 * UAV-Sockets, pure part: the drone's text commands as typed values, their
 * validation and formatting, the parsing of the drone's answers and of the
 * state strings it pushes (see docs/protocol-uav-draft.md). Nothing here
 * does I/O or allocates; every type is a plain value the caller owns.
 *
 * Messages: functions that take (msg, msg_cap) write one sentence there when
 * they reject something, naming the command, the argument and its allowed
 * range ("up: distance 600 out of range 20-500 cm"), truncated to msg_cap
 * and NUL-terminated; on success msg holds "". msg may be NULL when
 * msg_cap is 0. A Wi-Fi password is never quoted in a message.
 */
#ifndef SCENTIENCE_UAV_H
#define SCENTIENCE_UAV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <scentience/common.h>
#include <scentience/frame.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Commands                                                              */
/* ------------------------------------------------------------------ */

/** Longest command line accepted or produced, in bytes, no terminator. */
#define SCN_UAV_LINE_MAX 128
/** Longest Wi-Fi SSID and password (bytes of printable ASCII). */
#define SCN_UAV_SSID_MAX     32
#define SCN_UAV_PASSWORD_MAX 63 /**< longest Wi-Fi password */

/** Every command of the published table. */
typedef enum scn_uav_cmd_id {
    SCN_UAV_HELLO = 0,  /**< "hello_scentience" */
    SCN_UAV_TAKEOFF,    /**< "takeoff" */
    SCN_UAV_LAND,       /**< "land" */
    SCN_UAV_STOP,       /**< "stop": hover */
    SCN_UAV_EMERGENCY,  /**< "emergency": motors off now */
    SCN_UAV_STREAMON,   /**< "streamon" */
    SCN_UAV_STREAMOFF,  /**< "streamoff" */
    SCN_UAV_UP,         /**< "up x", cm */
    SCN_UAV_DOWN,       /**< "down x" */
    SCN_UAV_LEFT,       /**< "left x" */
    SCN_UAV_RIGHT,      /**< "right x" */
    SCN_UAV_FORWARD,    /**< "forward x" */
    SCN_UAV_BACK,       /**< "back x" */
    SCN_UAV_CW,         /**< "cw x", degrees */
    SCN_UAV_CCW,        /**< "ccw x" */
    SCN_UAV_FLIP,       /**< "flip l|r|f|b" */
    SCN_UAV_GO,         /**< "go x y z speed" */
    SCN_UAV_CURVE,      /**< "curve x1 y1 z1 x2 y2 z2 speed" */
    SCN_UAV_OIOON,      /**< "oioon" */
    SCN_UAV_OIOOFF,     /**< "oiooff" */
    SCN_UAV_OIO,        /**< "oio compound" */
    SCN_UAV_SPEED,      /**< "speed x", cm/s */
    SCN_UAV_RC,         /**< "rc a b c d" */
    SCN_UAV_SSID,       /**< "ssid NAME pass PASSWORD" */
    SCN_UAV_MDIRECTION, /**< "mdirection x" */
    SCN_UAV_AP,         /**< "ap SSID PASSWORD" */
    SCN_UAV_READ_SPEED, /**< "speed?" */
    SCN_UAV_READ_BATTERY,
    SCN_UAV_READ_TIME,
    SCN_UAV_READ_WIFI,
    SCN_UAV_READ_GPS,
    SCN_UAV_READ_BLE,
    SCN_UAV_READ_POS,
    SCN_UAV_READ_SDK,
    SCN_UAV_READ_SN,
    SCN_UAV_READ_OLFA,
    SCN_UAV_READ_OLFB,
    SCN_UAV_CMD_COUNT
} scn_uav_cmd_id;

/** What a command does, so that a command channel can treat kinds apart
 * (e.g. let emergency bypass queued commands). */
typedef enum scn_uav_kind {
    SCN_UAV_KIND_CONTROL = 0, /**< hello, takeoff, land, stop, stream*, oio* */
    SCN_UAV_KIND_SET,         /**< speed, rc, ssid, mdirection, ap */
    SCN_UAV_KIND_READ,        /**< every "...?" */
    SCN_UAV_KIND_MOTION,      /**< up..back, cw, ccw, flip, go, curve */
    SCN_UAV_KIND_EMERGENCY    /**< emergency */
} scn_uav_kind;

/** How long the drone may take to answer: short for what it answers at once,
 * long for takeoff, land and motions, answered when the move ends. */
typedef enum scn_uav_timeout {
    SCN_UAV_TIMEOUT_SHORT = 0,
    SCN_UAV_TIMEOUT_LONG
} scn_uav_timeout;

/** The shape of the answer a command expects. */
typedef enum scn_uav_answer_class {
    SCN_UAV_ANSWER_CLASS_ACK = 0, /**< ok | error: all but reads */
    SCN_UAV_ANSWER_CLASS_INT,     /**< integer: battery? time? wifi? ... */
    SCN_UAV_ANSWER_CLASS_NUMBER,  /**< integer or decimal: speed? olfa? olfb? */
    SCN_UAV_ANSWER_CLASS_POS,     /**< two decimals: pos? */
    SCN_UAV_ANSWER_CLASS_TEXT     /**< one printable word: sdk? sn? */
} scn_uav_answer_class;

/**
 * A typed command. Only the members the id uses are meaningful; the
 * constructors below clear the others. arg holds the integer arguments in
 * the order of the command line (up: distance; go: x y z speed; curve: x1
 * y1 z1 x2 y2 z2 speed; rc: a b c d; ...).
 */
typedef struct scn_uav_cmd {
    scn_uav_cmd_id id;     /**< which command */
    int arg[7];            /**< integer arguments in command-line order */
    char flip;             /**< 'l', 'r', 'f' or 'b' */
    scn_compound compound; /**< oio */
    char ssid[SCN_UAV_SSID_MAX + 1];         /**< ssid NAME, ap SSID */
    char password[SCN_UAV_PASSWORD_MAX + 1]; /**< ssid, ap */
} scn_uav_cmd;

/**
 * Command word ("up", "battery?", "hello_scentience"), kind, timeout class
 * and answer class of a command id.
 * Returns: the name, or NULL for an id out of range; kind, timeout and
 * answer class return CONTROL, SHORT and ACK for an id out of range.
 */
SCN_API const char *scn_uav_cmd_name(scn_uav_cmd_id id);
/** Kind of a command (control, set, read); CONTROL out of range. */
SCN_API scn_uav_kind scn_uav_cmd_kind(scn_uav_cmd_id id);
/** Timeout class of a command; SHORT out of range. */
SCN_API scn_uav_timeout scn_uav_cmd_timeout(scn_uav_cmd_id id);
/** Answer class of a command; ACK out of range. */
SCN_API scn_uav_answer_class scn_uav_cmd_answer_class(scn_uav_cmd_id id);
/** 1 for the commands that move or point the drone (every motion, rc, oio,
 * oioon): those a careful caller sends only to a drone known airborne. */
SCN_API int scn_uav_cmd_moves(scn_uav_cmd_id id);

/**
 * Typed constructors. Each fills *cmd and then validates it exactly as
 * scn_uav_cmd_validate() does; on error *cmd still holds the values given
 * (except a Wi-Fi string that failed its check: stored as "").
 *
 * scn_uav_cmd_simple: a command without arguments (hello, takeoff, land,
 *   stop, emergency, streamon, streamoff, oioon, oiooff, every read).
 * scn_uav_cmd_move: up/down/left/right/forward/back, distance in cm.
 * scn_uav_cmd_rotate: cw/ccw, degrees.
 * scn_uav_cmd_flip: dir 'l', 'r', 'f' or 'b'.
 * scn_uav_cmd_go, scn_uav_cmd_curve: positions in cm relative to the
 *   drone, speed in cm/s.
 * scn_uav_cmd_oio: the compound to track.
 * scn_uav_cmd_speed, scn_uav_cmd_rc, scn_uav_cmd_mdirection: set commands.
 * scn_uav_cmd_ssid, scn_uav_cmd_ap: Wi-Fi name (SSID) and password.
 *
 * Parameters: cmd receives the command; msg, msg_cap as described at the
 * top of this file.
 * Returns: 0; SCN_ERR_OUT_OF_RANGE (a number outside its range, a go or
 * curve the drone cannot fly, a string too long); SCN_ERR_INVALID_ARG
 * (NULL cmd or string, id of the wrong kind for the constructor, a bad
 * flip letter, compound or character, an empty string).
 */
SCN_API int scn_uav_cmd_simple(scn_uav_cmd *cmd, scn_uav_cmd_id id, char *msg,
                               size_t msg_cap);
/** up, down, left, right, forward, back: cm in 20-500. */
SCN_API int scn_uav_cmd_move(scn_uav_cmd *cmd, scn_uav_cmd_id id, int cm,
                             char *msg, size_t msg_cap);
/** cw, ccw: degrees in 1-360. */
SCN_API int scn_uav_cmd_rotate(scn_uav_cmd *cmd, scn_uav_cmd_id id, int degrees,
                               char *msg, size_t msg_cap);
/** flip l, r, f or b. */
SCN_API int scn_uav_cmd_flip(scn_uav_cmd *cmd, char dir, char *msg,
                             size_t msg_cap);
/** go x y z speed: fly to a position. */
SCN_API int scn_uav_cmd_go(scn_uav_cmd *cmd, int x, int y, int z, int speed,
                           char *msg, size_t msg_cap);
/** curve x1 y1 z1 x2 y2 z2 speed: an arc through two points. */
SCN_API int scn_uav_cmd_curve(scn_uav_cmd *cmd, int x1, int y1, int z1, int x2,
                              int y2, int z2, int speed, char *msg,
                              size_t msg_cap);
/** oio COMPOUND: track a compound (scent navigation). */
SCN_API int scn_uav_cmd_oio(scn_uav_cmd *cmd, scn_compound compound, char *msg,
                            size_t msg_cap);
/** speed x: cruise speed in cm/s, 10-100. */
SCN_API int scn_uav_cmd_speed(scn_uav_cmd *cmd, int cm_per_s, char *msg,
                              size_t msg_cap);
/** rc a b c d: direct RC, each axis in -100-100. */
SCN_API int scn_uav_cmd_rc(scn_uav_cmd *cmd, int a, int b, int c, int d,
                           char *msg, size_t msg_cap);
/** mdirection x: detection direction 0 (down), 1 (front) or 2 (both). */
SCN_API int scn_uav_cmd_mdirection(scn_uav_cmd *cmd, int direction, char *msg,
                                   size_t msg_cap);
/** ssid NAME pass PASSWORD: the drone's Wi-Fi credentials. */
SCN_API int scn_uav_cmd_ssid(scn_uav_cmd *cmd, const char *name,
                             const char *password, char *msg, size_t msg_cap);
/** ap SSID PASSWORD: join a Wi-Fi network. */
SCN_API int scn_uav_cmd_ap(scn_uav_cmd *cmd, const char *ssid,
                           const char *password, char *msg, size_t msg_cap);

/**
 * Checks a typed command against the rules of docs/protocol-uav-draft.md
 * (ranges, go/curve geometry, Wi-Fi strings, flip letter, compound).
 * Parameters: cmd, possibly filled by hand; msg, msg_cap.
 * Returns: 0; SCN_ERR_OUT_OF_RANGE; SCN_ERR_INVALID_ARG (NULL, bad flip
 * letter, unknown compound, bad characters, empty or unterminated
 * strings); SCN_ERR_UNKNOWN_TYPE (id out of range).
 */
SCN_API int scn_uav_cmd_validate(const scn_uav_cmd *cmd, char *msg,
                                 size_t msg_cap);

/**
 * Parses a raw command line text[0..len) (the escape hatch) into *cmd and
 * validates it with scn_uav_cmd_validate(), so a raw line passes exactly
 * when the typed command does. Grammar: lowercase command word, arguments
 * separated by single spaces, no leading or trailing space, no line
 * terminator, only printable ASCII, at most SCN_UAV_LINE_MAX bytes.
 * Integers are canonical: optional '-', no '+', no leading zeros, no
 * fraction ("20.5"), "-0" refused. The oio compound is case-insensitive.
 * Parameters: text (may hold NUL bytes, which are refused); len; cmd
 * receives the command (cleared on error); msg, msg_cap.
 * Returns: 0; SCN_ERR_UNKNOWN_TYPE (unknown command word);
 * SCN_ERR_INVALID_ARG (empty line, bad characters, wrong argument count,
 * not an integer, syntax such as "ssid N x P"); SCN_ERR_MESSAGE_TOO_BIG
 * (longer than SCN_UAV_LINE_MAX); SCN_ERR_OUT_OF_RANGE (as validation).
 */
SCN_API int scn_uav_cmd_parse(const char *text, size_t len, scn_uav_cmd *cmd,
                              char *msg, size_t msg_cap);

/**
 * Writes the command line for a valid command into buf (cap bytes,
 * NUL-terminated; no line terminator). The command is validated first, so
 * an invalid command is never formatted. Compounds are written lowercase.
 * A line that scn_uav_cmd_parse() accepted is written back byte for byte
 * (except the compound's case).
 * scn_uav_cmd_format_redacted writes the same line with the Wi-Fi password
 * replaced by "****", for logs.
 * Parameters: cmd; buf, cap; written (may be NULL) receives the length
 * without the NUL; msg, msg_cap.
 * Returns: 0; the codes of scn_uav_cmd_validate(); SCN_ERR_NOMEM when cap
 * is too small (buf then holds "" when cap > 0; SCN_UAV_LINE_MAX + 1 is
 * always enough); SCN_ERR_INVALID_ARG (NULL buf with cap > 0).
 */
SCN_API int scn_uav_cmd_format(const scn_uav_cmd *cmd, char *buf, size_t cap,
                               size_t *written, char *msg, size_t msg_cap);
/** As scn_uav_cmd_format(), with passwords replaced by "****" (for logs). */
SCN_API int scn_uav_cmd_format_redacted(const scn_uav_cmd *cmd, char *buf,
                                        size_t cap, size_t *written, char *msg,
                                        size_t msg_cap);

/* ------------------------------------------------------------------ */
/* Answers                                                               */
/* ------------------------------------------------------------------ */

/** Bounds of what an answer keeps. */
#define SCN_UAV_RAW_MAX    128 /**< raw answer bytes kept */
#define SCN_UAV_REASON_MAX 63  /**< reason after "error " */
#define SCN_UAV_WORD_MAX   32  /**< sdk? and sn? answers */

/** What an answer turned out to be. */
typedef enum scn_uav_answer_kind {
    SCN_UAV_ANSWER_MALFORMED = 0, /**< not a possible answer to the command */
    SCN_UAV_ANSWER_OK,            /**< "ok" */
    SCN_UAV_ANSWER_ERROR,         /**< "error" [reason] */
    SCN_UAV_ANSWER_NUMBER,        /**< number (and integer when is_integer) */
    SCN_UAV_ANSWER_POS,           /**< pos[0], pos[1] */
    SCN_UAV_ANSWER_WORD           /**< word: sdk? sn? */
} scn_uav_answer_kind;

/** A drone's answer, parsed for the command it answers. */
typedef struct scn_uav_answer {
    scn_uav_cmd_id cmd;       /**< the command it answers */
    scn_uav_answer_kind kind; /**< what it is */
    bool is_integer; /**< NUMBER written without a fraction, in int32 */
    int64_t integer; /**< NUMBER when is_integer */
    double number;   /**< NUMBER */
    double pos[2];   /**< POS */
    /** ERROR: the reason ("" when none; longer ones cut at
     * SCN_UAV_REASON_MAX). WORD: the word. */
    char text[SCN_UAV_REASON_MAX + 1];
    /** The answer as received, first SCN_UAV_RAW_MAX bytes, NUL-terminated;
     * raw_len counts the bytes kept, raw_truncated tells whether there
     * were more. Kept for every answer, malformed ones included. */
    char raw[SCN_UAV_RAW_MAX + 1];
    size_t raw_len;     /**< bytes kept in raw */
    bool raw_truncated; /**< the answer was longer than SCN_UAV_RAW_MAX */
} scn_uav_answer;

/**
 * Parses the answer text[0..len) to command cmd. Trailing spaces, tabs,
 * CR and LF are ignored; "ok" and "error" are matched case-insensitively.
 * Every command may be answered "error" or "error <reason>" (printable
 * ASCII). Control, set and motion commands expect "ok"; reads expect their
 * value (docs/protocol-uav-draft.md: integers for battery? 0-100, time?
 * >= 0, wifi? gps? ble? (int32); integer or decimal for speed? >= 0 and
 * olfa? olfb?; "36.0000, 48.9994" for pos?; one printable word without
 * spaces of 1-32 bytes, not "ok" or "error", for sdk? and sn?).
 * Parameters: cmd; text, len (text may be NULL when len is 0); out.
 * Returns: 0 (out->kind OK, ERROR, NUMBER, POS or WORD; an "error" answer
 * is a successful parse); SCN_ERR_MALFORMED (out->kind MALFORMED, raw
 * kept); SCN_ERR_INVALID_ARG (NULL out, NULL text with len > 0, cmd out
 * of range; out is then cleared when not NULL).
 */
SCN_API int scn_uav_answer_parse(scn_uav_cmd_id cmd, const char *text,
                                 size_t len, scn_uav_answer *out);

/**
 * The outcome of a parsed answer as an error code, for the command
 * channel. Returns: 0 (OK, NUMBER, POS, WORD); SCN_ERR_UAV_REFUSED
 * (ERROR); SCN_ERR_MALFORMED (MALFORMED); SCN_ERR_INVALID_ARG (NULL).
 */
SCN_API int scn_uav_answer_err(const scn_uav_answer *answer);

/**
 * Whether text[0..len) could be the answer to cmd: true exactly when
 * scn_uav_answer_parse() would accept it. "error" could belong to any
 * command, "ok" only to ack-class commands, a number never to takeoff.
 * The command channel uses it to match late answers after a timeout.
 * Returns: the verdict; false for a cmd out of range or NULL text.
 */
SCN_API bool scn_uav_answer_could_belong(scn_uav_cmd_id cmd, const char *text,
                                         size_t len);

/* ------------------------------------------------------------------ */
/* State strings                                                         */
/* ------------------------------------------------------------------ */

#define SCN_UAV_STATE_MAX         1024 /**< longest state string accepted */
#define SCN_UAV_STATE_UNKNOWN_MAX 16   /**< unknown keys kept */
#define SCN_UAV_STATE_KEY_MAX     31   /**< longest unknown key kept */
#define SCN_UAV_STATE_VALUE_MAX   63   /**< longest unknown value kept */

/**
 * Longest JSON scn_uav_state_to_json() writes (without its NUL) for a state
 * scn_uav_state_parse() accepted: a buffer of SCN_UAV_STATE_JSON_MAX + 1
 * bytes always holds it. The longest is a SCN_UAV_STATE_MAX state string of
 * SCN_UAV_STATE_UNKNOWN_MAX unknown pairs whose keys and values are all '"'
 * or '\\' (each written as two bytes), each key and value quoted: about
 * twice SCN_UAV_STATE_MAX, so a state's JSON may not fit where its string
 * does.
 */
#define SCN_UAV_STATE_JSON_MAX                                                 \
    (2 * SCN_UAV_STATE_MAX + 2 * SCN_UAV_STATE_UNKNOWN_MAX + 3)

/** The documented fields, in the order the state string lists them. */
typedef enum scn_uav_field {
    SCN_UAV_F_PITCH = 0, /**< degrees, int */
    SCN_UAV_F_ROLL,      /**< degrees, int */
    SCN_UAV_F_YAW,       /**< degrees, int */
    SCN_UAV_F_VGX,       /**< speed, int */
    SCN_UAV_F_VGY,
    SCN_UAV_F_VGZ,
    SCN_UAV_F_TEMPL, /**< lowest temperature, degrees C, int */
    SCN_UAV_F_TEMPH, /**< highest temperature, degrees C, int */
    SCN_UAV_F_TOF,   /**< time-of-flight distance, cm, int */
    SCN_UAV_F_H,     /**< height, cm, int */
    SCN_UAV_F_BAT,   /**< battery, %, int */
    SCN_UAV_F_BARO,  /**< barometer, cm, decimal */
    SCN_UAV_F_TIME,  /**< motor-on time, s, int */
    SCN_UAV_F_AGX,   /**< acceleration, decimal */
    SCN_UAV_F_AGY,
    SCN_UAV_F_AGZ,
    SCN_UAV_F_OLFA, /**< olfactory sensor A, ppb, decimal */
    SCN_UAV_F_OLFB, /**< olfactory sensor B, ppb, decimal */
    SCN_UAV_F_X,    /**< home coordinates, cm, int; 0 when no home */
    SCN_UAV_F_Y,
    SCN_UAV_F_Z,
    SCN_UAV_FIELD_COUNT
} scn_uav_field;

/** A key of a state string that is not a documented field, with its value. */
typedef struct scn_uav_state_unknown {
    char key[SCN_UAV_STATE_KEY_MAX + 1];     /**< the key */
    char value[SCN_UAV_STATE_VALUE_MAX + 1]; /**< its value as received */
} scn_uav_state_unknown;

/**
 * A parsed state string. A field's value is meaningful when its bit
 * (1u << field) is set in present; absent fields read as 0.
 */
typedef struct scn_uav_state {
    uint32_t present; /**< bit (1u << scn_uav_field) per field received */
    int32_t pitch;    /**< degrees */
    int32_t roll;     /**< degrees */
    int32_t yaw;      /**< degrees */
    int32_t vgx;      /**< speed, x */
    int32_t vgy;      /**< speed, y */
    int32_t vgz;      /**< speed, z */
    int32_t templ;    /**< lowest temperature, degrees C */
    int32_t temph;    /**< highest temperature, degrees C */
    int32_t tof;      /**< time-of-flight distance, cm */
    int32_t h;        /**< height, cm */
    int32_t bat;      /**< battery, % */
    double baro;      /**< barometer, cm */
    int32_t time;     /**< motor-on time, s */
    double agx;       /**< acceleration, x */
    double agy;       /**< acceleration, y */
    double agz;       /**< acceleration, z */
    double olfa;      /**< olfactory sensor A, ppb */
    double olfb;      /**< olfactory sensor B, ppb */
    int32_t x;        /**< home coordinate x, cm; 0 when no home */
    int32_t y;        /**< home coordinate y, cm */
    int32_t z;        /**< home coordinate z, cm */
    /** Keys that are not documented fields, in the order received (the
     * first SCN_UAV_STATE_UNKNOWN_MAX that fit the key and value bounds);
     * unknown_dropped counts the others. */
    size_t unknown_count;
    size_t unknown_dropped; /**< unknown keys not kept */
    scn_uav_state_unknown
        unknown[SCN_UAV_STATE_UNKNOWN_MAX]; /**< the unknown keys kept */
} scn_uav_state;

/** Key name of a field ("pitch"), NULL out of range. */
SCN_API const char *scn_uav_field_name(scn_uav_field field);

/** Whether the field holds an integer (false: a decimal). */
SCN_API bool scn_uav_field_is_integer(scn_uav_field field);

/**
 * A field's value as a double.
 * Returns: 0; SCN_ERR_ABSENT (value untouched); SCN_ERR_INVALID_ARG
 * (NULL, field out of range).
 */
SCN_API int scn_uav_state_get(const scn_uav_state *state, scn_uav_field field,
                              double *value);

/**
 * Sets a field (and its presence bit); an integer field takes the value
 * rounded to nearest, a decimal field rounded half away from zero to two
 * decimals (fewer where 15 significant digits leave no room), as the drone
 * writes it. The simulator builds states with it.
 * Returns: 0; SCN_ERR_OUT_OF_RANGE (not finite, outside int32 for an
 * integer field, 1e15 or more in magnitude for a decimal field: a state
 * string carries 15 significant digits); SCN_ERR_INVALID_ARG.
 */
SCN_API int scn_uav_state_set(scn_uav_state *state, scn_uav_field field,
                              double value);

/**
 * Parses a state string text[0..len): "key:value;" pairs in any order, the
 * last ';' optional, trailing spaces/tabs/CR/LF ignored. Known keys are
 * case-sensitive; integer fields take "-?[0-9]+" within int32, decimal
 * fields "-?[0-9]+(.[0-9]+)?" with at most 15 significant digits.
 * Unknown keys are kept as text (see scn_uav_state).
 * Parameters: text (NULL allowed when len is 0), len, state (cleared, then
 * filled; cleared again on error).
 * Returns: 0; SCN_ERR_MALFORMED (empty, longer than SCN_UAV_STATE_MAX, a
 * pair without ':', an empty key, a key with a space or control
 * character, a control character in a value, a bad number for a known
 * field, a known key twice, nothing kept: every pair an unknown key
 * beyond the bounds); SCN_ERR_INVALID_ARG (NULL state, NULL text with
 * len > 0).
 */
SCN_API int scn_uav_state_parse(const char *text, size_t len,
                                scn_uav_state *state);

/**
 * Writes the state as a state string: the present fields in scn_uav_field
 * order (integers as "%d", decimals with two decimals like the drone, or
 * more where the value has more: the fewest that read back as the same
 * value), then the unknown keys as received, every pair ending in ';'.
 * Whatever scn_uav_state_parse() accepted is written to a text it parses
 * to the same state; where that form would exceed SCN_UAV_STATE_MAX, the
 * shortest form is written (no padding zeros, no last ';').
 * scn_uav_state_to_json writes one compact JSON object instead: present
 * fields as numbers, then unknown keys (a numeric value as a number, any
 * other as a string; an unknown key repeated is written once, first value).
 * Both are independent of the C locale.
 * Parameters: state; buf, cap (NUL-terminated output); written (may be
 * NULL) receives the length without the NUL.
 * Returns: 0; SCN_ERR_NOMEM when buf is too small (*written is then the
 * size needed, NUL included, and buf holds "" when cap > 0; buf NULL with
 * cap 0 asks for the size); SCN_ERR_INVALID_ARG (NULL state, an unknown
 * key or value the parser would not accept, a decimal not finite or of
 * 1e15 or more; scn_uav_state_format also: an empty state, or one no
 * state string of SCN_UAV_STATE_MAX bytes can hold).
 */
SCN_API int scn_uav_state_format(const scn_uav_state *state, char *buf,
                                 size_t cap, size_t *written);
/** As scn_uav_state_format(), as a JSON object of the fields present (and the
 * unknown keys); at most SCN_UAV_STATE_JSON_MAX bytes for a parsed state. */
SCN_API int scn_uav_state_to_json(const scn_uav_state *state, char *buf,
                                  size_t cap, size_t *written);

#ifdef __cplusplus
}
#endif

#endif
