package main

import "strings"

// tone says whether a bar meets its mark. The colour follows from it, and
// each chart also says it in the bar's words, for readers who cannot tell
// the colours apart.
type tone int

const (
	toneNeutral tone = iota // a reference, such as the direct baseline
	toneGood                // meets its target, or failed nothing
	toneBad                 // misses its target, or failed requests
)

func (t tone) color() string {
	switch t {
	case toneGood:
		return colorGood
	case toneBad:
		return colorBad
	}
	return colorNeutral
}

// bar is one row of a horizontal bar chart.
type bar struct {
	Label     string  // right-aligned left of the bar
	Detail    string  // a smaller second line under the label
	Value     float64 // the bar's length; 0 still draws a visible stub
	ValueText string  // bold, right of the bar, its target and its range
	Note      string  // small, under the bar
	Tone      tone
	Target    float64 // drawn as a dark marker across the bar when > 0
	Low, High float64 // a range whisker when High > 0
}

// barChart is a horizontal bar chart: one row per bar, a value axis at the
// bottom, an optional dashed reference line (such as "direct = 1.00").
type barChart struct {
	Title, Subtitle, Desc string
	Axis                  string               // says what the axis measures
	TickText              func(float64) string // formats the axis ticks
	Ref                   float64
	RefText               string // the reference line is drawn when set
	Bars                  []bar
}

// The bar chart's fixed geometry, in px.
const (
	barWidth   = 760.0
	barPad     = 20.0
	barRowH    = 52.0
	barH       = 20.0
	barValueSz = 13.0
)

// render lays the chart out and draws it.
func (ch barChart) render() *canvas {
	x0 := barPad + 12
	for _, b := range ch.Bars {
		x0 = max(x0, barPad+textWidth(b.Label, 13)+12, barPad+textWidth(b.Detail, 11)+12)
	}
	ticks := niceTicks(ch.top())
	axisMax := ticks[len(ticks)-1]
	plotW := ch.plotWidth(x0, axisMax, ch.TickText(axisMax))
	x := func(v float64) float64 { return x0 + v/axisMax*plotW }
	// The first row sits under the heading, with room for the reference
	// line's label above it.
	top := 50 + 18*float64(strings.Count(ch.Subtitle, "\n")+1)
	if ch.RefText != "" {
		top += 14
	}
	bottom := top + float64(len(ch.Bars))*barRowH
	c := newCanvas(barWidth, bottom+58, ch.Title, ch.Desc)
	c.heading(barPad, ch.Title, ch.Subtitle)
	for _, t := range ticks {
		c.line(x(t), top-4, x(t), bottom, colorGrid, 1, "")
		c.text(x(t), bottom+17, ch.TickText(t), textStyle{size: 11, color: colorMuted, anchor: "middle"})
	}
	c.line(x0, bottom, x0+plotW, bottom, colorMuted, 1, "")
	c.text(x0, bottom+38, ch.Axis, textStyle{size: 12, color: colorMuted})
	if ch.hasTargets() {
		lx := barWidth - barPad - textWidth("target", 12)
		c.line(lx-10, bottom+27, lx-10, bottom+41, colorTarget, 2.5, "")
		c.text(lx, bottom+38, "target", textStyle{size: 12, color: colorMuted})
	}
	if ch.RefText != "" {
		c.line(x(ch.Ref), top-10, x(ch.Ref), bottom, colorMuted, 1.2, "5 3")
		// Centred on the line, but kept inside the canvas.
		lx := min(x(ch.Ref), barWidth-barPad-textWidth(ch.RefText, 11)/2)
		c.text(lx, top-14, ch.RefText, textStyle{size: 11, color: colorMuted, anchor: "middle"})
	}
	for i, b := range ch.Bars {
		b.draw(c, top+float64(i)*barRowH, x0, x)
	}
	return c
}

// top is the largest value the axis must reach.
func (ch barChart) top() float64 {
	top := ch.Ref
	for _, b := range ch.Bars {
		top = max(top, b.Value, b.Target, b.High)
	}
	return top
}

// plotWidth is as wide as the canvas allows once every value label fits
// right of its bar and the last tick's label fits under the axis.
func (ch barChart) plotWidth(x0, axisMax float64, lastTick string) float64 {
	right := barWidth - barPad - x0
	plotW := right - textWidth(lastTick, 11)/2
	for _, b := range ch.Bars {
		end := max(b.Value, b.Target, b.High) / axisMax
		room := right - 8 - textWidth(b.ValueText, barValueSz)*boldWidth
		if end > 0 && room/end < plotW {
			plotW = room / end
		}
	}
	return plotW
}

func (ch barChart) hasTargets() bool {
	for _, b := range ch.Bars {
		if b.Target > 0 {
			return true
		}
	}
	return false
}

// draw draws one row whose top is at y; x maps a value to its x.
func (b bar) draw(c *canvas, y, x0 float64, x func(float64) float64) {
	by := y + 4
	mid := by + barH/2
	c.text(x0-10, mid+4.5, b.Label, textStyle{anchor: "end"})
	if b.Detail != "" {
		c.text(x0-10, mid+20, b.Detail, textStyle{size: 11, color: colorMuted, anchor: "end"})
	}
	// A zero still gets a stub, so "nothing failed" is drawn, not absent.
	c.rect(x0, by, max(x(b.Value)-x0, 3), barH, b.Tone.color())
	end := max(x(b.Value), x0+3)
	if b.High > 0 {
		c.line(x(b.Low), mid, x(b.High), mid, colorText, 1.5, "")
		c.line(x(b.Low), mid-6, x(b.Low), mid+6, colorText, 1.5, "")
		c.line(x(b.High), mid-6, x(b.High), mid+6, colorText, 1.5, "")
		end = max(end, x(b.High))
	}
	if b.Target > 0 {
		c.line(x(b.Target), by-5, x(b.Target), by+barH+1, colorTarget, 2.5, "")
		// The value goes right after its bar when it fits before the
		// target's marker, else past the marker.
		if x(b.Target)-end < 16+textWidth(b.ValueText, barValueSz)*boldWidth {
			end = max(end, x(b.Target)+1)
		}
	}
	c.text(end+8, mid+4.5, b.ValueText, textStyle{size: barValueSz, bold: true})
	if b.Note != "" {
		c.text(x0, mid+20, b.Note, textStyle{size: 11, color: colorMuted})
	}
}
