package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/projections"
)

var queueOpen = projections.QueueFilter{Status: "open"}

// Metrics are the server's Prometheus metrics, served at /metrics. Request
// and commit figures are observed as they happen; the state of the program
// (projection lag, SLA breaches, registrations by status) is read from the
// views at each scrape, so it is never stale and costs nothing between
// scrapes.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	commits  prometheus.Histogram
	events   prometheus.Histogram
	batch    prometheus.Histogram
}

// NewMetrics returns the metrics of one server, with the Go runtime's and
// the process's collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dealreg_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route (the path template), method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		commits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dealreg_ledger_commit_duration_seconds",
			Help:    "Time of one group commit of the ledger, from its transaction's start until durable.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		events: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dealreg_ledger_commit_events",
			Help:    "Events appended by one group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dealreg_ledger_commit_requests",
			Help:    "Append requests committed together by one group commit (the batch size).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
	}
	m.reg.MustRegister(m.requests, m.commits, m.events, m.batch,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveCommit records one group commit of the ledger; it is meant for
// eventstore.Options.OnCommit.
func (m *Metrics) ObserveCommit(st eventstore.CommitStats) {
	m.commits.Observe(st.Took.Seconds())
	m.events.Observe(float64(st.Events))
	m.batch.Observe(float64(st.Requests))
}

// observe records one answered request.
func (m *Metrics) observe(route, method string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched" // never the raw path: it would grow labels without bound
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())
}

// programCollector reads the program's state from the views at scrape time.
type programCollector struct {
	s                               *Server
	lagEvents, lagSeconds           *prometheus.Desc
	reviewOverdue, conflictsOverdue *prometheus.Desc
	reviewQueue, conflictsOpen      *prometheus.Desc
	byStatus                        *prometheus.Desc
}

func newProgramCollector(s *Server) *programCollector {
	return &programCollector{
		s:                s,
		lagEvents:        prometheus.NewDesc("dealreg_projection_lag_events", "Ledger events the views have not applied yet.", nil, nil),
		lagSeconds:       prometheus.NewDesc("dealreg_projection_lag_seconds", "Age of the oldest ledger event the views have not applied yet (0 when caught up).", nil, nil),
		reviewQueue:      prometheus.NewDesc("dealreg_review_queue_registrations", "Registrations awaiting a reviewer's decision.", nil, nil),
		reviewOverdue:    prometheus.NewDesc("dealreg_review_sla_breaches", "Registrations awaiting a decision past the review SLA of their policy version.", nil, nil),
		conflictsOpen:    prometheus.NewDesc("dealreg_conflicts_open", "Open conflict cases, by escalation level.", []string{"level"}, nil),
		conflictsOverdue: prometheus.NewDesc("dealreg_conflict_sla_breaches", "Open conflict cases past their SLA due time, by escalation level.", []string{"level"}, nil),
		byStatus:         prometheus.NewDesc("dealreg_registrations", "Registrations by status.", []string{"status"}, nil),
	}
}

func (p *programCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.lagEvents, p.lagSeconds, p.reviewQueue, p.reviewOverdue, p.conflictsOpen, p.conflictsOverdue, p.byStatus} {
		ch <- d
	}
}

func (p *programCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	svc := p.s.app
	now := svc.Clock().Now()
	applied, head := svc.CaughtUp(ctx)
	lag, age := uint64(0), 0.0
	if head > applied {
		lag = head - applied
		if recs, err := p.s.store.ReadAll(ctx, domain.ReadAllOptions{From: applied, Count: 1}); err == nil && len(recs) == 1 {
			age = max(0, now.Sub(recs[0].RecordedAt).Seconds())
		}
	}
	ch <- prometheus.MustNewConstMetric(p.lagEvents, prometheus.GaugeValue, float64(lag))
	ch <- prometheus.MustNewConstMetric(p.lagSeconds, prometheus.GaugeValue, age)
	if !svc.Ready() {
		return // the views are still catching up: only the lag means something
	}
	// A view that cannot answer shows as a failed series in the scrape
	// (promhttp reports it), never as a silent gap.
	if items, err := svc.Registrations.ReviewQueue(0); err != nil {
		ch <- prometheus.NewInvalidMetric(p.reviewQueue, err)
	} else {
		overdue := 0
		for _, it := range items {
			if it.Overdue(now) {
				overdue++
			}
		}
		ch <- prometheus.MustNewConstMetric(p.reviewQueue, prometheus.GaugeValue, float64(len(items)))
		ch <- prometheus.MustNewConstMetric(p.reviewOverdue, prometheus.GaugeValue, float64(overdue))
	}
	open, late := map[int]int{}, map[int]int{}
	for _, v := range svc.Conflicts.Queue(queueOpen) {
		open[v.Level]++
		if now.After(v.DueAt) {
			late[v.Level]++
		}
	}
	for level, n := range open {
		l := strconv.Itoa(level)
		ch <- prometheus.MustNewConstMetric(p.conflictsOpen, prometheus.GaugeValue, float64(n), l)
		ch <- prometheus.MustNewConstMetric(p.conflictsOverdue, prometheus.GaugeValue, float64(late[level]), l)
	}
	if counts, err := svc.Registrations.CountByStatus(); err != nil {
		ch <- prometheus.NewInvalidMetric(p.byStatus, err)
	} else {
		for st, n := range counts {
			ch <- prometheus.MustNewConstMetric(p.byStatus, prometheus.GaugeValue, float64(n), string(st))
		}
	}
}

// metrics serves /metrics in Prometheus's text format, to an admin's or an
// auditor's token (a scraper sends it as a bearer token): the figures are
// the whole program's, never a partner's to read.
func (s *Server) metrics(c echo.Context) error {
	if err := requireRole(c, "read the metrics", domain.RoleAdmin, domain.RoleAuditor); err != nil {
		return err
	}
	s.metricsHandler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// newMetricsHandler registers the program's collector with m and returns
// the handler of /metrics.
func (s *Server) newMetricsHandler(m *Metrics) http.Handler {
	m.reg.MustRegister(newProgramCollector(s))
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil, ErrorHandling: promhttp.ContinueOnError})
}
