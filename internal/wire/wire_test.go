package wire

import (
	"errors"
	"testing"
)

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

func TestHandoverRoundTripAndRefusals(t *testing.T) {
	h := Handover{Version: HandoverVersion(), From: 42, ControlFD: 4, LockFD: 5, Generation: 7,
		Sockets: []HandoverSocket{{Name: "web", Network: "tcp", Address: "127.0.0.1:80", FD: 6}}}
	s, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseHandover(s)
	if err != nil || back.From != 42 || back.Sockets[0].FD != 6 || back.Generation != 7 {
		t.Fatalf("%+v %v", back, err)
	}
	if _, err := ParseHandover(`{"version":99}`); !errors.Is(err, ErrHandoverVersion) {
		t.Fatalf("version 99: %v", err)
	}
	for _, bad := range []string{`{"version":1,"control_fd":3,"lock_fd":5}`, `{"version":1,"control_fd":4,"lock_fd":4}`, `{"version":1,"x":1}`, `nope`} {
		if _, err := ParseHandover(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
