#include "cli/cli.h"

#include <cstdio>

namespace dbbackup::cli {

int Main(int, char**) {
  std::fprintf(stderr, "dbbackup: not built yet\n");
  return 1;
}

}  // namespace dbbackup::cli
