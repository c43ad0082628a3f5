package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/demo"
)

// TestDemoRefusesWhatItCannotRun: a duration of 0 or less, a worker
// count or a port out of range is one line naming the flag and
// what is valid, not a run of the defaults instead.
func TestDemoRefusesWhatItCannotRun(t *testing.T) {
	good := demo.Options{Duration: 30 * time.Second, Workers: 4}
	if err := checkDemoOptions(good); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
	for _, c := range []struct {
		edit func(*demo.Options)
		want string
	}{
		{func(o *demo.Options) { o.Duration = 0 }, "--duration: 0s is not a duration the demo can run"},
		{func(o *demo.Options) { o.Duration = -time.Second }, "want more than 0"},
		{func(o *demo.Options) { o.Workers = 0 }, "--workers: 0 is out of range: valid is 1..64"},
		{func(o *demo.Options) { o.Port = 70000 }, "--port: 70000 is not a port"},
	} {
		o := good
		c.edit(&o)
		err := checkDemoOptions(o)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %v, want one line saying %q", o, err, c.want)
		}
	}
}

// TestScaleWithoutOneCountSaysWhatIsValid: `baton scale` with no count or
// two says what it wants, not cobra's bare "accepts 1 arg(s)".
func TestScaleWithoutOneCountSaysWhatIsValid(t *testing.T) {
	for _, args := range [][]string{{}, {"1", "2"}} {
		c := newScaleCmd()
		err := c.Args(c, args)
		if err == nil || !strings.Contains(err.Error(), "scale: want one worker count (1..1024), e.g. baton scale 4") {
			t.Errorf("scale %q: %v", args, err)
		}
	}
}

// TestClientRefusesANameNoMasterCanHave: `baton status --name ../x` is a
// usage error naming the rule, as `baton run --name ../x` is, not a look
// for a socket outside the runtime directory.
func TestClientRefusesANameNoMasterCanHave(t *testing.T) {
	tg := target{name: "../x", answer: time.Second}
	_, err := tg.client()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), `--name: "../x" is not valid`) {
		t.Errorf("--name ../x: %v, want exit %d naming the rule", err, exitUsage)
	}
}
