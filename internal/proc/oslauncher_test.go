package proc

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/wire"
)

// TestMain lets the test binary act as baton's exec shim, as the real
// launcher starts workers through /proc/self/exe.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ShimArg {
		err := ExecShim(os.Args[2:])
		fmt.Fprintln(os.Stderr, err)
		os.Exit(127)
	}
	if len(os.Args) > 1 && os.Args[1] == GuardArg {
		GuardMain(os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func newOS(t *testing.T) *OS {
	t.Helper()
	dir, err := os.MkdirTemp("", "pl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return &OS{Name: "t", NotifyDir: dir, Spawner: NewSpawner(), OutputGrace: 100 * time.Millisecond,
		Output: logs.NewSink(io.Discard, io.Discard, logs.Text)}
}

// launch starts command and returns the process and its exit.
func launch(t *testing.T, o *OS, l Launch) (Process, chan wire.Notify, chan Exit) {
	t.Helper()
	notes, exits := make(chan wire.Notify, 8), make(chan Exit, 1)
	p, err := o.Launch(l, func(n wire.Notify) { notes <- n }, func(e Exit) { exits <- e })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.KillGroup)
	return p, notes, exits
}

func waitExit(t *testing.T, exits chan Exit) Exit {
	t.Helper()
	select {
	case e := <-exits:
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no exit reported")
	}
	return Exit{}
}

func TestLaunchPassesSocketsAndReportsExitAndOutput(t *testing.T) {
	o := newOS(t)
	r, w, err := os.Pipe() // any descriptor will do as "socket"
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	o.Files, o.Names = []*os.File{r}, []string{"web"}
	script := `echo "pid=$$ listen_pid=$LISTEN_PID fds=$LISTEN_FDS names=$LISTEN_FDNAMES slot=$BATON_SLOT gen=$BATON_GENERATION x=$X"; ls /proc/self/fd/3 >/dev/null && echo fd3; exit 3`
	p, _, exits := launch(t, o, Launch{ID: 1, Slot: 2, Generation: 5, Command: []string{"sh", "-c", script}, Env: []string{"X=y"}})
	e := waitExit(t, exits)
	if e.Code != 3 || e.Signaled() || e.String() != "exit status 3" {
		t.Fatalf("exit %+v", e)
	}
	tail := strings.Join(p.Tail(), "\n")
	want := fmt.Sprintf("pid=%d listen_pid=%d fds=1 names=web slot=2 gen=5 x=y", p.PID(), p.PID())
	if !strings.Contains(tail, want) || !strings.Contains(tail, "fd3") {
		t.Fatalf("output %q, want %q and fd3", tail, want)
	}
}

func TestNotifySocketDeliversReady(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: it sends the notify datagram")
	}
	o := newOS(t)
	py := `import os,socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.connect(os.environ["NOTIFY_SOCKET"]); s.send(b"READY=1\nSTATUS=up")`
	p, notes, exits := launch(t, o, Launch{ID: 7, Command: []string{"python3", "-c", py}, Notify: true})
	select {
	case n := <-notes:
		if !n.Ready || n.Status != "up" {
			t.Fatalf("%+v", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no notify datagram")
	}
	waitExit(t, exits)
	p.Release()
	if _, err := os.Stat(filepath.Join(o.NotifyDir, "w7")); !os.IsNotExist(err) {
		t.Fatalf("notify socket left behind: %v", err)
	}
}

// --ready output:REGEX: a line on stderr that matches is reported once, as
// READY=1 through onNotify, before the exit; the worker gets no
// NOTIFY_SOCKET.
func TestOutputLineDeliversReadyOnce(t *testing.T) {
	o := newOS(t)
	script := `echo "notify=${NOTIFY_SOCKET:-none}"; echo booting; echo "listening on port 8080" >&2; echo "listening on port 8081"; exit 0`
	p, notes, exits := launch(t, o, Launch{ID: 3, Command: []string{"sh", "-c", script},
		ReadyOutput: regexp.MustCompile(`listening on port [0-9]+`)})
	waitExit(t, exits) // onExit comes after the output is read, so every note is in
	if len(notes) != 1 {
		t.Fatalf("%d notes, want 1", len(notes))
	}
	if n := <-notes; !n.Ready || n.HasStatus {
		t.Fatalf("%+v", n)
	}
	if tail := strings.Join(p.Tail(), "\n"); !strings.Contains(tail, "notify=none") {
		t.Fatalf("output %q: a worker ready by its output got a NOTIFY_SOCKET", tail)
	}
}

func TestOutputThatNeverMatchesDeliversNothing(t *testing.T) {
	o := newOS(t)
	_, notes, exits := launch(t, o, Launch{ID: 4, Command: []string{"sh", "-c", "echo starting; echo listening >&2"},
		ReadyOutput: regexp.MustCompile(`^Listening on`)})
	waitExit(t, exits)
	if len(notes) != 0 {
		t.Fatalf("%d notes for output that never matched", len(notes))
	}
}

// A worker that daemonizes leaves a process holding its pipes: the exit
// is reported after the grace, with the process counted, and the master's
// pipe ends are closed (they no longer pin its descriptors).
func TestEscapedProcessIsCountedAndPipesClosed(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid is not installed")
	}
	o := newOS(t)
	marker := "baton-orphan-" + strconv.Itoa(os.Getpid())
	before := countFDs(t)
	flag := filepath.Join(o.NotifyDir, "escaped")
	// The main process exits only once its child has left the group and
	// started its own child (the flag is written after the fork of sleep).
	script := "setsid sh -c 'sleep 300 & touch " + flag + "; wait; : " + marker + "' & while [ ! -e " + flag + " ]; do sleep 0.01; done; exit 0"
	_, _, exits := launch(t, o, Launch{ID: 1, Command: []string{"sh", "-c", script}})
	e := waitExit(t, exits)
	defer killByMarker(marker)
	if e.Code != 0 || e.Orphans != 2 { // the escaped sh and its sleep
		t.Fatalf("exit status %d with %d orphans, want status 0 and 2 orphans", e.Code, e.Orphans)
	}
	if after := countFDs(t); after > before {
		t.Fatalf("the master holds %d more descriptors after the worker exited", after-before)
	}
}

func countFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func killByMarker(marker string) {
	matches, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err == nil && strings.Contains(string(b), marker) {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(m))); err == nil {
				_ = syscall.Kill(-pid, syscall.SIGKILL) // it leads its own group (setsid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

func TestNotifyDirIsShortAndSweepsDeadMasters(t *testing.T) {
	base, err := os.MkdirTemp("", "nd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(base, "n"+strconv.Itoa(dead.Process.Pid))
	live := filepath.Join(base, "n1") // pid 1 always runs
	for _, d := range []string{stale, live} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := NotifyDir(base, false)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("a dead master's notify directory was kept")
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatal("a live master's notify directory was removed")
	}
	long := filepath.Join(base, strings.Repeat("d", 100))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	dir2, err := NotifyDir(long, false)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir2)
	if n := len(dir2) + len("/w") + 10; n > maxUnixPath {
		t.Fatalf("notify paths under %s can be %d bytes", dir2, n)
	}
}

// A notify directory removed under a running master (a cleaner of /tmp)
// is created again for the next worker, which then reports READY=1.
func TestNotifyDirectoryRemovedIsCreatedAgain(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: it sends the notify datagram")
	}
	o := newOS(t)
	if err := os.RemoveAll(o.NotifyDir); err != nil {
		t.Fatal(err)
	}
	py := `import os,socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.connect(os.environ["NOTIFY_SOCKET"]); s.send(b"READY=1")`
	p, notes, exits := launch(t, o, Launch{ID: 8, Command: []string{"python3", "-c", py}, Notify: true})
	select {
	case n := <-notes:
		if !n.Ready {
			t.Fatalf("%+v", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no notify datagram")
	}
	waitExit(t, exits)
	p.Release()
	if st, err := os.Stat(o.NotifyDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("the notify directory: %v %v", st, err)
	}
}
