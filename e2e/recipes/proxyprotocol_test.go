package recipes

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// nginxProxyProtocol is an nginx that takes the PROXY protocol on $PORT,
// as a user would put it behind `--proxy tcp --proxy-protocol`: it
// answers /healthz, and / with the client address the header carried.
const nginxProxyProtocol = `worker_processes 1;
pid DIR/nginx-PORT.pid;
error_log stderr info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path DIR; proxy_temp_path DIR; fastcgi_temp_path DIR; uwsgi_temp_path DIR; scgi_temp_path DIR;
  server {
    listen 127.0.0.1:PORT proxy_protocol;
    location /healthz { return 200 "ok\n"; }
    location / { return 200 "client=$proxy_protocol_addr:$proxy_protocol_port\n"; }
  }
}
`

// TestNginxBehindProxyProtocolSeesClientsAndRollsOut: a real nginx with
// `listen ... proxy_protocol` behind --proxy tcp --proxy-protocol v1 and
// v2, made ready by --ready http:/healthz (baton's probe sends a header
// too, or nginx would close it as a broken header and never be ready):
// every answer names the client's own address and port, and rollouts
// under a connection-per-request load fail nothing.
func TestNginxBehindProxyProtocolSeesClientsAndRollsOut(t *testing.T) {
	if _, err := exec.LookPath("nginx"); err != nil {
		t.Skip("nginx not found: install the Debian package nginx-light (apt-get install -y nginx-light)")
	}
	dir := t.TempDir()
	conf := strings.ReplaceAll(nginxProxyProtocol, "DIR", dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.tmpl"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	run := e2etest.WriteScript(t, dir, "nginx.sh", fmt.Sprintf(`#!/bin/sh
sed "s/PORT/$PORT/g" %[1]s/nginx.tmpl > %[1]s/nginx-$PORT.conf
exec nginx -e stderr -c %[1]s/nginx-$PORT.conf -g 'daemon off;'
`, dir))
	for _, version := range []string{"v1", "v2"} {
		t.Run(version, func(t *testing.T) {
			m := e2etest.StartMaster(t, 2, "--name", "nginxpp"+version, "-w", "2", "-l", "127.0.0.1:0",
				"--mode", "proxy", "--proxy", "tcp", "--proxy-protocol", version, "--ready", "http:/healthz",
				"--stop-signal", "QUIT", "--ready-timeout", "20s", "--", run)
			checkClientSeen(t, m.Addr())

			var ok, failed atomic.Int64
			var firstErr atomic.Value
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						if _, _, err := getOnce(m.Addr()); err != nil {
							failed.Add(1)
							firstErr.CompareAndSwap(nil, err.Error())
						} else {
							ok.Add(1)
						}
					}
				}()
			}
			for i := 0; i < 3; i++ {
				if _, stderr, code := m.Baton("reload", "--name", "nginxpp"+version); code != 0 {
					t.Errorf("reload %d: exit %d: %s", i+1, code, stderr)
				}
			}
			close(stop)
			wg.Wait()
			t.Logf("%d requests over 3 rollouts, %d failed", ok.Load()+failed.Load(), failed.Load())
			if failed.Load() != 0 || ok.Load() == 0 {
				t.Errorf("%d of %d requests failed (first: %v)", failed.Load(), ok.Load()+failed.Load(), firstErr.Load())
			}
			checkClientSeen(t, m.Addr())
		})
	}
}

// checkClientSeen sends a request from a connection of its own and checks
// that nginx saw that connection's address in the PROXY header.
func checkClientSeen(t *testing.T, addr string) {
	t.Helper()
	body, local, err := getOnce(addr)
	if err != nil {
		t.Fatal(err)
	}
	if want := "client=" + local + "\n"; body != want {
		t.Fatalf("nginx saw %q, want %q", body, want)
	}
}

// getOnce sends one GET on a connection of its own, never retried, and
// returns the 200 answer's body and the connection's local address.
func getOnce(addr string) (body, local string, err error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		return "", "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != 200 {
		return "", "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), c.LocalAddr().String(), nil
}
