// Package watch notices changes under a set of paths, including a symlink
// flipped to a new target (the way Capistrano-style deploys switch
// `current -> releases/N`), and reports each burst of changes once after a
// quiet period.
//
// It polls: every interval it takes a fingerprint of each path (for a
// symlink, its target; for a directory, every entry's name, size, mode and
// modification time, up to MaxEntries). Polling sees symlink flips and
// replaced files that inotify watches on the old inode would miss, and
// costs a few stat calls per interval.
package watch
