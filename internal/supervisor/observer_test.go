package supervisor

import (
	"testing"

	"github.com/batonhq/baton/internal/proc"
)

// observedProc is a process that wants to hear when it is counted ready
// (proxy mode's, which joins the rotation then).
type observedProc struct {
	*fakeProc
	marked int
}

func (p *observedProc) MarkedReady() { p.marked++ }

func (p *observedProc) ProxyStatus() proc.ProxyStatus {
	return proc.ProxyStatus{Port: 4242, Open: 3, InRotation: p.marked > 0}
}

func TestReadyIsToldToAnObservingProcessAndItsProxyFiguresShow(t *testing.T) {
	s := New(Options{})
	s.spec = &Spec{}
	p := &observedProc{fakeProc: &fakeProc{pid: 7}}
	w := &worker{id: 1, state: Starting, proc: p, pid: 7, spec: s.spec}
	s.workers[w.id] = w
	s.markReady(w, CauseNotified)
	if p.marked != 1 || w.state != Ready {
		t.Fatalf("marked %d times, state %s", p.marked, w.state)
	}
	st := s.snapshot()
	if len(st.Workers) != 1 || st.Workers[0].Proxy == nil || *st.Workers[0].Proxy != (proc.ProxyStatus{Port: 4242, Open: 3, InRotation: true}) {
		t.Fatalf("status %+v", st.Workers)
	}
}
