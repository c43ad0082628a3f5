package worker

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inheritHelpers are the child's side of the tests below; each prints
// what it saw on one line.
var inheritHelpers = map[string]func() error{
	"names": func() error {
		lns, err := Listeners()
		if err != nil {
			return err
		}
		for _, l := range lns {
			fmt.Printf("%s:%s ", l.Name, l.Addr().Network())
		}
		web, err := Listen("web", "")
		if err != nil {
			return err
		}
		// The parent dialed before starting us: take that connection.
		_ = web.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		c, err := web.Accept()
		if err != nil {
			return err
		}
		_, _ = c.Write([]byte("served by the child\n"))
		c.Close()
		admin, err := Listen("admin", "")
		if err != nil {
			return err
		}
		_, missing := Listen("nope", "127.0.0.1:0")
		_, unnamed := Listen("", "127.0.0.1:0")
		fmt.Printf("admin=%s env=%q%q%q cloexec=%v|%v missing=%v|%v unnamed=%v\n", admin.Addr(),
			os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDNAMES"),
			cloexec(3), cloexec(4), errors.Is(missing, ErrNoSocket), missing, errors.Is(unnamed, ErrNoSocket))
		return nil
	},
	"otherpid": func() error {
		warm, _ := net.Listen("tcp", "127.0.0.1:0") // the runtime's poller opens its fds now
		warm.Close()
		before := openFDs()
		ln, err := Listen("web", "127.0.0.1:0")
		if err != nil {
			return err
		}
		during := openFDs()
		ln.Close()
		fmt.Printf("addr=%s fd3_open=%v fd3_cloexec=%v fds_during=%+d fds_after=%+d env=%s\n", ln.Addr(),
			isOpen(3), cloexec(3), during-before, openFDs()-before, os.Getenv("LISTEN_PID"))
		return nil
	},
	"one": func() error {
		ln, err := Listen("http", "")
		if err != nil {
			return err
		}
		_, err = Listen("", "")
		fmt.Printf("addr=%s any=%v\n", ln.Addr(), err)
		return nil
	},
	"mismatch": func() error {
		named, err := Listen("http", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ln, err := Listen("", "")
		if err != nil {
			return err
		}
		fmt.Printf("http=%s any=%s\n", named.Addr(), ln.Addr())
		return nil
	},
	"datagram": func() error {
		_, err := Listen("dns", "127.0.0.1:0")
		_, all := Listeners()
		fmt.Printf("listen=%v listeners=%v\n", err, all)
		return nil
	},
}

func init() { maps.Copy(helpers, inheritHelpers) }

func openFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

func cloexec(fd int) bool {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC != 0
}

// listenerFile binds network/addr and returns the listener and a
// duplicate of its descriptor to pass down.
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
	web, webFile := listenerFile(t, "tcp", "127.0.0.1:0")
	sock := filepath.Join(t.TempDir(), "admin.sock")
	_, adminFile := listenerFile(t, "unix", sock)
	c, err := net.Dial("tcp", web.Addr().String()) // queued until the child accepts
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := runHelper(t, "names", []*os.File{webFile, adminFile}, "LISTEN_FDS=2", "LISTEN_PID=self", "LISTEN_FDNAMES=web:admin")
	want := fmt.Sprintf(`web:tcp admin:unix admin=%s env="""""" cloexec=true|true `+
		`missing=true|listen on inherited socket "nope": no inherited socket by that name: the supervisor passed web, admin `+
		`unnamed=true`, sock)
	if out != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	buf := make([]byte, 64)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _ := c.Read(buf); string(buf[:n]) != "served by the child\n" {
		t.Fatalf("connection to the inherited socket got %q", buf[:n])
	}
}

func TestListenPIDOfAnotherProcessIsIgnored(t *testing.T) {
	inherited, web := listenerFile(t, "tcp", "127.0.0.1:0")
	out := runHelper(t, "otherpid", []*os.File{web}, "LISTEN_FDS=1", "LISTEN_PID=1", "LISTEN_FDNAMES=web")
	if strings.Contains(out, inherited.Addr().String()) || !strings.HasPrefix(out, "addr=127.0.0.1:") {
		t.Fatalf("did not bind the fallback: %s", out)
	}
	// fd 3 untouched (open, still inheritable), exactly one descriptor for
	// the fallback listener and none left after closing it, and the
	// variables left for whoever they were meant for.
	if !strings.HasSuffix(out, "fd3_open=true fd3_cloexec=false fds_during=+1 fds_after=+0 env=1") {
		t.Fatalf("fds or env changed: %s", out)
	}
}

func TestOneUnnamedSocketServesAnyName(t *testing.T) {
	ln, f := listenerFile(t, "tcp", "127.0.0.1:0")
	out := runHelper(t, "one", []*os.File{f}, "LISTEN_FDS=1", "LISTEN_PID=self", "LISTEN_FDNAMES=")
	if want := "addr=" + ln.Addr().String() + " any=<nil>"; out != want {
		t.Fatalf("got %s, want %s", out, want)
	}
}

// baton names an unnamed --listen socket "socket0": a program asking for
// "http" still gets the one socket it was given.
func TestOneSocketServesWhateverItsName(t *testing.T) {
	ln, f := listenerFile(t, "tcp", "127.0.0.1:0")
	out := runHelper(t, "mismatch", []*os.File{f}, "LISTEN_FDS=1", "LISTEN_PID=self", "LISTEN_FDNAMES=socket0")
	want := `http=` + ln.Addr().String() + ` any=` + ln.Addr().String()
	if out != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

func TestDatagramSocketIsRefusedClearly(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	f, err := pc.(*net.UDPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := runHelper(t, "datagram", []*os.File{f}, "LISTEN_FDS=1", "LISTEN_PID=self", "LISTEN_FDNAMES=dns")
	want := `use inherited fd 3 ("dns"): a datagram socket, not a listening stream socket`
	if out != "listen="+want+" listeners="+want {
		t.Fatalf("got %s", out)
	}
}

func TestMalformedActivationEnvironment(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"LISTEN_FDS": "two", "LISTEN_PID": "1"}[k] }
	if _, err := take(getenv, 1); err == nil || !strings.Contains(err.Error(), "LISTEN_FDS") {
		t.Fatalf("want an error naming LISTEN_FDS, got %v", err)
	}
	getenv = func(k string) string { return map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "1"}[k] }
	if socks, err := take(getenv, 2); socks != nil || err != nil {
		t.Fatalf("another pid's sockets: got %v %v", socks, err)
	}
}
