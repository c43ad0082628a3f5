package worker

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The helper process: the test binary re-run with inherited sockets, since
// LISTEN_PID must name the process that calls Listen.
func TestMain(m *testing.M) {
	if c := os.Getenv("WORKER_HELPER"); c != "" {
		if os.Getenv("LISTEN_PID") == "self" {
			os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
		}
		if err := helper(c); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helper(c string) error {
	switch c {
	case "names":
		lns, err := Listeners()
		if err != nil {
			return err
		}
		for _, l := range lns {
			fmt.Printf("%s:%s ", l.Name, l.Addr().Network())
		}
		admin, err := Listen("admin", "")
		if err != nil {
			return err
		}
		fmt.Printf("admin=%s env=%q%q%q\n", admin.Addr(), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDNAMES"))
		if _, err := Listen("nope", ""); err == nil || !strings.Contains(err.Error(), "web, admin") {
			return fmt.Errorf("a missing name: %v", err)
		}
	case "otherpid":
		before := openFDs()
		ln, err := Listen("web", "127.0.0.1:0")
		if err != nil {
			return err
		}
		flags, err := unix.FcntlInt(3, unix.F_GETFD, 0)
		fmt.Printf("addr=%s fd3_open=%v fd3_cloexec=%v fds_added=%d env=%s\n", ln.Addr(), err == nil,
			flags&unix.FD_CLOEXEC != 0, openFDs()-before, os.Getenv("LISTEN_PID"))
	}
	return nil
}

func openFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

// runHelper runs the helper case c with socks at fd 3, 4, ... and env.
func runHelper(t *testing.T, c string, socks []*os.File, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "WORKER_HELPER="+c)...)
	cmd.ExtraFiles = socks
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s: %v\n%s", c, err, out)
	}
	return strings.TrimSpace(string(out))
}

func listenerFile(t *testing.T, network, addr string) (net.Listener, *os.File) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f, err := ln.(interface{ File() (*os.File, error) }).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return ln, f
}

func TestInheritedSocketsArriveNamedAndInOrder(t *testing.T) {
	_, web := listenerFile(t, "tcp", "127.0.0.1:0")
	sock := filepath.Join(t.TempDir(), "a.sock")
	_, admin := listenerFile(t, "unix", sock)
	out := runHelper(t, "names", []*os.File{web, admin}, "LISTEN_FDS=2", "LISTEN_PID=self", "LISTEN_FDNAMES=web:admin")
	want := fmt.Sprintf(`web:tcp admin:unix admin=%s env=""""""`, sock)
	if out != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

func TestListenPIDOfAnotherProcessIsIgnored(t *testing.T) {
	inherited, web := listenerFile(t, "tcp", "127.0.0.1:0")
	out := runHelper(t, "otherpid", []*os.File{web}, "LISTEN_FDS=1", "LISTEN_PID=1", "LISTEN_FDNAMES=web")
	if strings.Contains(out, inherited.Addr().String()) {
		t.Fatalf("used the socket meant for pid 1: %s", out)
	}
	// fd 3 untouched (still open, still inheritable), one new fd for the
	// fallback listener (plus the runtime's poller on first use), and the
	// variables left for whoever they were meant for.
	if !strings.Contains(out, "fd3_open=true fd3_cloexec=false") || !strings.Contains(out, "env=1") {
		t.Fatalf("fd or env changed: %s", out)
	}
	var added int
	fmt.Sscanf(out[strings.Index(out, "fds_added=")+len("fds_added="):], "%d", &added)
	if added < 1 || added > 3 {
		t.Fatalf("fds added: %s", out)
	}
}

func TestStandaloneBindsFallback(t *testing.T) {
	ln, err := Listen("http", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ln.Addr().Network() != "tcp" {
		t.Fatal(ln.Addr())
	}
	sock := filepath.Join(t.TempDir(), "s.sock")
	uln, err := Listen("http", "unix:"+sock)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	if c, err := net.Dial("unix", sock); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}
	if _, err := Listen("http", ""); err == nil {
		t.Fatal("no fallback accepted")
	}
}
