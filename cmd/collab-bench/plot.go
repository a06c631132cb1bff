package main

import (
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/collabd/collab/internal/bench/stats"
)

type plotData struct {
	ack, deliv *stats.Series
}

// writePlot draws p50 and p99 of both latencies, per second of the run, as
// an SVG file.
func writePlot(path string, r *report) error {
	svg := plotSVG(r)
	return os.WriteFile(path, []byte(svg), 0o644)
}

func plotSVG(r *report) string {
	const (
		W, H                   = 900, 480
		left, right, top, bott = 70, 190, 50, 50
	)
	type line struct {
		name  string
		color string
		dash  string
		pts   []stats.Window
		pick  func(stats.Window) time.Duration
	}
	aw, dw := r.series.ack.Windows(time.Second), r.series.deliv.Windows(time.Second)
	p50 := func(w stats.Window) time.Duration { return w.P50 }
	p99 := func(w stats.Window) time.Duration { return w.P99 }
	lines := []line{
		{"submit→ack p50", "#1f77b4", "", aw, p50},
		{"submit→ack p99", "#1f77b4", "6,4", aw, p99},
		{"submit→others p50", "#d62728", "", dw, p50},
		{"submit→others p99", "#d62728", "6,4", dw, p99},
	}
	maxT, maxY := 1.0, 1.0
	for _, l := range lines {
		for _, w := range l.pts {
			if w.Count > 0 {
				maxT = math.Max(maxT, (w.Start + time.Second).Seconds())
				maxY = math.Max(maxY, ms(l.pick(w)))
			}
		}
	}
	maxY = niceCeil(maxY * 1.05)
	pw, ph := float64(W-left-right), float64(H-top-bott)
	x := func(t float64) float64 { return left + t/maxT*pw }
	y := func(v float64) float64 { return top + ph - v/maxY*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	title := fmt.Sprintf("%s: %d docs × %d editors, %s", r.System, r.Docs, r.Editors, rateText(r.Rate))
	if r.Mode == "trace" {
		title = fmt.Sprintf("%s: trace %s", r.System, r.Trace)
	}
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15">%s</text>`+"\n", left, esc(title))
	// Grid and axes.
	for i := 0; i <= 5; i++ {
		v := maxY * float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, left+pw, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, trimFloat(v))
	}
	step := niceCeil(maxT / 8)
	for t := 0.0; t <= maxT+1e-9; t += step {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(t), H-bott+18, trimFloat(t))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#444"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">seconds since typing started (each point: the submits that ended in that second)</text>`+"\n", left+pw/2, H-12)
	fmt.Fprintf(&b, `<text transform="translate(18,%.0f) rotate(-90)" text-anchor="middle">latency, ms</text>`+"\n", top+ph/2)
	for i, l := range lines {
		var pts []string
		for _, w := range l.pts {
			if w.Count > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(w.Start.Seconds()+0.5), y(ms(l.pick(w)))))
			}
		}
		dash := ""
		if l.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, l.dash)
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", l.color, dash, strings.Join(pts, " "))
		ly := top + 10 + i*22
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", W-right+12, W-right+42, ly, ly, l.color, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", W-right+48, ly+4, esc(l.name))
	}
	for i, t := range []string{
		"whole run:",
		fmt.Sprintf("submit→ack p99 %.1f ms", r.SubmitToAck.P99),
		fmt.Sprintf("submit→others p99 %.1f ms", r.SubmitToOthers.P99),
	} {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11">%s</text>`+"\n", W-right+12, top+110+16*i, esc(t))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func rateText(r float64) string {
	if r == 0 {
		return "as fast as acks allow"
	}
	return fmt.Sprintf("%g edits/s each", r)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
