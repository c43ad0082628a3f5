package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "4096": 4096, "100B": 100, "512K": 512 << 10, "512KiB": 512 << 10, "512M": 512 << 20,
		"300MiB": 300 << 20, "1G": 1 << 30, "2GiB": 2 << 30, "1T": 1 << 40,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "M", "0", "0M", "-1M", "1.5G", "512MB", "1GB", "1 G", " 1G", "1g", "1Gi", "10X", "99999999999T"} {
		if _, err := ParseSize(bad); err == nil || !strings.Contains(err.Error(), "512M, 1G or 300MiB") {
			t.Errorf("ParseSize(%q): %v, want an error naming the valid forms", bad, err)
		}
	}
	for _, n := range []int64{1, 1000, 1536 << 10, 512 << 20, 1 << 30, 3 << 40} {
		if back, err := ParseSize(FormatSize(n)); err != nil || back != n {
			t.Errorf("FormatSize(%d) = %q reads back as %d, %v", n, FormatSize(n), back, err)
		}
	}
}

func TestLimitsFromFlagsAndFile(t *testing.T) {
	c := valid(t, "-l", ":0", "--watchdog", "5s", "--max-memory", "512M", "--max-lifetime", "1h", "sh")
	want := Limits{Watchdog: 5 * time.Second, MaxMemory: 512 << 20, MaxLifetime: time.Hour}
	if c.Limits != want {
		t.Fatalf("limits %+v, want %+v", c.Limits, want)
	}
	if s := c.Limits.String(); s != "watchdog=5s max_memory=512M max_lifetime=1h0m0s" {
		t.Fatalf("String %q", s)
	}
	p := writeFile(t, "listen = [\":0\"]\nmode = \"proxy\"\nproxy = \"http\"\nwatchdog = \"2s\"\nmax_requests = 1000\nmax_memory = \"1G\"\ncommand = [\"sh\"]\n")
	c = valid(t, "-c", p)
	if c.Limits != (Limits{Watchdog: 2 * time.Second, MaxRequests: 1000, MaxMemory: 1 << 30}) {
		t.Fatalf("from the file: %+v", c.Limits)
	}
	// What `baton check` prints reads back as the same limits.
	r := c.Raw()
	if r.Watchdog != "2s" || r.MaxRequests != 1000 || r.MaxMemory != "1G" || r.MaxLifetime != "" {
		t.Fatalf("rendered %+v", r)
	}
	if c := valid(t, "-l", ":0", "--max-requests", "0", "sh"); c.Limits != (Limits{}) {
		t.Fatalf("0 is no limit: %+v", c.Limits)
	}
	// A proxy worker without notify readiness is probed instead.
	valid(t, "-l", ":0", "--mode", "proxy", "--watchdog", "1s", "sh")
}

func TestLimitsBadInput(t *testing.T) {
	onlyProblem(t, `--max-memory: "512MB" is not a size: use bytes or a whole number with K, M, G or T (also KiB, MiB, GiB, TiB; powers of 1024), e.g. 512M, 1G or 300MiB`,
		"-l", ":0", "--max-memory", "512MB", "sh")
	onlyProblem(t, `--watchdog: "soon" is not a duration: use a Go duration such as 500ms, 30s or 2m`,
		"-l", ":0", "--watchdog", "soon", "sh")
	onlyProblem(t, `--watchdog: "10ms" is too short: valid is 100ms or more (workers should ping at half of it)`,
		"-l", ":0", "--watchdog", "10ms", "sh")
	onlyProblem(t, `--watchdog: needs --ready notify in --mode inherit: the worker pings WATCHDOG=1 on its NOTIFY_SOCKET, which --ready delay:1s does not give it (in --mode proxy, a probe of its port stands in)`,
		"-l", ":0", "--watchdog", "5s", "--ready", "delay:1s", "sh")
	onlyProblem(t, `--max-lifetime: "0s" must be greater than 0`, "-l", ":0", "--max-lifetime", "0s", "sh")
	onlyProblem(t, `--max-requests: -5 is not valid: valid is a number of requests, 1 or more (0 or absent: no limit)`,
		"-l", ":0", "--max-requests", "-5", "sh")
	onlyProblem(t, `--max-requests: only valid with --mode proxy --proxy http: baton counts a worker's requests only when it proxies HTTP (use --max-lifetime or --max-memory otherwise)`,
		"-l", ":0", "--max-requests", "50", "sh")
	onlyProblem(t, `--max-requests: only valid with --mode proxy --proxy http: baton counts a worker's requests only when it proxies HTTP (use --max-lifetime or --max-memory otherwise)`,
		"-l", ":0", "--mode", "proxy", "--max-requests", "50", "sh")
	p := writeFile(t, "listen = [\":0\"]\nmax_memory = \"lots\"\ncommand = [\"sh\"]\n")
	_, problems := resolveArgs(t, "-c", p)
	if len(problems) != 1 || !strings.HasPrefix(problems[0].Error(), p+`: key "max_memory": "lots" is not a size`) {
		t.Fatalf("file key: %v", problems)
	}
}
