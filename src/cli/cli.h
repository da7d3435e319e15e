// The command-line entry point. main() only calls Main(); tests call Main()
// too (or the built binary), never a copy of the flag parsing.
#pragma once

namespace dbbackup::cli {

// Exit codes: 0 success, 1 failure, 2 usage error (see README).
int Main(int argc, char** argv);

}  // namespace dbbackup::cli
