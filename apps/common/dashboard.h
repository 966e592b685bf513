/* The built-in dashboard: web/dashboard/ compiled into the program by
 * cmake/embed_files.cmake (apps/CMakeLists.txt). */
#ifndef SCN_APP_DASHBOARD_H
#define SCN_APP_DASHBOARD_H

#include <stddef.h>
#include <scentience/server.h>

extern const scn_server_asset scn_dashboard_assets[];
extern const size_t scn_dashboard_assets_count;

#endif
