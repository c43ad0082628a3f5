package chaos

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/loadtest"
	"github.com/batonhq/baton/internal/supervisor"
)

// fdSlack is how many descriptors above its baseline a master at rest may
// hold: a control connection a client has not closed yet, say.
const fdSlack = 3

// statusJSON is `baton status --json`, as a user or script sees it.
func (c *chaos) statusJSON() (supervisor.Status, bool) {
	var st supervisor.Status
	out, code := c.cli("status", "--json")
	return st, code == 0 && json.Unmarshal([]byte(out), &st) == nil
}

// resting says whether st shows n ready workers and nothing going on.
func resting(st supervisor.Status, n int) bool {
	if len(st.Workers) != n || e2etest.CountState(st, supervisor.Ready) != n || st.Phase != supervisor.PhaseRunning {
		return false
	}
	if st.Rollout != nil && st.Rollout.State == supervisor.RolloutRunning {
		return false
	}
	return st.Master == nil || (st.Master.UpgradingTo == 0 && st.Master.HandingOver == 0)
}

// atRest brings the master back to n ready workers with nothing going on
// (scaling back if chaos changed the count), as `baton status --json`
// shows it, and returns that status and the master's descriptor count
// once it stopped moving; false (with Errorf) if that did not happen in
// time.
func (c *chaos) atRest() (supervisor.Status, int, bool) {
	if st, ok := c.statusJSON(); ok && st.Desired != c.n {
		if out, code := c.cli("scale", strconv.Itoa(c.n)); code != 0 {
			c.t.Errorf("baton scale %d: exit %d\n%s", c.n, code, out)
		}
	}
	var last supervisor.Status
	ok := poll(c.t, fmt.Sprintf("%d ready workers at rest", c.n), 60*time.Second, func() bool {
		st, ok := c.statusJSON()
		last = st
		return ok && resting(st, c.n)
	})
	if !ok {
		c.t.Errorf("%s: the last status: %+v", c.mode.name, last.Workers)
		return last, 0, false
	}
	fds := settledFDs(last.PID, 1500*time.Millisecond, 30*time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, child := range childProcs(last.PID) {
		if argv0(child) == "baton-guard" {
			c.guardians[child] = true
		}
	}
	return last, fds, true
}

// check asserts everything the chaos may not have harmed, then stops the
// master and checks that nothing is left.
func (c *chaos) check() {
	st, fds, ok := c.atRest()
	if !ok {
		return
	}
	c.logCounts(st, fds)
	c.checkServes(st)
	c.checkRequests()
	if base, ok := c.baseline[st.PID]; !ok {
		c.t.Errorf("no descriptor baseline for master %d (masters %v)", st.PID, c.masters)
	} else if fds > base+fdSlack {
		c.t.Errorf("master %d holds %d descriptors at rest after the chaos, %d before it: a leak", st.PID, fds, base)
	}
	if st.PID != c.masters[len(c.masters)-1] {
		c.t.Errorf("the master is pid %d, but the line's last master is %d (masters %v): one died", st.PID, c.masters[len(c.masters)-1], c.masters)
	}
	c.checkProcesses(st)
	c.stopAndCheckNothingLeft(st)
}

func (c *chaos) logCounts(st supervisor.Status, fds int) {
	actions := make([]string, 0, len(c.counts))
	for what, n := range c.counts {
		actions = append(actions, fmt.Sprintf("%s: %d", what, n))
	}
	sort.Strings(actions)
	c.t.Logf("%s: chaos for %s: %s", c.mode.name, time.Since(c.start).Round(time.Second), strings.Join(actions, ", "))
	c.t.Logf("%s: masters %v, descriptors at rest by master %v, now %d; %d workers ready, generation %d",
		c.mode.name, c.masters, c.baseline, fds, e2etest.CountState(st, supervisor.Ready), st.Generation)
}

// checkServes sends a few requests on fresh connections: all must succeed.
func (c *chaos) checkServes(st supervisor.Status) {
	res, err := loadtest.Run(c.t.Context(), loadtest.Options{Addr: st.Sockets[0].Address, Method: c.mode.method, Conns: 4, Requests: 200})
	if err != nil || res.OK != 200 {
		c.t.Errorf("after the chaos the master does not serve: %v %s", err, res)
	}
}

// checkRequests attributes every failed request: in inherit mode to a
// worker killed with it in flight, or to a worker frozen until the
// request timed out; behind --proxy http only the latter may fail.
func (c *chaos) checkRequests() {
	res, fails := c.load.result()
	var killed, frozen int
	var unexplained []string
	for _, f := range fails {
		switch {
		case !c.mode.retried && overlapsAny(f, c.kills):
			killed++
		case f.to.Sub(f.from) >= loadtest.DefaultRequestTimeout-100*time.Millisecond && overlapsAny(f, c.stops):
			frozen++
		default:
			unexplained = append(unexplained, fmt.Sprintf("+%s..+%s", f.from.Sub(c.start).Round(time.Millisecond), f.to.Sub(c.start).Round(time.Millisecond)))
		}
	}
	c.t.Logf("%s: %d %s requests, %d ok, %d failed: %d in flight on a worker killed by SIGKILL, %d timed out on a stopped worker, %d unexplained; errors %v",
		c.mode.name, res.Sent, c.mode.method, res.OK, res.Failed, killed, frozen, len(unexplained), res.Errors)
	if res.OK == 0 {
		c.t.Errorf("no request succeeded: the load did not run")
	}
	if len(unexplained) > 0 {
		c.t.Errorf("%s: %d requests failed outside any kill -9 window (in flight at %s); first errors %v",
			c.mode.name, len(unexplained), strings.Join(unexplained[:min(10, len(unexplained))], ", "), res.FirstErrors)
	}
}

func overlapsAny(s span, windows []span) bool {
	return slices.ContainsFunc(windows, s.overlaps)
}

// checkProcesses: the processes carrying the marker are exactly the
// workers; the master's children are its workers and one guardian; no
// zombie; every replaced master and its guardian are gone.
func (c *chaos) checkProcesses(st supervisor.Status) {
	workers := e2etest.PIDs(st)
	slices.Sort(workers)
	marked := markedPIDs(c.marker)
	slices.Sort(marked)
	if !slices.Equal(marked, workers) {
		c.t.Errorf("processes carrying the marker %v, the master's workers %v: a process was left behind", marked, workers)
	}
	guardians := 0
	for _, child := range childProcs(st.PID) {
		switch {
		case slices.Contains(workers, child):
		case argv0(child) == "baton-guard":
			guardians++
		default:
			c.t.Errorf("master %d has a child %d (%q) that is neither a worker nor the guardian", st.PID, child, argv0(child))
		}
	}
	if guardians != 1 {
		c.t.Errorf("master %d has %d guardians, want 1", st.PID, guardians)
	}
	poll(c.t, "no zombie child of the master", 5*time.Second, func() bool { return len(zombieChildren(st.PID)) == 0 })
	for _, pid := range c.masters[:len(c.masters)-1] {
		poll(c.t, fmt.Sprintf("replaced master %d to exit", pid), 30*time.Second, func() bool { return !e2etest.Alive(pid) })
	}
	for g := range c.guardians {
		if ppid, ok := readProc(g); ok && ppid.ppid != st.PID {
			poll(c.t, fmt.Sprintf("the replaced master's guardian %d to exit", g), 30*time.Second, func() bool { return !e2etest.Alive(g) })
		}
	}
}

// stopAndCheckNothingLeft stops the master: it, its workers and its
// guardian must all be gone.
func (c *chaos) stopAndCheckNothingLeft(st supervisor.Status) {
	if out, code := c.cli("stop", "--timeout", "60s"); code != 0 {
		c.t.Errorf("baton stop: exit %d\n%s", code, out)
	}
	poll(c.t, "the master to exit", 30*time.Second, func() bool { return !e2etest.Alive(st.PID) })
	poll(c.t, "no process carrying the marker", 30*time.Second, func() bool { return len(markedPIDs(c.marker)) == 0 })
	for g := range c.guardians {
		poll(c.t, fmt.Sprintf("guardian %d to exit", g), 30*time.Second, func() bool { return !e2etest.Alive(g) })
	}
	if out := c.u.Output(); strings.Contains(out, "panic:") || strings.Contains(out, "fatal error:") {
		c.t.Errorf("a master panicked:\n%s", out)
	}
}
