#include "cli/cli.h"

int main(int argc, char** argv) { return dbbackup::cli::Main(argc, argv); }
