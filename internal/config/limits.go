package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Limits are the per-worker health and recycling options: a worker that
// misses its watchdog, outgrows its memory, has served its requests or
// lived its time is replaced, surge first. Zero values are off.
type Limits struct {
	// Watchdog is --watchdog: a ready worker must ping WATCHDOG=1 (or
	// pass the proxy's liveness probe) at least this often.
	Watchdog time.Duration
	// MaxMemory is --max-memory in bytes: a worker using more is recycled.
	MaxMemory int64
	// MaxRequests is --max-requests (proxy http only): a worker that has
	// served this many requests, plus jitter, is recycled.
	MaxRequests int
	// MaxLifetime is --max-lifetime: a worker ready for this long, plus
	// jitter, is recycled.
	MaxLifetime time.Duration
}

// MinWatchdog is the shortest --watchdog: below it a busy machine's
// scheduling delays alone would fire it.
const MinWatchdog = 100 * time.Millisecond

// sizeUnits are the suffixes --max-memory takes, all powers of 1024 (as
// systemd's MemoryMax= and PM2's max_memory_restart read them).
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KiB": 1 << 10,
	"M": 1 << 20, "MiB": 1 << 20,
	"G": 1 << 30, "GiB": 1 << 30,
	"T": 1 << 40, "TiB": 1 << 40,
}

// sizeForms is what a size may look like, for error messages.
const sizeForms = "use bytes or a whole number with K, M, G or T (also KiB, MiB, GiB, TiB; powers of 1024), e.g. 512M, 1G or 300MiB"

// ParseSize reads a memory size: a whole number of bytes, or a whole
// number followed by K, M, G, T or KiB, MiB, GiB, TiB (powers of 1024).
// "MB"/"GB" are refused rather than guessed at (1000² or 1024²?).
func ParseSize(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	unit, ok := sizeUnits[s[i:]]
	if i == 0 || !ok {
		return 0, fmt.Errorf("%q is not a size: %s", s, sizeForms)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > (1<<62)/unit {
		return 0, fmt.Errorf("%q is too large: %s", s, sizeForms)
	}
	if n == 0 {
		return 0, fmt.Errorf("%q must be greater than 0: %s", s, sizeForms)
	}
	return n * unit, nil
}

// FormatSize renders bytes the way ParseSize reads them, in the largest
// unit that divides them exactly ("512M", "1G", "1536K", "1000").
func FormatSize(n int64) string {
	for _, u := range []string{"T", "G", "M", "K"} {
		if m := sizeUnits[u]; n >= m && n%m == 0 {
			return strconv.FormatInt(n/m, 10) + u
		}
	}
	return strconv.FormatInt(n, 10)
}

// bindLimits defines the limits' flags.
func bindLimits(fs *pflag.FlagSet, r *Raw) {
	fs.StringVar(&r.Watchdog, "watchdog", "", "a ready worker must send WATCHDOG=1 at least every `DUR` (proxy mode without --ready notify: pass a liveness probe), else it is replaced (default off)")
	fs.StringVar(&r.MaxMemory, "max-memory", "", "recycle a worker whose memory exceeds `SIZE` (512M, 1G, 300MiB; default off)")
	fs.IntVar(&r.MaxRequests, "max-requests", 0, "proxy http only: recycle a worker after `N` requests, plus up to 10% jitter (default off)")
	fs.StringVar(&r.MaxLifetime, "max-lifetime", "", "recycle a worker ready for `DUR`, plus up to 10% jitter (default off)")
}

// limits validates the limits; c's mode, proxy and readiness are read.
func (v *validator) limits(r Raw, c *Config) Limits {
	var l Limits
	if r.Watchdog != "" {
		l.Watchdog = v.duration("watchdog", r.Watchdog, 0, true)
		if l.Watchdog > 0 && l.Watchdog < MinWatchdog {
			v.fail("watchdog", "%q is too short: valid is %s or more (workers should ping at half of it)", r.Watchdog, MinWatchdog)
		}
		if c.Mode == ModeInherit && c.Ready.Kind != ReadyNotify {
			v.fail("watchdog", "needs --ready notify in --mode inherit: the worker pings WATCHDOG=1 on its NOTIFY_SOCKET, which --ready %s does not give it (in --mode proxy, a probe of its port stands in)", c.Ready)
		}
	}
	if r.MaxMemory != "" {
		n, err := ParseSize(r.MaxMemory)
		if err != nil {
			v.fail("max_memory", "%v", err)
		}
		l.MaxMemory = n
	}
	switch {
	case r.MaxRequests < 0:
		v.fail("max_requests", "%d is not valid: valid is a number of requests, 1 or more (0 or absent: no limit)", r.MaxRequests)
	case r.MaxRequests > 0 && (c.Mode != ModeProxy || c.Proxy != ProxyHTTP):
		v.fail("max_requests", "only valid with --mode proxy --proxy http: baton counts a worker's requests only when it proxies HTTP (use --max-lifetime or --max-memory otherwise)")
	default:
		l.MaxRequests = r.MaxRequests
	}
	if r.MaxLifetime != "" {
		l.MaxLifetime = v.duration("max_lifetime", r.MaxLifetime, 0, true)
	}
	return l
}

// raw renders the limits that are on as the file's keys.
func (l Limits) raw(r *Raw) {
	if l.Watchdog > 0 {
		r.Watchdog = l.Watchdog.String()
	}
	if l.MaxMemory > 0 {
		r.MaxMemory = FormatSize(l.MaxMemory)
	}
	r.MaxRequests = l.MaxRequests
	if l.MaxLifetime > 0 {
		r.MaxLifetime = l.MaxLifetime.String()
	}
}

// String renders the limits that are on, for logs ("watchdog=5s max_memory=512M").
func (l Limits) String() string {
	var r Raw
	l.raw(&r)
	var parts []string
	for _, kv := range [][2]string{{"watchdog", r.Watchdog}, {"max_memory", r.MaxMemory},
		{"max_requests", strconv.Itoa(r.MaxRequests)}, {"max_lifetime", r.MaxLifetime}} {
		if kv[1] != "" && kv[1] != "0" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}
