// Package logs carries worker output to the master's stdout and stderr, one
// line at a time, tagged with the worker's slot and pid (text) or as one
// JSON object per line; it keeps each worker's last lines for crash reports,
// and builds the master's own slog logger in the same format.
package logs
