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
