package recipes

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// examples/haproxy: two baton hosts behind a real HAProxy that checks
// /readyz; deploy.sh restarts them one at a time under wrk load (which
// never retries): not one request fails.
func TestHAProxyHostByHostDeployUnderWrk(t *testing.T) {
	for _, tool := range []string{"haproxy", "wrk", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: install the Debian package %s (apt-get install -y %s); .ci/run does", tool, tool, tool)
		}
	}
	dir := e2etest.RuntimeDir(t)
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+dir, "GORACE=atexit_sleep_ms=0", "DIR="+dir, "BATON="+e2etest.BatonBin, "APP="+e2etest.HelloBin)
	ports := map[string]string{}
	for _, k := range []string{"FRONT_PORT", "STATS_PORT", "HOST1_PORT", "ADMIN1", "HOST2_PORT", "ADMIN2"} {
		_, p, _ := strings.Cut(e2etest.FreeAddr(t), ":")
		ports[k] = p
		env = append(env, k+"="+p)
	}
	script := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(e2etest.ModulePath("examples", "haproxy", name), args...)
		cmd.Env = env
		return cmd
	}
	for _, n := range []string{"1", "2"} {
		if out, err := script("host.sh", n).CombinedOutput(); err != nil {
			t.Fatalf("host.sh %s: %v\n%s", n, err, out)
		}
	}
	t.Cleanup(func() {
		for _, n := range []string{"1", "2"} {
			_, _, _ = e2etest.RunBaton(t, env, "stop", "--control", filepath.Join(dir, "host"+n+".sock"), "--timeout", "60s")
		}
		if t.Failed() {
			for _, n := range []string{"1", "2"} {
				b, _ := os.ReadFile(filepath.Join(dir, "host"+n+".log"))
				t.Logf("host%s log:\n%s", n, b)
			}
		}
	})
	hap := exec.Command("haproxy", "-db", "-f", e2etest.ModulePath("examples", "haproxy", "haproxy.cfg"))
	hapOut := &e2etest.SyncBuffer{}
	hap.Env, hap.Stdout, hap.Stderr = env, hapOut, hapOut
	if err := hap.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hap.Process.Kill(); _ = hap.Wait() })
	front := "127.0.0.1:" + ports["FRONT_PORT"]
	// A server HAProxy has not checked yet shows UP too: wait for a passed
	// check of each (L7OK), or the load may start before a host's first
	// check takes it out and no server is left.
	e2etest.WaitFor(t, "both hosts UP in HAProxy after a passed check", 60*time.Second, func() bool {
		return haproxyState(ports["STATS_PORT"], "host1") == "UP L7OK" && haproxyState(ports["STATS_PORT"], "host2") == "UP L7OK"
	})
	wrk := exec.Command("wrk", "-t2", "-c16", "-d120s", "--timeout", "10s", "http://"+front+"/")
	wrkOut := &e2etest.SyncBuffer{}
	wrk.Stdout, wrk.Stderr = wrkOut, wrkOut
	if err := wrk.Start(); err != nil {
		t.Fatal(err)
	}
	deploy := script("deploy.sh")
	out, err := deploy.CombinedOutput()
	_ = wrk.Process.Signal(syscall.SIGINT)
	_ = wrk.Wait()
	if err != nil {
		t.Fatalf("deploy.sh: %v\n%s\nhaproxy:\n%s", err, out, hapOut)
	}
	t.Logf("deploy.sh:\n%s", out)
	requests, failed := wrkFigures(t, wrkOut.String())
	t.Logf("wrk through HAProxy during the deploy: %d requests, %d failed", requests, failed)
	if failed != 0 || requests == 0 {
		t.Fatalf("wrk: %d failed of %d during the host-by-host deploy\n%s\nhaproxy:\n%s", failed, requests, wrkOut, hapOut)
	}
}

// haproxyState is server host's status and the result of its last check
// in HAProxy's CSV stats, as "STATUS CHECK" ("UP L7OK", "DOWN L7STS"...).
func haproxyState(statsPort, host string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + statsPort + "/stats;csv")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	lines := strings.Split(body.String(), "\n")
	column := map[string]int{}
	for i, name := range strings.Split(strings.TrimPrefix(lines[0], "# "), ",") {
		column[name] = i
	}
	status, okStatus := column["status"]
	check, okCheck := column["check_status"]
	if !okStatus || !okCheck {
		return ""
	}
	for _, line := range lines[1:] {
		f := strings.Split(line, ",")
		if len(f) > max(status, check) && f[0] == "hosts" && f[1] == host {
			return f[status] + " " + f[check]
		}
	}
	return ""
}

// wrkFigures reads wrk's summary: requests, and failed ones (socket
// errors plus non-2xx/3xx answers).
func wrkFigures(t *testing.T, out string) (requests, failed int) {
	t.Helper()
	m := regexp.MustCompile(`(\d+) requests in`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in wrk's output:\n%s", out)
	}
	requests, _ = strconv.Atoi(m[1])
	if m := regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`).FindStringSubmatch(out); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.Atoi(v)
			failed += n
		}
	}
	if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		failed += n
	}
	return requests, failed
}
