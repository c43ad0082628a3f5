package wire

import (
	"reflect"
	"testing"
)

// Any notify datagram: no panic; READY=1 anywhere means ready.
func FuzzParseNotify(f *testing.F) {
	for _, seed := range []string{"READY=1", "READY=1\nSTATUS=serving", "MAINPID=42\nREADY=1\n", "STOPPING=1", "RELOADING=1\nMONOTONIC_USEC=123",
		"STATUS=", "MAINPID=-1", "MAINPID=99999999999999999999", "=\n=\n", "\x00READY=1"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := ParseNotify(b)
		if n.MainPID < 0 {
			t.Fatalf("MAINPID parsed negative from %q", b)
		}
	})
}

// Any hand-over record: no panic; one that parses encodes and parses back
// to the same record.
func FuzzParseHandover(f *testing.F) {
	good, _ := Handover{Version: HandoverVersion(), From: 7, Control: "/run/c.sock", ControlFD: 4, LockFD: 5, Generation: 3,
		Sockets: []HandoverSocket{{Name: "web", Network: "tcp", Address: ":80", FD: 6}}, Metrics: map[string]float64{"a": 1}}.Encode()
	for _, seed := range []string{good, `{"version":2}`, `{"version":1,"control_fd":3}`, `{"version":1,"control_fd":4,"lock_fd":4}`, `{`, `null`, `{"version":1,"x":1}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHandover(s)
		if err != nil {
			return
		}
		enc, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseHandover(enc)
		if err != nil || !reflect.DeepEqual(h, again) {
			t.Fatalf("%q → %+v → %q → %+v (%v)", s, h, enc, again, err)
		}
	})
}

// Any LISTEN_* values: no panic; names always one per descriptor.
func FuzzParseActivation(f *testing.F) {
	f.Add("2", "42", "web:admin")
	f.Add("1", "0", "")
	f.Add("-1", "x", "::::")
	f.Add("999999999999", "1", "a")
	f.Fuzz(func(t *testing.T, fds, pid, names string) {
		if len(fds) > 6 {
			return // a count in the millions allocates that many names; not a parser question
		}
		env := map[string]string{EnvListenFDs: fds, EnvListenPID: pid, EnvListenFDNames: names}
		a, ok, err := ParseActivation(func(k string) string { return env[k] })
		if err == nil && ok && len(a.Names) != a.Count {
			t.Fatalf("%d descriptors, %d names", a.Count, len(a.Names))
		}
	})
}
