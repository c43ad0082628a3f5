package main

import (
	"fmt"
	"strconv"
	"strings"
)

// panel is one line plot of a value by worker count, on a linear y axis
// from 0; the worker counts are evenly spaced (each is 4× the last).
type panel struct {
	Title      string
	X, Y, W, H float64
	Values     []float64
	Labels     []string  // one a point, above it
	Tones      []tone    // one a point
	Before     []float64 // hollow grey points, one a worker count; < 0 = none
	BeforeText string    // the hollow points' legend
	NowText    string    // the line's legend, shown with BeforeText
	Target     float64   // a dashed line, when TargetText is set
	TargetText string
	// LegendTop puts the legend (with the target's text as its last row)
	// at the top of the panel instead of halfway up.
	LegendTop bool
}

// footprintChart draws the master's RSS (with its target) and its OS
// threads side by side, by worker count.
func footprintChart(f footprintFigures) *canvas {
	const w, h = 760.0, 360.0
	title := "The master's footprint by worker count"
	c := newCanvas(w, h, title, footprintDesc(title, f))
	c.heading(barPad, title, "bench/footprint.sh: the master supervising examples/hello workers, no load")
	var rss, threads, before, rssBefore []float64
	var rssLabels, threadLabels []string
	var rssTones, threadTones []tone
	workers := make([]string, 0, len(f.Rows))
	for _, r := range f.Rows {
		workers = append(workers, strconv.Itoa(r.Workers))
		rss = append(rss, r.RSSMB)
		rssLabels = append(rssLabels, fixed(r.RSSMB, 1))
		t := toneGood
		if r.Workers == f.TargetWorkers && r.RSSMB > f.TargetRSSMB {
			t = toneBad
		}
		rssTones = append(rssTones, t)
		threads = append(threads, float64(r.Threads))
		threadLabels = append(threadLabels, strconv.Itoa(r.Threads))
		threadTones = append(threadTones, toneGood)
		rb, ok := f.RSSBefore[r.Workers]
		if !ok {
			rb = -1
		}
		rssBefore = append(rssBefore, rb)
		b, ok := f.ThreadsBefore[r.Workers]
		if !ok {
			b = -1
		}
		before = append(before, float64(b))
	}
	left := panel{
		Title: "master RSS, MB", X: 64, Y: 96, W: 290, H: 200,
		Values: rss, Labels: rssLabels, Tones: rssTones,
		Before: rssBefore, BeforeText: "before: start-up pages kept",
		NowText: "now: after 3 rollouts and a status", LegendTop: true,
		Target:     f.TargetRSSMB,
		TargetText: fmt.Sprintf("target ≤ %s MB at %d workers: %s", fixed(f.TargetRSSMB, 0), f.TargetWorkers, rssVerdict(f)),
	}
	right := panel{
		Title: "OS threads", X: 444, Y: 96, W: 290, H: 200,
		Values: threads, Labels: threadLabels, Tones: threadTones,
		Before: before, BeforeText: "before: one wait4 thread a worker",
		NowText: "now: exits awaited on pidfds",
	}
	for _, p := range []panel{left, right} {
		p.draw(c, workers)
	}
	overTarget(c, left, f)
	c.text(w/2, h-14, "workers", textStyle{size: 12, color: colorMuted, anchor: "middle"})
	return c
}

// footprintDesc says in words what the chart shows.
func footprintDesc(title string, f footprintFigures) string {
	var rss, threads []string
	for _, r := range f.Rows {
		m := fmt.Sprintf("%s MB with %d", fixed(r.RSSMB, 1), r.Workers)
		if b, ok := f.RSSBefore[r.Workers]; ok {
			m += fmt.Sprintf(" (%s before)", fixed(b, 1))
		}
		rss = append(rss, m)
		t := fmt.Sprintf("%d with %d", r.Threads, r.Workers)
		if b, ok := f.ThreadsBefore[r.Workers]; ok {
			t += fmt.Sprintf(" (%d before)", b)
		}
		threads = append(threads, t)
	}
	return fmt.Sprintf("%s. Master RSS: %s workers; target at most %s MB at %d workers. OS threads: %s workers.",
		title, strings.Join(rss, ", "), fixed(f.TargetRSSMB, 0), f.TargetWorkers, strings.Join(threads, ", "))
}

// xAt is the x of the i-th of n points.
func (p panel) xAt(i, n int) float64 {
	const inset = 18.0
	if n < 2 {
		return p.X + p.W/2
	}
	return p.X + inset + float64(i)*(p.W-2*inset)/float64(n-1)
}

// yAt maps a value to its y, with the axis from 0 to the top tick.
func (p panel) yAt(v, top float64) float64 { return p.Y + p.H - v/top*p.H }

func (p panel) top() float64 {
	m := p.Target
	for i, v := range p.Values {
		m = max(m, v)
		if i < len(p.Before) {
			m = max(m, p.Before[i])
		}
	}
	t := niceTicks(m)
	return t[len(t)-1]
}

