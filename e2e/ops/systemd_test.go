package ops

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/wire"
	"golang.org/x/sys/unix"
)

// sdMessage is one datagram a stand-in service manager received.
type sdMessage struct {
	pid  int
	text string
}

// sdRecorder stands in for systemd on a notify socket: it records every
// datagram with its sender, hears only the main process as systemd does
// under NotifyAccess=main (the first sender, then whoever MAINPID= names),
// and keeps an fd store (FDSTORE=1 / FDNAME= / FDSTOREREMOVE=1).
type sdRecorder struct {
	t    *testing.T
	path string
	conn *net.UnixConn

	mu      sync.Mutex
	main    int
	heard   []sdMessage
	ignored []sdMessage
	store   map[string][]*os.File
}

func newSDRecorder(t *testing.T) *sdRecorder {
	t.Helper()
	path := filepath.Join(e2etest.RuntimeDir(t), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := conn.SyscallConn()
	_ = raw.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1) })
	r := &sdRecorder{t: t, path: path, conn: conn, store: map[string][]*os.File{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.read()
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
		for _, fs := range r.store {
			for _, f := range fs {
				f.Close()
			}
		}
	})
	return r
}

func (r *sdRecorder) env() string { return wire.EnvNotifySocket + "=" + r.path }

func (r *sdRecorder) read() {
	buf, oob := make([]byte, 4096), make([]byte, 4096)
	for {
		n, noob, _, _, err := r.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		pid, fds := parseOOB(oob[:noob])
		r.receive(sdMessage{pid: pid, text: string(buf[:n])}, fds)
	}
}

func parseOOB(oob []byte) (pid int, files []*os.File) {
	msgs, _ := unix.ParseSocketControlMessage(oob)
	for i := range msgs {
		if cred, err := unix.ParseUnixCredentials(&msgs[i]); err == nil {
			pid = int(cred.Pid)
		}
		if fds, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			for _, fd := range fds {
				files = append(files, os.NewFile(uintptr(fd), "stored"))
			}
		}
	}
	return pid, files
}

func (r *sdRecorder) receive(m sdMessage, fds []*os.File) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.main == 0 {
		r.main = m.pid
	}
	if m.pid != r.main {
		r.ignored = append(r.ignored, m)
		for _, f := range fds {
			f.Close()
		}
		return
	}
	r.heard = append(r.heard, m)
	kv := map[string]string{}
	for _, line := range strings.Split(m.text, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			kv[k] = v
		}
	}
	if pid, err := strconv.Atoi(kv["MAINPID"]); err == nil {
		r.main = pid
	}
	switch {
	case kv["FDSTORE"] == "1":
		r.store[kv["FDNAME"]] = append(r.store[kv["FDNAME"]], fds...)
	case kv["FDSTOREREMOVE"] == "1":
		for _, f := range r.store[kv["FDNAME"]] {
			f.Close()
		}
		delete(r.store, kv["FDNAME"])
	}
}

// messages returns what was heard, one string per datagram.
func (r *sdRecorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.heard))
	for i, m := range r.heard {
		out[i] = strings.ReplaceAll(strings.TrimSpace(m.text), "\n", " ")
	}
	return out
}

// await waits until a heard datagram at or after index from contains
// every assignment given, and returns its index.
func (r *sdRecorder) await(from int, assignments ...string) int {
	r.t.Helper()
	at := -1
	e2etest.WaitFor(r.t, fmt.Sprintf("a notify message with %v", assignments), 30*time.Second, func() bool {
		msgs := r.messages()
		for i := from; i < len(msgs); i++ {
			if hasAll(msgs[i], assignments) {
				at = i
				return true
			}
		}
		return false
	})
	return at
}

