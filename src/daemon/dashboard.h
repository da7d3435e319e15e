// The dashboard the daemon serves at "/": one self-contained page (HTML, CSS
// and vanilla JavaScript compiled into the binary; no CDN, no build step)
// that shows each database's last result, next run, backups with sizes, a
// chart (inline SVG) of backup size and duration over time, the recent jobs
// with their errors, and a "Back up now" button per database.
//
// Secrets: the page and its assets are served without the token and hold
// none. The script reads the token from the address's fragment
// (http://127.0.0.1:8780/#token=...; fragments never reach the server or its
// logs), removes it from the address bar, and keeps it in sessionStorage
// (this tab only, gone when the tab closes); without one it asks for it
// once. Every API call sends it as "Authorization: Bearer". The page is
// served with a Content-Security-Policy that allows only its own script and
// style and requests to its own origin.
//
// Escaping: the script builds the DOM with createElement/textContent only
// (never innerHTML), so error texts from S3 and database names are shown as
// text, whatever they contain.
//
// Thread-safety: the functions return views of static constants.
#pragma once

#include <string_view>

namespace dbbackup::daemon {

// GET /
std::string_view DashboardHtml();
// GET /dashboard.js
std::string_view DashboardScript();
// GET /dashboard.css
std::string_view DashboardStyle();
// The Content-Security-Policy header the three are served with.
std::string_view DashboardContentSecurityPolicy();

}  // namespace dbbackup::daemon
