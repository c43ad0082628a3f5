package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// The palette: the demo report's blue (internal/demo/report.go) for what
// meets its mark, a red that colour-blind readers still tell from it for
// what misses, grey for references. Every colour is also said in words.
const (
	colorGood    = "#1f77b4"
	colorBad     = "#d62728"
	colorNeutral = "#8c959f"
	colorTarget  = "#24292f"
	colorText    = "#24292f"
	colorMuted   = "#57606a"
	colorGrid    = "#d8dee4"
)

// fontFamily names only fonts a reader's system already has: no web fonts.
const fontFamily = `-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif`

// canvas builds one self-contained SVG document. Coordinates are written
// with one decimal, so the same figures always give the same bytes.
type canvas struct {
	b    strings.Builder
	w, h float64
	// overflows lists the texts whose estimated extent leaves the canvas,
	// for the tests: a longer label in figures.go must not be cut off.
	overflows []string
}

// newCanvas starts a w×h document with its accessible title and
// description and an opaque white background, so the chart reads the same
// on GitHub's light and dark themes.
func newCanvas(w, h float64, title, desc string) *canvas {
	c := &canvas{w: w, h: h}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="title desc" font-family="%s">`+"\n",
		num(w), num(h), num(w), num(h), fontFamily)
	fmt.Fprintf(&c.b, "<title id=\"title\">%s</title>\n<desc id=\"desc\">%s</desc>\n", esc(title), esc(desc))
	fmt.Fprintf(&c.b, `<rect x="0.5" y="0.5" width="%s" height="%s" rx="6" fill="#ffffff" stroke="%s"/>`+"\n", num(w-1), num(h-1), colorGrid)
	return c
}

// String ends the document and returns it.
func (c *canvas) String() string {
	return c.b.String() + "</svg>\n"
}

// heading writes the chart's title and, below it, the subtitle's lines
// (split at "\n"). It returns the y of the subtitle's last baseline.
func (c *canvas) heading(x float64, title, subtitle string) float64 {
	c.text(x, 28, title, textStyle{size: 16, bold: true})
	y := 28.0
	for _, l := range strings.Split(subtitle, "\n") {
		if l != "" {
			y += 18
			c.text(x, y, l, textStyle{size: 12, color: colorMuted})
		}
	}
	return y
}

func (c *canvas) rect(x, y, w, h float64, fill string) {
	fmt.Fprintf(&c.b, `<rect x="%s" y="%s" width="%s" height="%s" rx="2" fill="%s"/>`+"\n", num(x), num(y), num(w), num(h), fill)
}

// line draws a stroke; dash is an SVG dash array or "" for a solid line.
func (c *canvas) line(x1, y1, x2, y2 float64, stroke string, width float64, dash string) {
	d := ""
	if dash != "" {
		d = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	fmt.Fprintf(&c.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`+"\n",
		num(x1), num(y1), num(x2), num(y2), stroke, num(width), d)
}

// polyline joins the points (x0, y0, x1, y1, …).
func (c *canvas) polyline(stroke string, width float64, xy ...float64) {
	pts := make([]string, 0, len(xy)/2)
	for i := 0; i+1 < len(xy); i += 2 {
		pts = append(pts, num(xy[i])+","+num(xy[i+1]))
	}
	fmt.Fprintf(&c.b, `<polyline fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round" points="%s"/>`+"\n",
		stroke, num(width), strings.Join(pts, " "))
}

// circle draws a dot; hollow dots are white inside.
func (c *canvas) circle(x, y, r float64, color string, hollow bool) {
	fill := color
	if hollow {
		fill = "#ffffff"
	}
	fmt.Fprintf(&c.b, `<circle cx="%s" cy="%s" r="%s" fill="%s" stroke="%s" stroke-width="1.5"/>`+"\n", num(x), num(y), num(r), fill, color)
}

// textStyle is how a label is drawn; the zero value is 13 px body text
// anchored at its start.
type textStyle struct {
	size   float64
	bold   bool
	color  string
	anchor string // "start" (default), "middle" or "end"
}

func (c *canvas) text(x, y float64, s string, st textStyle) {
	if st.size == 0 {
		st.size = 13
	}
	if st.color == "" {
		st.color = colorText
	}
	attrs := ""
	if st.bold {
		attrs += ` font-weight="bold"`
	}
	if st.anchor != "" && st.anchor != "start" {
		attrs += fmt.Sprintf(` text-anchor="%s"`, st.anchor)
	}
	fmt.Fprintf(&c.b, `<text x="%s" y="%s" font-size="%s" fill="%s"%s>%s</text>`+"\n", num(x), num(y), num(st.size), st.color, attrs, esc(s))
	w := textWidth(s, st.size)
	if st.bold {
		w *= boldWidth
	}
	left := x
	switch st.anchor {
	case "middle":
		left -= w / 2
	case "end":
		left -= w
	}
	if left < 0 || left+w > c.w {
		c.overflows = append(c.overflows, s)
	}
}

// textWidth estimates the width of s at the given size, on the wide side
// (DejaVu Sans, the widest common fallback), so laid-out labels never
// collide whichever font the reader's system picks.
func textWidth(s string, size float64) float64 {
	return float64(len([]rune(s))) * size * 0.6
}

// boldWidth is how much wider bold text runs than regular.
const boldWidth = 1.05

// num formats a coordinate with at most one decimal: fixed, so rendering
// is deterministic, and without "-0".
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func esc(s string) string { return html.EscapeString(s) }

// niceTicks returns tick values from 0 to a round maximum at or above top,
// at a step of 1, 2, 2.5 or 5 times a power of ten, at most about six of them.
func niceTicks(top float64) []float64 {
	if top <= 0 {
		top = 1
	}
	raw := top / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * pow
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*pow >= raw {
			step = m * pow
			break
		}
	}
	n := int(math.Ceil(top/step - 1e-9))
	ticks := make([]float64, 0, n+1)
	for i := 0; i <= n; i++ {
		ticks = append(ticks, float64(i)*step)
	}
	return ticks
}

// thousands writes n with comma separators, as BENCHMARKS.md does.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fixed formats v with exactly prec decimals.
func fixed(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
