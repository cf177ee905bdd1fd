package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// The bounds of GET /v1/analytics/top-partners' limit.
const (
	defaultTopPartners = 5
	maxTopPartners     = 100
)

func (s *Server) analyticsRoutes(g router) {
	g.GET("/analytics/registrations", s.registrationAnalytics)
	g.GET("/analytics/conflicts", s.conflictAnalytics)
	g.GET("/analytics/consistency", s.consistency)
	g.GET("/analytics/top-partners", s.topPartners)
	g.GET("/analytics/ratings", s.ratings)
	g.POST("/registrations/:id/rating", s.rateRegistration)
}

// analyticsFilter reads the period, the filters and the moment (as_of or
// position) every analytics query shares, with a field error for each bad
// one.
func (s *Server) analyticsFilter(c echo.Context) (projections.AnalyticsFilter, []domain.FieldError, error) {
	f, fields := periodFilter(c)
	m, err := momentParam(c)
	var de *domain.Error
	if errors.As(err, &de) {
		return f, append(fields, de.Fields...), nil
	}
	if err != nil || fields != nil {
		return f, fields, err
	}
	return f, nil, s.app.AnalyticsAt(c.Request().Context(), &f, m)
}

func periodFilter(c echo.Context) (projections.AnalyticsFilter, []domain.FieldError) {
	q := c.QueryParams()
	var fields []domain.FieldError
	f := projections.AnalyticsFilter{PartnerID: q.Get("partner"), Region: q.Get("region"), Tier: q.Get("tier")}
	at := func(name string) time.Time {
		v := q.Get(name)
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			fields = append(fields, domain.FieldError{Field: name, Code: domain.FieldInvalid, Message: "must be an RFC 3339 time such as 2026-04-01T00:00:00Z"})
		}
		return t.UTC()
	}
	f.From, f.To = at("from"), at("to")
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fields = append(fields, domain.FieldError{Field: "to", Code: domain.FieldOutOfRange, Message: "must be after from"})
	}
	if f.Tier != "" && !slices.Contains([]domain.PartnerTier{domain.TierRegistered, domain.TierSilver, domain.TierGold, domain.TierPlatinum}, domain.PartnerTier(f.Tier)) {
		fields = append(fields, domain.FieldError{Field: "tier", Code: domain.FieldInvalid, Message: "must be one of: registered, silver, gold, platinum"})
	}
	switch q.Get("explain") {
	case "", "false":
	case "true":
		f.Explain = true
	default:
		fields = append(fields, domain.FieldError{Field: "explain", Code: domain.FieldInvalid, Message: "must be true or false"})
	}
	return f, fields
}

func invalidQuery(fields []domain.FieldError) error {
	return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: fields}
}

// DurationFigures are DurationStats as the API shows them: the median and
// 90th percentile as ISO 8601 durations and in whole seconds (null when
// nothing was counted), and with explain the spans counted.
type DurationFigures struct {
	Count         int                `json:"count"`
	Median        *Duration          `json:"median"`
	P90           *Duration          `json:"p90"`
	MedianSeconds *int64             `json:"median_seconds"`
	P90Seconds    *int64             `json:"p90_seconds"`
	Explain       []projections.Span `json:"explain,omitempty"`
}

func durationFigures(d projections.DurationStats) DurationFigures {
	out := DurationFigures{Count: d.Count, Explain: d.Explain}
	if d.Count > 0 {
		m, p := Duration(d.Median), Duration(d.P90)
		ms, ps := int64(d.Median/time.Second), int64(d.P90/time.Second)
		out.Median, out.P90, out.MedianSeconds, out.P90Seconds = &m, &p, &ms, &ps
	}
	return out
}

// RegistrationFigures are one group's registration metrics, durations
// shown as the API shows them.
type RegistrationFigures struct {
	projections.RegistrationMetrics
	TimeToApproval     DurationFigures `json:"time_to_approval"`
	TimeToAutoApproval DurationFigures `json:"time_to_auto_approval"`
}

func registrationFigures(m projections.RegistrationMetrics) RegistrationFigures {
	return RegistrationFigures{RegistrationMetrics: m, TimeToApproval: durationFigures(m.TimeToApproval), TimeToAutoApproval: durationFigures(m.TimeToAutoApproval)}
}

// RegistrationAnalytics answers GET /v1/analytics/registrations.
type RegistrationAnalytics struct {
	From    *time.Time            `json:"from"`
	To      *time.Time            `json:"to"`
	GroupBy []string              `json:"group_by"`
	Groups  []RegistrationFigures `json:"groups"`
	Total   RegistrationFigures   `json:"total"`
}

func period(f projections.AnalyticsFilter) (from, to *time.Time) {
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	return from, to
}

func (s *Server) registrationAnalytics(c echo.Context) error {
	f, fields, err := s.analyticsFilter(c)
	if err != nil {
		return err
	}
	var groupBy []string
	for _, v := range c.QueryParams()["group_by"] {
		for k := range strings.SplitSeq(v, ",") {
			if !slices.Contains(projections.AnalyticsKeys, k) {
				fields = append(fields, domain.FieldError{Field: "group_by", Code: domain.FieldInvalid, Message: fmt.Sprintf("%q: must be among %s", k, strings.Join(projections.AnalyticsKeys, ", "))})
				continue
			}
			if !slices.Contains(groupBy, k) {
				groupBy = append(groupBy, k)
			}
		}
	}
	if fields != nil {
		return invalidQuery(fields)
	}
	got, err := s.app.RegistrationAnalytics(callerOf(c), f, groupBy)
	if err != nil {
		return err
	}
	out := RegistrationAnalytics{GroupBy: got.GroupBy, Groups: make([]RegistrationFigures, 0, len(got.Groups)), Total: registrationFigures(got.Total)}
	out.From, out.To = period(f)
	rows := []labelled{{"total", out.Total}}
	for _, g := range got.Groups {
		out.Groups = append(out.Groups, registrationFigures(g))
		rows = append(rows, labelled{"group", out.Groups[len(out.Groups)-1]})
	}
	return answer(c, "registration-analytics", out, rows)
}

