package config

import (
	"encoding/json"
	"testing"
	"time"
)

func TestStrategyIsTyped(t *testing.T) {
	for in, want := range map[string]Strategy{"surge": StrategySurge, "replace": StrategyReplace} {
		got, err := ParseStrategy(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseStrategy(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"x", "", "Surge"} {
		_, err := ParseStrategy(bad)
		if err == nil || err.Error() != `"`+bad+`" is not valid: valid is surge or replace` {
			t.Errorf("ParseStrategy(%q): %v", bad, err)
		}
	}
	b, err := json.Marshal(struct{ S Strategy }{StrategyReplace})
	if err != nil || string(b) != `{"S":"replace"}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var back struct{ S Strategy }
	if err := json.Unmarshal(b, &back); err != nil || back.S != StrategyReplace {
		t.Fatalf("unmarshal: %v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"S":"rolling"}`), &back); err == nil {
		t.Fatal("unmarshal of a bad strategy accepted")
	}
	if _, err := Strategy(7).MarshalText(); err == nil {
		t.Fatal("marshal of an out-of-range strategy accepted")
	}
}

func TestReadinessRendersAsTheFlag(t *testing.T) {
	if s := (Readiness{}).String(); s != "notify" {
		t.Errorf("zero readiness is %q", s)
	}
	if s := (Readiness{Kind: ReadyDelay, Delay: 1500 * time.Millisecond}).String(); s != "delay:1.5s" {
		t.Errorf("delay readiness is %q", s)
	}
	c, problems := resolveArgs(t, "-l", ":0", "--ready", "delay:2s", "sh")
	if problems != nil || c.Ready.Kind != ReadyDelay || c.Ready.Delay != 2*time.Second {
		t.Fatalf("%+v %v", c.Ready, problems)
	}
	if b, _ := json.Marshal(ReadyDelay); string(b) != `"delay"` {
		t.Errorf("json %s", b)
	}
}

func TestCheckWorkersIsTheOneRange(t *testing.T) {
	for _, n := range []int{1, MaxWorkers} {
		if err := CheckWorkers(n); err != nil {
			t.Errorf("CheckWorkers(%d): %v", n, err)
		}
	}
	for _, n := range []int{0, -1, MaxWorkers + 1} {
		if err := CheckWorkers(n); err == nil {
			t.Errorf("CheckWorkers(%d) accepted", n)
		}
	}
	if err := CheckWorkers(0); err.Error() != "0 workers is out of range: valid is 1..1024" {
		t.Errorf("message: %v", err)
	}
	_, problems := resolveArgs(t, "-l", ":0", "-w", "2000", "sh")
	if len(problems) != 1 || problems[0].Error() != "--workers: 2000 is out of range: valid is 1..1024" {
		t.Errorf("validator: %v", problems)
	}
}
