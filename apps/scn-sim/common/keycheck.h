/*
 * Keys of open sessions, shared by every simulator mode: the SIGHUP reload
 * of the key store, logged, and what an open session whose key no longer
 * allows it is closed with (docs/PROTOCOL.md sections 5 and 7).
 */
#ifndef SCN_SIM_KEYCHECK_H
#define SCN_SIM_KEYCHECK_H

#include <time.h>

#include "keystore.h"

/* Reloads the key store and logs a "reload" event (ok, key count, dev mode,
 * or the error; on error the old keys stay). Returns 0 when new keys are in
 * force: the caller then rechecks its sessions. */
int sim_keys_reload(keystore *ks);

/* The close code for an open session with key k from peer: 4001 (removed
 * or revoked), 4002 (expired), 4003 (address no longer allowed), with
 * *reason; 0 when it may go on. */
int sim_keys_close_code(const ks_key *k, const char *peer, time_t now,
                        const char **reason);

#endif
