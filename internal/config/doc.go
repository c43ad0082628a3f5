// Package config holds baton's run options: their defaults, the strict TOML
// file, the command-line flags that override it, and the validation that
// turns raw text into a typed [Config] while collecting every problem with
// the flag or key it came from.
package config
