// A shim over SQLite's default VFS for whole-database copies, where SQLite
// otherwise issues one pread() and one pwrite() system call per page: 25,800
// of each for a 100 MB database with 4 KiB pages, about as much time as the
// copying itself.
//
// For the main database file only (journals and WAL pass through untouched):
//   - read-only connections read ahead: once reads run forward, a miss
//     fetches kReadAhead bytes and later pages are served from that buffer.
//     The buffer is dropped whenever the connection takes or releases a lock
//     (xLock, xUnlock, xShmLock), i.e. at every read transaction's start and
//     end, so it never outlives the transaction it was filled in. Within one
//     read transaction the file's pages SQLite asks for cannot change: in
//     rollback mode writers wait for our SHARED lock; in WAL mode a
//     checkpoint never overwrites a page a live reader takes from the
//     database file (it backfills only frames at or below every reader's
//     mark, and takes WAL read lock 0 before touching pages such a reader
//     uses).
//   - read-write connections coalesce forward-contiguous writes into
//     kWriteBuffer bytes before one pwrite(); every other call (read, size,
//     truncate, sync, lock, close) writes the buffer out first, so SQLite
//     always sees the file as if each write had gone straight through.
//
// Random access (integrity_check's b-tree walks) passes through: read-ahead
// starts only after a run of forward reads.
//
// Thread-safety: BulkIoVfsName() may be called from any thread. Files are
// used by one connection at a time, as SQLite requires of every VFS file.
#pragma once

namespace dbbackup::snapshot::internal {

// Registers the shim (not as the default VFS) on first use and returns its
// name for sqlite3_open_v2's zVfs argument.
const char* BulkIoVfsName();

}  // namespace dbbackup::snapshot::internal