// ConflictLevelFigures are one level's conflict figures.
type ConflictLevelFigures struct {
	projections.ConflictLevelMetrics
	TimeToResolution DurationFigures `json:"time_to_resolution"`
}

// ConflictAnalytics answers GET /v1/analytics/conflicts.
type ConflictAnalytics struct {
	From *time.Time `json:"from"`
	To   *time.Time `json:"to"`
	projections.ConflictAnalytics
	TimeToResolution DurationFigures        `json:"time_to_resolution"`
	Levels           []ConflictLevelFigures `json:"levels"`
}

func (s *Server) conflictAnalytics(c echo.Context) error {
	f, fields, err := s.analyticsFilter(c)
	if err != nil {
		return err
	}
	if fields != nil {
		return invalidQuery(fields)
	}
	got, err := s.app.ConflictAnalytics(callerOf(c), f)
	if err != nil {
		return err
	}
	out := ConflictAnalytics{ConflictAnalytics: got, TimeToResolution: durationFigures(got.TimeToResolution), Levels: []ConflictLevelFigures{}}
	out.From, out.To = period(f)
	total := out
	total.Levels = nil
	rows := []labelled{{"total", total}}
	for _, l := range got.Levels {
		out.Levels = append(out.Levels, ConflictLevelFigures{ConflictLevelMetrics: l, TimeToResolution: durationFigures(l.TimeToResolution)})
		rows = append(rows, labelled{"level", out.Levels[len(out.Levels)-1]})
	}
	return answer(c, "conflict-analytics", out, rows)
}

// ConsistencyReport answers GET /v1/analytics/consistency.
type ConsistencyReport struct {
	From *time.Time `json:"from"`
	To   *time.Time `json:"to"`
	projections.Consistency
}

func (s *Server) consistency(c echo.Context) error {
	f, fields, err := s.analyticsFilter(c)
	if err != nil {
		return err
	}
	if fields != nil {
		return invalidQuery(fields)
	}
	got, err := s.app.Consistency(callerOf(c), f)
	if err != nil {
		return err
	}
	out := ConsistencyReport{Consistency: got}
	out.From, out.To = period(f)
	var rows []labelled
	for _, g := range got.Groups {
		rows = append(rows, labelled{"conflicts", g})
	}
	for _, g := range got.Registrations.Groups {
		rows = append(rows, labelled{"registrations", g})
	}
	return answer(c, "decision-consistency", out, rows)
}

// TopPartners answers GET /v1/analytics/top-partners.
type TopPartners struct {
	From     *time.Time                 `json:"from"`
	To       *time.Time                 `json:"to"`
	Bucket   string                     `json:"bucket"`
	Partners []projections.PartnerTrend `json:"partners"`
}

func (s *Server) topPartners(c echo.Context) error {
	f, fields, err := s.analyticsFilter(c)
	if err != nil {
		return err
	}
	limit := defaultTopPartners
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTopPartners {
			fields = append(fields, domain.FieldError{Field: "limit", Code: domain.FieldOutOfRange, Message: fmt.Sprintf("must be a number from 1 to %d", maxTopPartners)})
		}
		limit = n
	}
	bucket := c.QueryParam("bucket")
	if bucket == "" {
		bucket = "month"
	}
	if !slices.Contains(projections.TrendBuckets, bucket) {
		fields = append(fields, domain.FieldError{Field: "bucket", Code: domain.FieldInvalid, Message: "must be one of: " + strings.Join(projections.TrendBuckets, ", ")})
	}
	if fields != nil {
		return invalidQuery(fields)
	}
	got, err := s.app.TopPartners(callerOf(c), f, limit, bucket)
	if err != nil {
		return err
	}
	out := TopPartners{Bucket: bucket, Partners: got}
	out.From, out.To = period(f)
	return answer(c, "top-partners", out, got)
}

// Ratings answers GET /v1/analytics/ratings.
type Ratings struct {
	From    *time.Time           `json:"from"`
	To      *time.Time           `json:"to"`
	Ratings []projections.Rating `json:"ratings"`
}

func (s *Server) ratings(c echo.Context) error {
	f, fields, err := s.analyticsFilter(c)
	if err != nil {
		return err
	}
	if fields != nil {
		return invalidQuery(fields)
	}
	got, err := s.app.Ratings(callerOf(c), f)
	if err != nil {
		return err
	}
	out := Ratings{Ratings: got}
	out.From, out.To = period(f)
	return answer(c, "ratings", out, got)
}

type ratingRequest struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

// rateRegistration records the partner's rating of its decided
// registration and answers the rating as recorded.
func (s *Server) rateRegistration(c echo.Context) error {
	id, _, err := s.visibleRegistration(c)
	if err != nil {
		return err
	}
	var in ratingRequest
	call, err := bindCall(c, &in)
	if err != nil {
		return err
	}
	if _, err := s.app.RateRegistration(c.Request().Context(), call, id, in.Score, in.Comment); err != nil {
		return err
	}
	r, ok, err := s.app.Analytics.Rating(id)
	if err != nil {
		return err
	}
	if !ok {
		return domain.Errorf(domain.EINTERNAL, "the rating of %s is not in the analytics view", id)
	}
	return c.JSON(http.StatusCreated, r)
}
