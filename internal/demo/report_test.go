package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTimelineAndReport(t *testing.T) {
	start := time.Now()
	tl := newTimeline(start)
	for i := 0; i < 100; i++ {
		tl.record(start.Add(time.Duration(i)*20*time.Millisecond), time.Duration(i)*time.Microsecond, true)
	}
	kill := span{start.Add(time.Second), start.Add(1100 * time.Millisecond)}
	tl.record(start.Add(990*time.Millisecond), 20*time.Millisecond, false) // in flight at the kill: counted when it failed
	tl.record(start.Add(1500*time.Millisecond), time.Millisecond, false)   // after it
	r := Report{Timeline: tl.points(), Events: []Event{{Name: "kill -9 of a worker", At: time.Second, OK: true}}, Workers: 2}
	r.OK, r.Failed, r.P50, r.P99, r.Max = tl.totals()
	r.LostInCrash = tl.failedDuring([]span{kill})
	if r.OK != 100 || r.Failed != 2 || r.LostInCrash != 1 || len(r.Timeline) != 2 || r.Timeline[0].Failed != 0 || r.Timeline[1].Failed != 2 {
		t.Fatalf("%+v", r)
	}
	if r.P99 != 99*time.Microsecond || r.Max != 99*time.Microsecond {
		t.Fatalf("p99 %s max %s", r.P99, r.Max)
	}
	var out bytes.Buffer
	r.Print(&out)
	if !strings.Contains(out.String(), "1 failed (and 1 lost") || !strings.Contains(out.String(), "◀ 1 kill -9") {
		t.Fatalf("summary:\n%s", out.String())
	}
	path := filepath.Join(t.TempDir(), "r.html")
	if err := r.WriteHTML(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte("<polyline")) {
		t.Fatalf("no chart in %s", b)
	}
}
