// Package fuzzing holds no code: its test finds every fuzz target of the
// module (every func FuzzX(*testing.F) in a _test.go file, found by parsing
// the sources, so a new target cannot be forgotten) and runs each one
// briefly with `go test -fuzz`, so that the default `go test ./...` (and so
// CI) fuzzes every parser a little on every run. It is a package of its own
// so that it runs beside the e2e package rather than after it.
package fuzzing