func hasAll(msg string, assignments []string) bool {
	fields := strings.Fields(msg)
	for _, a := range assignments {
		found := false
		for _, f := range fields {
			if f == a || (strings.HasSuffix(a, "=") && strings.HasPrefix(f, a)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// The master speaks Type=notify: READY=1 once its workers are ready,
// RELOADING=1 with MONOTONIC_USEC= … READY=1 around a rollout and an
// upgrade, MAINPID= of the new master from the old one, STOPPING=1 only
// on the final stop; nothing from a process systemd would not hear; its
// socket in the fd store.
func TestMasterSpeaksSystemdNotify(t *testing.T) {
	rec := newSDRecorder(t)
	u := e2etest.LaunchUpgradable(t, []string{rec.env()}, e2etest.BatonBin, nil, "--name", "sd", "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	first := u.WaitWorkers(2)
	ready := rec.await(0, "READY=1")
	if _, _, code := e2etest.RunBaton(t, u.Env, "reload", "--control", u.Ctl.Path); code != 0 {
		t.Fatalf("reload: exit %d", code)
	}
	reloading := rec.await(ready+1, "RELOADING=1", "MONOTONIC_USEC=")
	reloaded := rec.await(reloading+1, "READY=1")
	if out, code := u.Upgrade(); code != 0 {
		t.Fatalf("upgrade: exit %d\n%s", code, out)
	}
	second := u.MustStatus()
	upgrading := rec.await(reloaded+1, "RELOADING=1", "MONOTONIC_USEC=")
	handed := rec.await(upgrading+1, "MAINPID="+strconv.Itoa(second.PID), "READY=1")
	e2etest.WaitFor(t, "the old master to exit", 30*time.Second, func() bool { return !e2etest.Alive(first.PID) })
	rec.await(handed+1, "READY=1", "STATUS=") // the new master, heard once it is the main process
	for _, m := range rec.messages() {
		if strings.Contains(m, "STOPPING=1") {
			t.Fatalf("STOPPING=1 before any stop (during the upgrade?): %q", rec.messages())
		}
	}
	if _, _, code := e2etest.RunBaton(t, u.Env, "stop", "--control", u.Ctl.Path, "--timeout", "60s"); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	rec.await(handed+1, "STOPPING=1")
	msgs := rec.messages()
	t.Logf("notify messages: %q", msgs)
	rec.mu.Lock()
	ignored, stored := append([]sdMessage{}, rec.ignored...), len(rec.store["socket0"])
	rec.mu.Unlock()
	if len(ignored) > 0 {
		t.Fatalf("messages systemd would not hear (not from the main process): %+v", ignored)
	}
	if stored == 0 {
		t.Fatalf("no socket in the fd store: %q", msgs)
	}
}

// A master started by systemd-socket-activate takes its socket by name and
// is upgraded under load with nothing failed.
func TestSocketActivatedMasterUpgradesUnderLoad(t *testing.T) {
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate not found: install the Debian package systemd (apt-get install -y systemd)")
	}
	addr := e2etest.FreeAddr(t)
	u := e2etest.LaunchUpgradable(t, nil, activate, []string{"-l", addr, "--fdname=web", e2etest.BatonBin},
		"--name", "act", "-w", "2", "-l", "web="+addr, "--", e2etest.HelloBin)
	// It listens at once and execs the master on the first connection.
	var c net.Conn
	e2etest.WaitFor(t, "systemd-socket-activate to listen", 20*time.Second, func() bool {
		c, err = net.Dial("tcp", addr)
		return err == nil
	})
	defer c.Close()
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	first := u.WaitWorkers(2)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the connection that activated the master: %v %v", resp, err)
	}
	if first.PID != u.First || !strings.Contains(u.Output(), "listening socket taken from the service manager") {
		t.Fatalf("master pid %d (activated %d); log:\n%s", first.PID, u.First, u.Output())
	}
	l := e2etest.StartLoad(t, addr, "/", 8)
	for i := 1; i <= 2; i++ {
		if out, code := u.Upgrade(); code != 0 {
			t.Fatalf("upgrade %d: exit %d\n%s", i, code, out)
		}
	}
	l.Stop(t)
	if st := u.MustStatus(); st.PID == first.PID || st.Sockets[0].Name != "web" || st.Sockets[0].Address != addr {
		t.Fatalf("after the upgrades: pid %d, sockets %+v", st.PID, st.Sockets)
	}
}

// With its socket in the fd store, a master killed with SIGKILL and
// started again with the stored socket (as systemd's Restart= does)
// answers the connections made while it was down: none is refused.
func TestFDStoreKeepsConnectionsAcrossAMasterCrash(t *testing.T) {
	rec := newSDRecorder(t)
	u := e2etest.LaunchUpgradable(t, []string{rec.env()}, e2etest.BatonBin, nil, "--name", "crash", "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	st := u.WaitWorkers(2)
	addr := st.Sockets[0].Address
	e2etest.WaitFor(t, "the socket in the fd store", 20*time.Second, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.store["socket0"]) == 1
	})
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e2etest.WaitFor(t, "the master and its workers to die", 20*time.Second, func() bool {
		for _, p := range append(e2etest.PIDs(st), st.PID) {
			if e2etest.Alive(p) {
				return false
			}
		}
		return true
	})
	var pending []net.Conn
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d while the master is down: %v (refused: the socket was not kept)", i, err)
		}
		defer c.Close()
		if _, err := fmt.Fprintf(c, "GET /?n=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", i); err != nil {
			t.Fatal(err)
		}
		pending = append(pending, c)
	}
	restart(t, u, rec, "--name", "crash", "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	for i, c := range pending {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d made while the master was down: %v %v\n%s", i, resp, err, u.Output())
		}
	}
	if st2 := u.MustStatus(); st2.Sockets[0].Address != addr {
		t.Fatalf("the new master listens on %s, not the stored %s", st2.Sockets[0].Address, addr)
	}
}

// restart starts the master again as systemd would after a crash: the
// stored descriptors at fd 3, ... with LISTEN_FDS, LISTEN_FDNAMES and
// LISTEN_PID (set by a shell that then execs baton, keeping its pid).
func restart(t *testing.T, u *e2etest.UpgradableMaster, rec *sdRecorder, args ...string) {
	t.Helper()
	rec.mu.Lock()
	files, names := []*os.File{}, []string{}
	for name, fs := range rec.store {
		for _, f := range fs {
			files, names = append(files, f), append(names, name)
		}
	}
	rec.main = 0 // the next sender is the new main process
	rec.mu.Unlock()
	out, err := os.OpenFile(u.Log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	argv := append([]string{"-c", `LISTEN_PID=$$ exec "$@"`, "sh", e2etest.BatonBin, "run", "--control", u.Ctl.Path}, args...)
	cmd := exec.Command("sh", argv...)
	cmd.Env = append(u.Env, rec.env(), "LISTEN_FDS="+strconv.Itoa(len(files)), "LISTEN_FDNAMES="+strings.Join(names, ":"))
	cmd.ExtraFiles, cmd.Stdout, cmd.Stderr, cmd.Dir = files, out, out, u.Dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
}
