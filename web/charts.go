package web

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/projections"
)

// The analytics dashboards: charts drawn on the server as SVG, from the
// analytics projection through the same app reads as api/analytics.go; no
// chart library and no script. Each chart is an <svg role="img"> with a
// <title> and a <desc> that states the figures, and text labels on every
// bar or point, so it reads without sight of the shapes.

// point is one labelled value of a chart. V is the value as shown; the
// chart's geometry only scales it to pixels.
type point struct {
	Label string
	V     decimal.Decimal
	Text  string // the value as written on the chart
}

type series struct {
	Name   string
	Points []point
}

const (
	chartW, chartH         = 640, 240
	padL, padR, padT, padB = 44, 12, 16, 40
)

// palette holds colours with at least 3:1 contrast on white.
var palette = []string{"#0b57d0", "#b3261e", "#137333", "#7a4100", "#5b2e91"}

func scale(v, max decimal.Decimal, span float64) float64 {
	if !max.IsPositive() {
		return 0
	}
	return v.Div(max).InexactFloat64() * span
}

func svgOpen(b *strings.Builder, id, title, desc string) {
	fmt.Fprintf(b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`, id, chartW, chartH, id, id)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, html.EscapeString(title), id, html.EscapeString(desc))
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#57606a"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
}

func describe(s []series) string {
	var parts []string
	for _, se := range s {
		var ps []string
		for _, p := range se.Points {
			ps = append(ps, p.Label+": "+p.Text)
		}
		prefix := ""
		if se.Name != "" {
			prefix = se.Name + " — "
		}
		parts = append(parts, prefix+strings.Join(ps, ", "))
	}
	return strings.Join(parts, "; ") + "."
}

func maxOf(s []series) decimal.Decimal {
	m := decimal.Zero
	for _, se := range s {
		for _, p := range se.Points {
			m = decimal.Max(m, p.V)
		}
	}
	return m
}

// barChart draws one series as labelled bars.
func barChart(id, title string, se series) template.HTML {
	var b strings.Builder
	svgOpen(&b, id, title, describe([]series{se}))
	n := len(se.Points)
	if n == 0 {
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	max := maxOf([]series{se})
	slot := float64(chartW-padL-padR) / float64(n)
	plotH := float64(chartH - padT - padB)
	for i, p := range se.Points {
		h := scale(p.V, max, plotH)
		x := float64(padL) + float64(i)*slot + slot*0.15
		y := float64(chartH-padB) - h
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y, slot*0.7, h, palette[0])
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="#1b1f24">%s</text>`, x+slot*0.35, y-4, html.EscapeString(p.Text))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="12" fill="#1b1f24">%s</text>`, x+slot*0.35, chartH-padB+16, html.EscapeString(p.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// lineChart draws series as lines with labelled points and a legend.
func lineChart(id, title string, ss []series) template.HTML {
	var b strings.Builder
	svgOpen(&b, id, title, describe(ss))
	max := maxOf(ss)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	for si, se := range ss {
		colour := palette[si%len(palette)]
		n := len(se.Points)
		step := plotW
		if n > 1 {
			step = plotW / float64(n-1)
		}
		var pts []string
		for i, p := range se.Points {
			x := float64(padL) + float64(i)*step
			if n == 1 {
				x = float64(padL) + plotW/2
			}
			y := float64(chartH-padB) - scale(p.V, max, plotH)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, x, y, colour)
			if len(ss) == 1 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="#1b1f24">%s</text>`, x, y-6, html.EscapeString(p.Text))
			}
			if si == 0 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="12" fill="#1b1f24">%s</text>`, x, chartH-padB+16, html.EscapeString(p.Label))
			}
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), colour)
		if se.Name != "" {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="12" fill="#1b1f24">%s</text>`,
				padL+si*120, chartH-14, colour, padL+si*120+14, chartH-5, html.EscapeString(se.Name))
		}
	}
	fmt.Fprintf(&b, `<text x="4" y="%d" font-size="12" fill="#1b1f24">%s</text>`, padT+4, html.EscapeString(max.String()))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type analyticsData struct {
	Months      int
	Choices     []int
	Approval    template.HTML
	TimeToApp   template.HTML
	Utilisation template.HTML
	Conflicts   template.HTML
	Resolution  template.HTML
	Partners    template.HTML
	Consistency projections.Consistency
	Total       projections.RegistrationMetrics
}

