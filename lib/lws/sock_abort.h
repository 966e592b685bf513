/*
 * Aborting a TCP connection: reset, not FIN. A link the client gives up on
 * must not keep delivering what was queued on it (a drone command written
 * before an outage would otherwise arrive when the link comes back, long
 * after it was reported). No libwebsockets here: it takes the socket.
 */
#ifndef SCN_SOCK_ABORT_H
#define SCN_SOCK_ABORT_H

#include <stddef.h>

/*
 * Discards everything the kernel still holds for the connection on fd and
 * resets it at once: SO_LINGER {1, 0} (so the later close() cannot send a
 * FIN after queued data either) and a disconnect (connect() to AF_UNSPEC),
 * which sends RST, purges the send queue and leaves the socket CLOSED
 * while fd stays valid for its owner to close. *unsent receives the bytes
 * that were still unacknowledged (NULL: not wanted). Returns 0, or -1 with
 * errno (fd not a TCP socket, or already closed: nothing to abort).
 */
int scn__sock_abort(int fd, size_t *unsent);

#endif
