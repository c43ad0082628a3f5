package wire

import "testing"

func TestParseNotify(t *testing.T) {
	n := ParseNotify([]byte("READY=1\nSTATUS=serving 3 conns\nMAINPID=42\nX=y"))
	if !n.Ready || n.Status != "serving 3 conns" || !n.HasStatus || n.MainPID != 42 || n.Stopping {
		t.Fatalf("%+v", n)
	}
	if NotifyAddr("@abc") != "\x00abc" || NotifyAddr("/run/n") != "/run/n" {
		t.Fatal("NotifyAddr")
	}
}

func TestParseActivation(t *testing.T) {
	env := map[string]string{EnvListenFDs: "2", EnvListenPID: "9", EnvListenFDNames: "web"}
	a, ok, err := ParseActivation(func(k string) string { return env[k] })
	if !ok || err != nil || a.PID != 9 || a.Count != 2 || a.Names[0] != "web" || a.Names[1] != "unknown" {
		t.Fatalf("%+v %v %v", a, ok, err)
	}
	if _, ok, _ := ParseActivation(func(string) string { return "" }); ok {
		t.Fatal("activated without LISTEN_FDS")
	}
	env[EnvListenFDs] = "x"
	if _, _, err := ParseActivation(func(k string) string { return env[k] }); err == nil {
		t.Fatal("bad LISTEN_FDS accepted")
	}
}

// The master renders what the library parses: one package, both directions.
func TestRenderedEnvParsesBack(t *testing.T) {
	env := append(ListenEnv([]string{"web", "admin"}), "PATH=/bin", EnvListenPID+"=1")
	env = WithListenPID(env, 4242)
	get := func(k string) string { return lookup(env, k) }
	a, ok, err := ParseActivation(get)
	if !ok || err != nil || a.PID != 4242 || a.Count != 2 || a.Names[1] != "admin" {
		t.Fatalf("%+v %v %v from %v", a, ok, err, env)
	}
	if n := len(Without(env, MasterOnly...)); n != 1 {
		t.Fatalf("Without kept %d variables, want only PATH", n)
	}
	if got := WithListenPID([]string{"A=1"}, 7); len(got) != 1 {
		t.Fatalf("LISTEN_PID set without sockets: %v", got)
	}
	if FD(0) != 3 || FD(2) != 5 {
		t.Fatal("FD numbering")
	}
	if ListenEnv(nil) != nil || NotifyEnv("/n") != "NOTIFY_SOCKET=/n" || WorkerEnv(1, 2)[1] != "BATON_GENERATION=2" {
		t.Fatal("render")
	}
}