func (p panel) draw(c *canvas, xLabels []string) {
	top, n := p.top(), len(p.Values)
	c.text(p.X, p.Y-12, p.Title, textStyle{bold: true})
	for _, t := range niceTicks(top) {
		y := p.yAt(t, top)
		c.line(p.X, y, p.X+p.W, y, colorGrid, 1, "")
		c.text(p.X-6, y+4, fixed(t, 0), textStyle{size: 11, color: colorMuted, anchor: "end"})
	}
	c.line(p.X, p.Y+p.H, p.X+p.W, p.Y+p.H, colorMuted, 1, "")
	for i, l := range xLabels {
		c.text(p.xAt(i, n), p.Y+p.H+17, l, textStyle{size: 11, color: colorMuted, anchor: "middle"})
	}
	if p.TargetText != "" {
		y := p.yAt(p.Target, top)
		c.line(p.X, y, p.X+p.W, y, colorTarget, 1.5, "6 4")
		if !p.LegendTop {
			c.text(p.X+p.W, y+15, p.TargetText, textStyle{size: 11, color: colorTarget, anchor: "end"})
		}
	}
	xy := make([]float64, 0, 2*n)
	for i, v := range p.Values {
		xy = append(xy, p.xAt(i, n), p.yAt(v, top))
	}
	c.polyline(colorGood, 2, xy...)
	for i, v := range p.Values {
		x, y := p.xAt(i, n), p.yAt(v, top)
		c.circle(x, y, 4, p.Tones[i].color(), false)
		lx, ly, anchor := p.labelAt(i, top)
		c.text(lx, ly, p.Labels[i], textStyle{size: 11, bold: true, anchor: anchor})
	}
	p.drawBefore(c, top)
}

// labelAt places the i-th point's label above it, clear of the line: left
// of the point when the line climbs steeply out of it, under it when the
// point is a sharp valley.
func (p panel) labelAt(i int, top float64) (x, y float64, anchor string) {
	const steep = 12.0 // px
	n := len(p.Values)
	x, y = p.xAt(i, n), p.yAt(p.Values[i], top)
	climbsOut := i+1 < n && y-p.yAt(p.Values[i+1], top) > steep
	fallsIn := i > 0 && y-p.yAt(p.Values[i-1], top) > steep
	switch {
	case climbsOut && fallsIn:
		return x, y + 18, "middle"
	case climbsOut:
		return x + 4, y - 9, "end"
	}
	return x, y - 9, "middle"
}

// drawBefore draws the earlier figures as labelled hollow grey points and
// their legend.
func (p panel) drawBefore(c *canvas, top float64) {
	if p.BeforeText == "" {
		return
	}
	for i, v := range p.Before {
		if v < 0 {
			continue
		}
		x, y := p.xAt(i, len(p.Values)), p.yAt(v, top)
		c.circle(x, y, 4, colorNeutral, true)
		c.text(x-9, y+4, fixed(v, 0), textStyle{size: 11, color: colorMuted, anchor: "end"})
	}
	// Halfway up, where the flat line and the late points leave room; or
	// at the top, where the early points leave it.
	y := p.Y + p.H/2
	if p.LegendTop {
		y = p.Y + 24
	}
	c.circle(p.X+12, y-18, 4, colorGood, false)
	c.text(p.X+22, y-14, p.NowText, textStyle{size: 11, color: colorMuted})
	c.circle(p.X+12, y, 4, colorNeutral, true)
	c.text(p.X+22, y+4, p.BeforeText, textStyle{size: 11, color: colorMuted})
	if p.LegendTop && p.TargetText != "" {
		c.line(p.X+4, y+18, p.X+20, y+18, colorTarget, 1.5, "6 4")
		c.text(p.X+22, y+22, p.TargetText, textStyle{size: 11, color: colorTarget})
	}
}

// rssVerdict says whether the RSS at the target's worker count meets it,
// and by how much it misses.
func rssVerdict(f footprintFigures) string {
	for _, r := range f.Rows {
		if r.Workers == f.TargetWorkers && r.RSSMB > f.TargetRSSMB {
			return fixed(r.RSSMB-f.TargetRSSMB, 1) + " MB over"
		}
	}
	return "met"
}

// overTarget brackets, right of the point at the target's worker count,
// how far the RSS is over its target (the target's label says by how much).
func overTarget(c *canvas, p panel, f footprintFigures) {
	top := p.top()
	for i, r := range f.Rows {
		if r.Workers != f.TargetWorkers || r.RSSMB <= f.TargetRSSMB {
			continue
		}
		x := p.xAt(i, len(f.Rows)) + 10
		y1, y2 := p.yAt(f.TargetRSSMB, top), p.yAt(r.RSSMB, top)
		c.line(x-4, y1, x+4, y1, colorBad, 2, "")
		c.line(x, y1, x, y2, colorBad, 2, "")
		c.line(x-4, y2, x+4, y2, colorBad, 2, "")
	}
}
