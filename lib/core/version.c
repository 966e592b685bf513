/* The running library's version (scentience/version.h, generated). */
#include <scentience/version.h>

const char *scn_version(void)
{
    return SCN_VERSION_STRING;
}

unsigned scn_version_number(void)
{
    return SCN_VERSION_NUMBER;
}
