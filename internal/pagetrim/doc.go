// Package pagetrim lets a long-lived process give back the pages of its
// program file that only its start-up needed.
//
// A Go binary's code and read-only data are mapped from the file; each
// page the process touches (with the kernel's fault-around, the 64 KiB
// around it) stays in its page tables and counts in its RSS as RssFile for
// as long as it runs, although the page belongs to the shared page cache.
// Package initialisation, flag parsing and the first start touch much of
// a binary that a master then never runs again. [Self] unmaps the clean
// pages of the process's read-only file mappings with MADV_DONTNEED: the
// pages stay in the page cache, and the ones the process still uses come
// back on their next touch as minor faults, without reading the disk.
//
// Only mappings that cannot hold data of the process's own are touched:
// file-backed, without write permission, not locked, and with no private
// (copy-on-write) pages — "Anonymous: 0 kB" in /proc/self/smaps. Dropping
// such a mapping's pages loses nothing. Writable mappings, the heap and
// stacks are never touched. On systems other than Linux, Self does
// nothing.
package pagetrim
