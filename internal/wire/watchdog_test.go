package wire

import (
	"testing"
	"time"
)

func TestParseNotifyWatchdog(t *testing.T) {
	n := ParseNotify([]byte("WATCHDOG=1\nSTATUS=ok"))
	if !n.Watchdog || n.WatchdogTrigger || n.HasWatchdogUSec || n.Status != "ok" {
		t.Fatalf("ping: %+v", n)
	}
	n = ParseNotify([]byte("WATCHDOG=trigger"))
	if n.Watchdog || !n.WatchdogTrigger {
		t.Fatalf("trigger: %+v", n)
	}
	n = ParseNotify([]byte("WATCHDOG_USEC=20000000"))
	if !n.HasWatchdogUSec || n.WatchdogUSec != 20*time.Second || n.Watchdog {
		t.Fatalf("interval: %+v", n)
	}
	if n = ParseNotify([]byte("WATCHDOG_USEC=0")); !n.HasWatchdogUSec || n.WatchdogUSec != 0 {
		t.Fatalf("off: %+v", n)
	}
	for _, bad := range []string{"WATCHDOG=0", "WATCHDOG=yes", "WATCHDOG_USEC=-1", "WATCHDOG_USEC=1e6", "WATCHDOG_USEC=",
		"WATCHDOG_USEC=99999999999999999999", "WATCHDOG_USEC= 5"} {
		if n := ParseNotify([]byte(bad)); n.Watchdog || n.WatchdogTrigger || n.HasWatchdogUSec {
			t.Errorf("%q parsed as %+v", bad, n)
		}
	}
}

func TestWatchdogEnvRoundTrip(t *testing.T) {
	env := []string{"A=b", WatchdogEnv(1500 * time.Millisecond)}
	if got := WithWatchdogPID([]string{"A=b"}, 42); len(got) != 1 {
		t.Fatalf("WATCHDOG_PID set without WATCHDOG_USEC: %v", got)
	}
	env = WithWatchdogPID(env, 42)
	get := func(k string) string { return lookup(env, k) }
	if get(EnvWatchdogUSec) != "1500000" || get(EnvWatchdogPID) != "42" {
		t.Fatalf("env %v", env)
	}
	if d, err := ParseWatchdog(get, 42); err != nil || d != 1500*time.Millisecond {
		t.Fatalf("own pid: %v %v", d, err)
	}
	if d, err := ParseWatchdog(get, 43); err != nil || d != 0 {
		t.Fatalf("another process's watchdog: %v %v", d, err)
	}
	if d, err := ParseWatchdog(func(string) string { return "" }, 1); err != nil || d != 0 {
		t.Fatalf("none: %v %v", d, err)
	}
	bad := map[string]string{EnvWatchdogUSec: "soon"}
	if _, err := ParseWatchdog(func(k string) string { return bad[k] }, 1); err == nil {
		t.Fatal("a bad WATCHDOG_USEC accepted")
	}
	if n := len(Without(env, MasterOnly...)); n != 1 {
		t.Fatalf("a worker would inherit the master's watchdog: %v", Without(env, MasterOnly...))
	}
}
