package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// report logs the series: about 25 rows, evenly spread, and the last.
func (s *soak) report() {
	var b strings.Builder
	b.WriteString("step            master   fds  goroutines  threads  rss_MB\n")
	step := max(1, len(s.samples)/30)
	for i, m := range s.samples {
		if i%step == 0 || i == s.phase-1 || i == len(s.samples)-1 {
			fmt.Fprintf(&b, "%-15s %-8d %-4d %-11d %-8d %.1f\n", m.step, m.pid, m.fds, m.goroutines, m.threads, float64(m.rssKB)/1024)
		}
	}
	s.t.Logf("soak series (%d samples):\n%s", len(s.samples), b.String())
}

// checkFlat compares, in each phase (the rollouts on one master, then
// the upgrades), the median of its first tenth of samples with the median
// of its last tenth, for each figure, with a generous slack.
func (s *soak) checkFlat() {
	s.checkPhaseFlat("rollouts", s.samples[1:s.phase]) // the first sample is before any rollout
	s.checkPhaseFlat("upgrades", s.samples[s.phase:])
}

func (s *soak) checkPhaseFlat(phase string, samples []soakSample) {
	n := len(samples)
	if n < 4 {
		s.t.Logf("soak: %s: %d samples, too few to compare early and late", phase, n)
		return
	}
	w := max(2, n/10)
	early, late := samples[:w], samples[n-w:]
	for _, f := range []struct {
		name  string
		get   func(soakSample) int
		slack func(int) int
	}{
		{"descriptors", func(m soakSample) int { return m.fds }, func(e int) int { return e + 4 }},
		{"goroutines", func(m soakSample) int { return m.goroutines }, func(e int) int { return e + e/4 + 10 }},
		{"threads", func(m soakSample) int { return m.threads }, func(e int) int { return e + e/2 + 4 }},
		{"RSS kB", func(m soakSample) int { return m.rssKB }, func(e int) int { return e + e/2 + 16*1024 }},
	} {
		e, l := median(early, f.get), median(late, f.get)
		s.t.Logf("soak: %s: %s early %d, late %d (allowed up to %d)", phase, f.name, e, l, f.slack(e))
		if l > f.slack(e) {
			s.t.Errorf("soak: %s: the master's %s grew from %d to %d: a leak", phase, f.name, e, l)
		}
	}
}

func median(ms []soakSample, get func(soakSample) int) int {
	v := make([]int, 0, len(ms))
	for _, m := range ms {
		v = append(v, get(m))
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// stopClean stops the line: nothing of it may remain in the control
// directory but the log.
func (s *soak) stopClean() {
	pid := s.u.MustStatus().PID
	s.u.Stop()
	e2etest.WaitFor(s.t, "the master to exit", 60*time.Second, func() bool { return !e2etest.Alive(pid) })
	e2etest.WaitFor(s.t, "a clean control directory after the stop", 10*time.Second, func() bool {
		_, sockErr := os.Lstat(filepath.Join(s.u.Dir, "c.sock"))
		_, lockErr := os.Lstat(filepath.Join(s.u.Dir, "c.sock.lock"))
		return s.controlDirClean(-1, 0) == "" && os.IsNotExist(sockErr) && os.IsNotExist(lockErr)
	})
}
