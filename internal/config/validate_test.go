package config

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// onlyProblem resolves args and wants exactly one problem, reading want.
func onlyProblem(t *testing.T, want string, args ...string) {
	t.Helper()
	_, problems := resolveArgs(t, args...)
	if len(problems) != 1 || problems[0].Error() != want {
		t.Errorf("%q:\n got %v\nwant [%s]", args, problems, want)
	}
}

func valid(t *testing.T, args ...string) Config {
	t.Helper()
	c, problems := resolveArgs(t, args...)
	if problems != nil {
		t.Fatalf("%q: %v", args, problems)
	}
	return c
}

func TestListenModeAppliesToUnixSockets(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "a.sock")
	c := valid(t, "--listen-mode", "0660", "-l", "unix:"+sock, "-l", "127.0.0.1:0", "sh")
	if c.ListenMode != 0o660 || c.Listen[0].Mode != 0o660 || c.Listen[1].Mode != 0 {
		t.Fatalf("modes: %v %+v", c.ListenMode, c.Listen)
	}
	if c := valid(t, "--listen-mode", "640", "-l", "unix:"+sock, "sh"); c.Listen[0].Mode != 0o640 {
		t.Fatalf("without a leading 0: %v", c.Listen[0].Mode)
	}
	if c := valid(t, "-l", "unix:"+sock, "sh"); c.Listen[0].Mode != 0 {
		t.Fatalf("default: %v", c.Listen[0].Mode)
	}
	for _, bad := range []string{"999", "abc", "1000", "-1", "0x1b0", "+660", " 660"} {
		onlyProblem(t, `--listen-mode: "`+bad+`" is not valid: use an octal mode such as 0660`,
			"--listen-mode", bad, "-l", "unix:"+sock, "sh")
	}
	p := writeFile(t, "listen = [\"unix:"+sock+"\"]\nlisten_mode = \"0600\"\ncommand = [\"sh\"]\n")
	if c := valid(t, "-c", p); c.Listen[0].Mode != 0o600 {
		t.Fatalf("from the file: %v", c.Listen[0].Mode)
	}
}

func TestReadyDelayMustBeShorterThanTheTimeout(t *testing.T) {
	onlyProblem(t, "--ready: delay:2s is not shorter than --ready-timeout 1s: every worker would time out; raise --ready-timeout or shorten the delay",
		"-l", ":0", "--ready", "delay:2s", "--ready-timeout", "1s", "sh")
	onlyProblem(t, "--ready: delay:1s is not shorter than --ready-timeout 1s: every worker would time out; raise --ready-timeout or shorten the delay",
		"-l", ":0", "--ready", "delay:1s", "--ready-timeout", "1s", "sh")
	onlyProblem(t, "--ready: delay:2m0s is not shorter than --ready-timeout 1m0s: every worker would time out; raise --ready-timeout or shorten the delay",
		"-l", ":0", "--ready", "delay:2m", "sh")
	valid(t, "-l", ":0", "--ready", "delay:999ms", "--ready-timeout", "1s", "sh")
	// A bad timeout is reported once, not also as too short.
	onlyProblem(t, `--ready-timeout: "x" is not a duration: use a Go duration such as 500ms, 30s or 2m`,
		"-l", ":0", "--ready", "delay:2s", "--ready-timeout", "x", "sh")
	p := writeFile(t, "ready = \"delay:5s\"\nready_timeout = \"5s\"\nlisten = [\":0\"]\ncommand = [\"sh\"]\n")
	onlyProblem(t, p+`: key "ready": delay:5s is not shorter than ready_timeout 5s: every worker would time out; raise ready_timeout or shorten the delay`, "-c", p)
}

func TestTheSameAddressTwiceIsRefused(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "a.sock")
	for _, c := range []struct{ a, b, want string }{
		{"127.0.0.1:8080", "127.0.0.1:8080", "--listen: 127.0.0.1:8080 is given twice"},
		{":8080", ":8080", "--listen: :8080 is given twice"},
		{"unix:" + sock, "unix:" + sock, "--listen: unix:" + sock + " is given twice"},
		{"web=[::1]:8080", "api=[0:0::1]:8080", "--listen: [0:0::1]:8080 is the same address as [::1]:8080"},
		{":8080", "[::]:8080", "--listen: [::]:8080 is the same address as :8080"},
		{":8080", "127.0.0.1:8080", "--listen: 127.0.0.1:8080 overlaps :8080, which listens on every address of port 8080"},
		{"127.0.0.1:8080", "0.0.0.0:8080", "--listen: 0.0.0.0:8080 overlaps 127.0.0.1:8080: 0.0.0.0:8080 listens on every address of port 8080"},
	} {
		onlyProblem(t, c.want, "-l", c.a, "-l", c.b, "sh")
	}
	// Distinct addresses, distinct ports, and port 0 (each its own port).
	valid(t, "-l", "127.0.0.1:8080", "-l", "127.0.0.2:8080", "-l", "127.0.0.1:8081", "sh")
	valid(t, "-l", ":0", "-l", ":0", "-l", "127.0.0.1:0", "sh")
	valid(t, "-l", "0.0.0.0:8080", "-l", "[::1]:8080", "sh")
}

