/* Loading certificates and keys: failures reported, no prompt. */
#include "tls_error.h"

#include <openssl/err.h>
#include <scentience/error.h>
#include <stdio.h>

int scn__tls_load_failed(const scn_logger *log, const char *what,
                         const char *path)
{
    char why[160];
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "no reason given");
    ERR_clear_error();
    scn__log(log, SCN_LOG_ERROR, "tls", "cannot load %s %s: %s", what, path,
             why);
    return SCN_ERR_TLS;
}

static int no_passphrase(char *buf, int size, int rwflag, void *user)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)user;
    return 0; /* none: the key does not load */
}

void scn__tls_no_passphrase(SSL_CTX *c)
{
    SSL_CTX_set_default_passwd_cb(c, no_passphrase);
}
