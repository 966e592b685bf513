/*
 * The gate every fleet command passes before it can reach a drone
 * (docs/PROTOCOL.md 12.5). A drone must not be flown by whoever can
 * publish to a broker: only commands the operator listed
 * (--mqtt-commands), never takeoff, motion or anything else on the
 * never-list, always through the validator first, each request id acted
 * on once. Plain C: the caller sends what passes, exactly once.
 */
#ifndef SCN_APP_FLEET_GATE_H
#define SCN_APP_FLEET_GATE_H

#include <stddef.h>

#include <scentience/uav.h>

/* The commands an operator may open to the fleet. */
typedef enum fleet_cmd {
    FLEET_CMD_LAND = 0,
    FLEET_CMD_EMERGENCY,
    FLEET_CMD_STOP,
    FLEET_CMD_STREAMON,
    FLEET_CMD_STREAMOFF,
    FLEET_CMD_OIOOFF,
    FLEET_CMD_FOLLOW, /* the companion's follow rule, not a drone command */
    FLEET_CMD_COUNT
} fleet_cmd;

/* What the gate decided; the words are the reply's "reason". */
typedef enum fleet_verdict {
    FLEET_PASS = 0,
    FLEET_MALFORMED,   /* not {"id": string, "command": string}, too long */
    FLEET_RETAINED,    /* a retained request: old news */
    FLEET_INVALID,     /* the validator refused the command */
    FLEET_NEVER,       /* never taken from the fleet */
    FLEET_NOT_ENABLED, /* not in --mqtt-commands */
    FLEET_DUPLICATE    /* this id was acted on already */
} fleet_verdict;

#define FLEET_REQUEST_MAX 1024 /* bytes of a request */
#define FLEET_ID_MAX      64   /* bytes of a request id */
#define FLEET_IDS_KEPT    256  /* ids remembered for duplicates */

typedef struct fleet_gate {
    unsigned allowed; /* bit (1u << fleet_cmd) per listed command */
    char ids[FLEET_IDS_KEPT][FLEET_ID_MAX + 1]; /* a ring of passed ids */
    size_t ids_next, ids_count;
} fleet_gate;

/* A request that was read (id and command are set as far as they could
 * be read, also when refused: the reply echoes them). */
typedef struct fleet_request {
    char id[FLEET_ID_MAX + 1];
    char command[SCN_UAV_LINE_MAX + 1]; /* as sent, printable ASCII */
    fleet_cmd which;                    /* when it passed */
    scn_uav_cmd cmd;                    /* a drone command that passed */
    /* follow: "any", a compound's name, or "" for "follow off". */
    char follow[32];
} fleet_request;

/* Clears g: nothing allowed. */
void fleet_gate_init(fleet_gate *g);

/* Opens the comma-separated list of command names ("land,emergency").
 * Returns 0, or -1 with a sentence in why: an empty list or name, a
 * name on the never-list (say why it is), an unknown name. */
int fleet_gate_allow_list(fleet_gate *g, const char *list, char *why,
                          size_t why_cap);

/* The listed names, comma-separated, in fleet_cmd order, into buf. */
void fleet_gate_list(const fleet_gate *g, char *buf, size_t cap);

/* The name of a fleet command ("land", ..., "follow"). */
const char *fleet_cmd_name(fleet_cmd c);

/* Checks one request (payload[0..len), not NUL-terminated; retained as
 * the broker delivered it) in the order of PROTOCOL.md 12.5 and fills
 * *req. FLEET_PASS remembers the id: the same id later is a duplicate.
 * detail gets a sentence for a refusal. */
fleet_verdict fleet_gate_check(fleet_gate *g, const char *payload, size_t len,
                               int retained, fleet_request *req, char *detail,
                               size_t detail_cap);

/* "malformed", "retained", ... ("passed" for FLEET_PASS). */
const char *fleet_verdict_word(fleet_verdict v);

#endif
