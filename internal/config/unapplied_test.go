package config

import (
	"strings"
	"testing"
	"time"
)

func TestUnappliedNamesWhatARolloutKeeps(t *testing.T) {
	running := Config{Name: "web", Workers: 4, Listen: []Listen{{Name: "socket0", Network: "tcp", Address: ":8080"}},
		LogFormat: "text", Command: []string{"./a"}, StopTimeout: time.Second}
	next := running
	next.Command = []string{"./b"}
	next.StopTimeout = 2 * time.Second
	next.Env = []string{"A=1"}
	next.Strategy = StrategyReplace
	if got := Unapplied(running, next); got != nil {
		t.Fatalf("a rollout applies these: %q", got)
	}
	next.Name = "api"
	next.Workers = 6
	next.Listen = []Listen{{Name: "socket0", Network: "tcp", Address: ":9090"}}
	next.ListenMode = 0o660
	next.Pidfile = "/run/b.pid"
	next.Control = "/run/b.sock"
	next.LogFormat = "json"
	next.Compat = "/etc/token"
	next.Watch = []string{"/srv/app"}
	got := strings.Join(Unapplied(running, next), "\n")
	want := strings.Join([]string{
		"name changed \"web\" → \"api\" in the config: not applied by a rollout; needs `baton upgrade` or a restart",
		"control changed (none) → \"/run/b.sock\" in the config: not applied by a rollout; needs `baton upgrade` or a restart",
		"pidfile changed (none) → \"/run/b.pid\" in the config: not applied by a rollout; needs `baton upgrade` or a restart",
		"log_format changed text → json in the config: not applied by a rollout; needs `baton upgrade` or a restart",
		"listen changed [socket0=:8080] → [socket0=:9090] in the config: not applied by a rollout; needs `baton upgrade` or a restart",
		"listen_mode changed (from the umask) → 0660 in the config: not applied by a rollout; needs `baton upgrade` or a restart",
		"compat changed (none) → \"/etc/token\" in the config: not applied by a rollout; needs `baton upgrade` or a restart",
		"watch changed (none) → [/srv/app] in the config: not applied by a rollout; needs `baton upgrade` or a restart",
		"workers changed 4 → 6 in the config: the pool size is kept; run `baton scale 6`",
	}, "\n")
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