func percent(r projections.Ratio) (decimal.Decimal, string) {
	if r.Value == nil {
		return decimal.Zero, "–"
	}
	v := r.Value.Mul(decimal.NewFromInt(100)).Round(1)
	return v, v.String() + "%"
}

func hours(d time.Duration) (decimal.Decimal, string) {
	v := decimal.NewFromInt(int64(d / time.Minute)).Div(decimal.NewFromInt(60)).Round(1)
	return v, v.String() + " h"
}

// analytics draws the dashboards over the last months (?months=, 1–24,
// default 6), a bucket per calendar month.
func (h *Handler) analytics(w http.ResponseWriter, r *http.Request, s app.Session) {
	l := h.newPage(w, r, "", nil).L
	months := 6
	if n, err := strconv.Atoi(r.URL.Query().Get("months")); err == nil && n >= 1 && n <= 24 {
		months = n
	}
	now := h.app.Clock().Now().UTC()
	end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	start := end.AddDate(0, -months, 0)
	approval, tta, util, opened, resolution := series{}, series{}, series{}, series{}, series{}
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		f := projections.AnalyticsFilter{From: m, To: m.AddDate(0, 1, 0)}
		label := m.Format("2006-01")
		ra, err := h.app.RegistrationAnalytics(s.Caller, f, nil)
		if err != nil {
			h.failErr(w, r, err)
			return
		}
		v, t := percent(ra.Total.ApprovalRate)
		approval.Points = append(approval.Points, point{label, v, t})
		v, t = hours(ra.Total.TimeToApproval.Median)
		tta.Points = append(tta.Points, point{label, v, t})
		v, t = percent(ra.Total.Utilisation)
		util.Points = append(util.Points, point{label, v, t})
		ca, err := h.app.ConflictAnalytics(s.Caller, f)
		if err != nil {
			h.failErr(w, r, err)
			return
		}
		opened.Points = append(opened.Points, point{label, decimal.NewFromInt(int64(ca.Opened)), strconv.Itoa(ca.Opened)})
		v, t = hours(ca.TimeToResolution.Median)
		resolution.Points = append(resolution.Points, point{label, v, t})
	}
	whole := projections.AnalyticsFilter{From: start, To: end}
	top, err := h.app.TopPartners(s.Caller, whole, 5, "month")
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	var trends []series
	for _, t := range top {
		se := series{Name: h.partnerName(t.PartnerID)}
		for _, b := range t.Buckets {
			se.Points = append(se.Points, point{b.Start.Format("2006-01"), decimal.NewFromInt(int64(b.Submitted)), strconv.Itoa(b.Submitted)})
		}
		trends = append(trends, se)
	}
	cons, err := h.app.Consistency(s.Caller, whole)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	total, err := h.app.RegistrationAnalytics(s.Caller, whole, nil)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	d := analyticsData{
		Months:      months,
		Choices:     []int{3, 6, 12, 24},
		Approval:    lineChart("chart-approval", l.T("console.analytics.approval"), []series{approval}),
		TimeToApp:   barChart("chart-time-to-approve", l.T("console.analytics.time-to-approve"), tta),
		Utilisation: lineChart("chart-utilisation", l.T("console.analytics.utilisation"), []series{util}),
		Conflicts:   barChart("chart-conflicts", l.T("console.analytics.conflicts"), opened),
		Resolution:  barChart("chart-resolution", l.T("console.analytics.resolution"), resolution),
		Partners:    lineChart("chart-partners", l.T("console.analytics.partners"), trends),
		Consistency: cons,
		Total:       total.Total,
	}
	h.render(w, http.StatusOK, "console_analytics", h.newPage(w, r, "console.analytics.title", d))
}
