// Package logs carries worker output to the master's stdout and stderr, one
// line at a time, tagged with the worker's slot and pid (text) or as one
// JSON object per line; it keeps each worker's last lines for crash reports,
// watches them for the line `--ready output:REGEX` waits for ([Match]),
// and builds the master's own slog logger in the same format.
//
// The master must outlive whatever reads its output: wrapped in an
// [Output], a stream that went away (a closed pipe, with SIGPIPE ignored)
// costs one counted, failed write and nothing else, and [Capture] keeps
// draining a worker's pipe whatever happens to the lines. stdout and stderr
// have a lock each, so a slow reader of one does not hold up the other.
package logs
