package main

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestChartsAreUpToDate keeps the committed SVGs drawn from figures.go:
// a figure changed without re-running the program fails here.
func TestChartsAreUpToDate(t *testing.T) {
	want := map[string]bool{}
	for _, ch := range charts() {
		file := ch.Name + ".svg"
		want[file] = true
		got, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("bench/charts/%s: %v: run go run ./bench/charts", file, err)
			continue
		}
		if string(got) != ch.Render().String() {
			t.Errorf("bench/charts/%s differs from what figures.go draws: run go run ./bench/charts", file)
		}
	}
	files, err := filepath.Glob("*.svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !want[f] {
			t.Errorf("bench/charts/%s is drawn by no chart in charts(): delete it or add its chart", f)
		}
	}
}

// TestChartsAreWellFormed parses every chart as XML and checks that it
// is an <svg> with a non-empty <title> and <desc>, and that no label's
// estimated extent leaves the canvas.
func TestChartsAreWellFormed(t *testing.T) {
	for _, ch := range charts() {
		c := ch.Render()
		dec := xml.NewDecoder(strings.NewReader(c.String()))
		var root string
		texts := map[string]string{}
		var open []string
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s.svg is not well-formed XML: %v", ch.Name, err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				if root == "" {
					root = tok.Name.Local
				}
				open = append(open, tok.Name.Local)
			case xml.EndElement:
				open = open[:len(open)-1]
			case xml.CharData:
				if len(open) > 0 {
					texts[open[len(open)-1]] += string(tok)
				}
			}
		}
		if root != "svg" {
			t.Errorf("%s.svg: root element is %q, want svg", ch.Name, root)
		}
		for _, el := range []string{"title", "desc"} {
			if strings.TrimSpace(texts[el]) == "" {
				t.Errorf("%s.svg has no <%s> for screen readers", ch.Name, el)
			}
		}
		if len(c.overflows) > 0 {
			t.Errorf("%s.svg: labels run off the canvas: %q", ch.Name, c.overflows)
		}
	}
}

// TestChartsAreInBenchmarks checks BENCHMARKS.md shows every chart, with
// alt text.
func TestChartsAreInBenchmarks(t *testing.T) {
	md, err := os.ReadFile(filepath.Join("..", "..", "BENCHMARKS.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range charts() {
		re := regexp.MustCompile(`!\[[^\]\n]+\]\(bench/charts/` + regexp.QuoteMeta(ch.Name) + `\.svg\)`)
		if !re.Match(md) {
			t.Errorf("BENCHMARKS.md does not show bench/charts/%s.svg: add ![alt text](bench/charts/%s.svg) after its table", ch.Name, ch.Name)
		}
	}
}

// TestZeroStillDrawsABar: "nothing failed" is the point of several charts,
// so a zero is drawn as a stub and labelled, never left out.
func TestZeroStillDrawsABar(t *testing.T) {
	ch := reloadChart(reloadFigures{Reloads: 1, Runs: []failedRun{
		{"none failed", "app", 1000, 0},
		{"some failed", "app", 1000, 50},
	}})
	svg := ch.render().String()
	if !regexp.MustCompile(`<rect [^>]*width="3" height="20"[^>]*fill="` + colorGood + `"`).MatchString(svg) {
		t.Errorf("no 3 px stub for the zero bar in:\n%s", svg)
	}
	if !strings.Contains(svg, `font-weight="bold">0</text>`) {
		t.Errorf("the zero bar is not labelled 0 in:\n%s", svg)
	}
}

// TestThroughputRatiosMatchTheirRequests catches a mistyped figure: each
// × direct, as the table rounds it, is close to requests/s over direct's.
func TestThroughputRatiosMatchTheirRequests(t *testing.T) {
	d := throughput.Direct
	for _, r := range throughput.Setups {
		got := float64(r.RPS) / float64(d.RPS)
		if math.Abs(got-r.Ratio) > 0.02 {
			t.Errorf("%s: × direct is %.2f in figures.go but %d / %d req/s = %.3f: check the figures", r.Setup, r.Ratio, r.RPS, d.RPS, got)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		top  float64
		want []float64
	}{
		{123, []float64{0, 25, 50, 75, 100, 125}},
		{1.11, []float64{0, 0.25, 0.5, 0.75, 1, 1.25}},
		{324, []float64{0, 100, 200, 300, 400}},
		{100, []float64{0, 20, 40, 60, 80, 100}},
		{0, []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}},
	} {
		if got := niceTicks(tc.top); !slices.Equal(got, tc.want) {
			t.Errorf("niceTicks(%v) = %v, want %v", tc.top, got, tc.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 331931: "331,931", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{0: "0", -0.01: "0", 12.25: "12.3", 3: "3", 2.04: "2"} {
		if got := num(in); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}
