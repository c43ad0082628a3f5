// Package config holds baton's run options: their defaults, the strict TOML
// file, the command-line flags that override it, and the validation that
// turns raw text into a typed [Config] while collecting every problem with
// the flag or key it came from ([Problems] joins them into one error).
//
// Validation is shared by `baton check` and `baton run`, so check refuses
// what run would: besides bad values it refuses an address given twice, a
// socket, pidfile or control path in a missing directory, a pidfile that is
// not a regular file, a control path that is not a socket, and a fixed
// readiness delay the ready timeout would cut short. A config file is
// scanned whole first, so every unknown key and every value of the wrong
// type is listed, each with FILE:LINE:COLUMN.
//
// [Unapplied] says which changes of a reloaded file a rolling restart
// cannot apply, and what would.
package config