func TestPortIsDigitsOnly(t *testing.T) {
	for _, port := range []string{"+80", "-80", " 80", "0x50", "8_0", "065536", "99999"} {
		spec := "127.0.0.1:" + port
		onlyProblem(t, `--listen: "`+spec+`": port "`+port+`" is not valid: use digits only, 0..65535`, "-l", spec, "sh")
	}
	valid(t, "-l", "127.0.0.1:080", "sh")
}

func TestPathsInMissingDirectoriesAreRefused(t *testing.T) {
	dir := t.TempDir()
	gone := filepath.Join(dir, "x", "y")
	onlyProblem(t, "--pidfile: directory "+gone+" does not exist", "-l", ":0", "--pidfile", filepath.Join(gone, "b.pid"), "sh")
	onlyProblem(t, "--control: directory "+gone+" does not exist", "-l", ":0", "--control", filepath.Join(gone, "b.sock"), "sh")
	onlyProblem(t, `--listen: "unix:`+gone+`/a.sock": directory `+gone+" does not exist", "-l", "unix:"+gone+"/a.sock", "sh")
	file := writeFile(t, "")
	onlyProblem(t, "--pidfile: "+file+" is not a directory", "-l", ":0", "--pidfile", filepath.Join(file, "b.pid"), "sh")
}

func TestPidfileMustBeARegularFile(t *testing.T) {
	dir := t.TempDir()
	onlyProblem(t, "--pidfile: "+dir+" is a directory, not a regular file: baton only replaces a pidfile that is a regular file",
		"-l", ":0", "--pidfile", dir, "sh")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(writeFile(t, "1\n"), link); err != nil {
		t.Fatal(err)
	}
	onlyProblem(t, "--pidfile: "+link+" is a symbolic link, not a regular file: baton only replaces a pidfile that is a regular file",
		"-l", ":0", "--pidfile", link, "sh")
	valid(t, "-l", ":0", "--pidfile", writeFile(t, "123\n"), "sh")
	valid(t, "-l", ":0", "--pidfile", filepath.Join(dir, "new.pid"), "sh")
}

func TestControlMustBeASocket(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, "precious")
	onlyProblem(t, "--control: "+file+" exists and is not a socket: baton only replaces a stale socket", "-l", ":0", "--control", file, "sh")
	onlyProblem(t, "--control: "+dir+" exists and is not a socket: baton only replaces a stale socket", "-l", ":0", "--control", dir, "sh")
	long := "/tmp/" + strings.Repeat("c", 103) // 108 bytes
	onlyProblem(t, "--control: unix socket path is 108 bytes, the limit is 107", "-l", ":0", "--control", long, "sh")
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	valid(t, "-l", ":0", "--control", stale, "sh")
	// The same rule for a unix listen socket, which check and run share.
	onlyProblem(t, `--listen: "unix:`+file+`": `+file+" exists and is not a socket: baton only replaces a stale socket", "-l", "unix:"+file, "sh")
}

// TestARelativeCommandNotFoundNamesTheDirItWasLookedUpIn: `--dir /srv --
// ./server` looks for /srv/server; the problem says so, or "./server: no
// such file" points at the wrong directory.
func TestARelativeCommandNotFoundNamesTheDirItWasLookedUpIn(t *testing.T) {
	dir := t.TempDir()
	_, err := LookPath("./server", dir, nil)
	want := "(looked up as " + filepath.Join(dir, "server") + ", in --dir " + dir + "): no such file or directory"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LookPath(./server, %s): %v, want it saying %q", dir, err, want)
	}
	if _, err := LookPath("./server", "", nil); err == nil || strings.Contains(err.Error(), "looked up as") {
		t.Errorf("without --dir: %v, want the path as given", err)
	}
}
