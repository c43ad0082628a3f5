package ops

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// needRootAndNobody skips unless the tests run as root (CI does) on a
// host with the unprivileged user nobody; it returns nobody.
func needRootAndNobody(t *testing.T) *user.User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: privilege dropping is tested only when the tests run as root (CI runs as root)")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody on this host")
	}
	return u
}

// publicDir is a temporary directory every user may enter and read.
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "baton-pub-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// privilegedAddr is a free loopback address on a port below 1024, which
// only root may bind.
func privilegedAddr(t *testing.T) string {
	t.Helper()
	start := 600 + rand.IntN(300)
	for p := start; p < start+100; p++ {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no free port below 1024")
	return ""
}

// procIDs reads the real uid and gid of pid from /proc.
func procIDs(t *testing.T, pid int) (uid, gid string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid = strings.Fields(v)[0]
		}
		if v, ok := strings.CutPrefix(line, "Gid:"); ok {
			gid = strings.Fields(v)[0]
		}
	}
	return uid, gid
}

// asUser runs cmd as u.
func asUser(cmd *exec.Cmd, u *user.User) {
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}

// Item 4: the master binds a port only root may bind; its workers run as
// nobody, get ready through their notify socket, serve on the inherited
// socket (inherit) or their private port (proxy http), and are replaced
// by a rollout as nobody too, with nobody's HOME, USER and LOGNAME.
func TestPrivWorkersRunAsTheUser(t *testing.T) {
	u := needRootAndNobody(t)
	dir := publicDir(t)
	ident := e2etest.WriteScript(t, dir, "ident.sh", "#!/bin/sh\n"+
		`echo "ident uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME user=$USER logname=$LOGNAME"`+"\n"+
		`exec "$@"`+"\n")
	want := fmt.Sprintf("ident uid=%s gid=%s groups=%s home=%s user=nobody logname=nobody", u.Uid, u.Gid, u.Gid, u.HomeDir)
	modes := []struct {
		name string
		args []string
	}{
		{"inherit", []string{"--", ident, e2etest.HelloBin}},
		{"proxy", []string{"--mode", "proxy", "--proxy", "http", "--ready", "notify", "--", ident, e2etest.HelloBin, "-addr", "127.0.0.1:{port}"}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			addr := privilegedAddr(t)
			args := append([]string{"--name", "priv-" + mode.name, "-w", "2", "-l", addr, "--user", "nobody", "--dir", dir}, mode.args...)
			m := e2etest.StartMaster(t, 2, args...)
			st := m.Status()
			if st.Master == nil || !strings.HasPrefix(st.Master.RunAs, "nobody (uid "+u.Uid) {
				t.Fatalf("status says workers run as %+v", st.Master)
			}
			checkRunAs(t, m, u, e2etest.PIDs(st))
			if n := strings.Count(m.Out.String(), want); n != 2 {
				t.Fatalf("%d of 2 workers printed %q:\n%s", n, want, m.Out.String())
			}
			if _, stderr, code := m.Baton("reload"); code != 0 {
				t.Fatalf("reload: exit %d: %s", code, stderr)
			}
			st = m.WaitReady(2, 20*time.Second)
			checkRunAs(t, m, u, e2etest.PIDs(st))
			checkControlPrivate(t, m, u)
		})
	}
}

// checkRunAs checks that every worker runs as u and that a request is
// answered by one of them.
func checkRunAs(t *testing.T, m *e2etest.Master, u *user.User, workers []int) {
	t.Helper()
	for _, pid := range workers {
		if uid, gid := procIDs(t, pid); uid != u.Uid || gid != u.Gid {
			t.Fatalf("worker %d runs as uid %s gid %s, want %s %s", pid, uid, gid, u.Uid, u.Gid)
		}
	}
	body, err := e2etest.OneShotGet(m.Addr())
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	for _, pid := range workers {
		if strings.Contains(string(body), fmt.Sprintf(`"pid":%d,`, pid)) {
			return
		}
	}
	t.Fatalf("answer %s is from none of the workers %v", body, workers)
}

// checkControlPrivate checks that the control socket's directory is
// root's alone and that u cannot connect to the control socket.
func checkControlPrivate(t *testing.T, m *e2etest.Master, u *user.User) {
	t.Helper()
	var xdg string
	for _, e := range m.Env {
		if v, ok := strings.CutPrefix(e, "XDG_RUNTIME_DIR="); ok {
			xdg = v
		}
	}
	ctlDir := filepath.Join(xdg, "baton")
	st, err := os.Stat(ctlDir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("control directory %s: %v, mode %v, want 0700", ctlDir, err, st.Mode())
	}
	sock := filepath.Join(ctlDir, m.Status().Name+".sock")
	cmd := exec.Command(e2etest.BatonBin, "status", "--control", sock)
	asUser(cmd, u)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "permission denied") {
		t.Fatalf("user %s ran `baton status` on the control socket: %v: %s", u.Username, err, out)
	}
}

// Item 4, bad input: a master that is not root cannot change user; a
// --dir the user cannot enter is refused before anything starts.
func TestPrivBadInput(t *testing.T) {
	u := needRootAndNobody(t)
	home := publicDir(t)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	serverIn := e2etest.WriteScript(t, private, "server", "#!/bin/sh\ntouch "+home+"/started\n")
	cases := []struct {
		name   string
		asUser bool
		args   []string
		want   []string
	}{
		{"non-root master", true, []string{"--user", "root"}, []string{"--user", `"root"`, "only a master running as root"}},
		{"non-root master, group", true, []string{"--group", "root"}, []string{"--group", `"root"`, "only a master running as root"}},
		{"dir the user cannot enter", false, []string{"--user", "nobody", "--dir", private}, []string{"--dir", "not accessible to user nobody", "mode 0700"}},
		{"command the user cannot execute", false, []string{"--user", "nobody", "--dir", home, "--", serverIn}, []string{"command:", "not executable by user nobody", "mode 0700"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--name", "bad", "-l", "127.0.0.1:0"}, tc.args...)
			if !slices.Contains(args, "--") {
				args = append(args, "--", "sh", "-c", "touch "+home+"/started")
			}
			cmd := exec.Command(e2etest.BatonBin, args...)
			cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+home)
			cmd.Dir = home
			if tc.asUser {
				asUser(cmd, u)
			}
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !asExit(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2: %s", err, out)
			}
			line := strings.TrimSuffix(string(out), "\n")
			if strings.Contains(line, "\n") {
				t.Fatalf("want one line, got %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Fatalf("%q lacks %q", line, w)
				}
			}
			if _, err := os.Stat(filepath.Join(home, "started")); err == nil {
				t.Fatal("the command was started")
			}
		})
	}
}

func asExit(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}
