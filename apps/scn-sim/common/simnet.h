/* Listener helpers shared by every simulator mode. */
#ifndef SCN_SIM_SIMNET_H
#define SCN_SIM_SIMNET_H

/* lws's own error lines, prefixed, on stderr (lws_set_log_level). */
void sim_lws_log_line(int level, const char *line);

/* lws defers a listener on an address the host does not have instead of
 * failing: check the address first, so a typo is a clear error. family is
 * AF_INET or AF_INET6. Returns 0, or -1 with errno set. */
int sim_host_usable(const char *host, int family);

#endif
