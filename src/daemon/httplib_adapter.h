// Private to the daemon layer: includes cpp-httplib with the feature macros
// Debian's libcpp-httplib.so was built with (its pkg-config Cflags), so the
// class layouts match the library. Only http_api.cc and client.cc include it.
#pragma once

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <httplib.h>
