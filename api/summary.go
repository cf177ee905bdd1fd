package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

var quarterPattern = regexp.MustCompile(`^[0-9]{4}-Q[1-4]$`)

// maxDays bounds the day counts of expiring_within_days and stale_days.
const maxDays = 3650

// listFilter reads the filters a registration list and the pipeline
// summary share, with a field error for each bad one, and the moment they
// ask about (as_of or position: the list as it stood then, its day counts
// from that moment). err is a failure to read the ledger.
func (s *Server) listFilter(c echo.Context) (f projections.ListFilter, fields []domain.FieldError, err error) {
	q := c.QueryParams()
	f = projections.ListFilter{
		Currency:    strings.ToUpper(q.Get("currency")),
		PartnerID:   q.Get("partner"),
		Type:        domain.RegistrationType(q.Get("type")),
		Country:     q.Get("country"),
		Region:      q.Get("region"),
		Vertical:    q.Get("vertical"),
		Stage:       domain.BuyingStage(q.Get("stage")),
		Quarter:     q.Get("quarter"),
		ProductLine: q.Get("product_line"),
	}
	for _, st := range q["status"] {
		for part := range strings.SplitSeq(st, ",") {
			if !knownStatus(domain.Status(part)) {
				fields = append(fields, domain.FieldError{Field: "status", Code: domain.FieldInvalid, Message: fmt.Sprintf("%q is not a registration status", part)})
				continue
			}
			f.Status = append(f.Status, domain.Status(part))
		}
	}
	if f.Type != "" && !f.Type.Valid() {
		fields = append(fields, domain.FieldError{Field: "type", Code: domain.FieldInvalid, Message: "must be one of: opportunity, named_account"})
	}
	if f.Stage != "" && !f.Stage.Valid() {
		fields = append(fields, domain.FieldError{Field: "stage", Code: domain.FieldInvalid, Message: "must be a buying stage: qualification, discovery, evaluation, proposal, negotiation or commit"})
	}
	if f.Quarter != "" && !quarterPattern.MatchString(f.Quarter) {
		fields = append(fields, domain.FieldError{Field: "quarter", Code: domain.FieldInvalid, Message: `must be a calendar quarter such as "2026-Q3"`})
	}
	if f.Currency != "" && !currencyPattern.MatchString(f.Currency) {
		fields = append(fields, domain.FieldError{Field: "currency", Code: domain.FieldInvalid, Message: "must be an ISO 4217 code such as EUR"})
	}
	now := s.app.Clock().Now()
	m, merr := momentParam(c)
	var de *domain.Error
	switch {
	case errors.As(merr, &de):
		fields = append(fields, de.Fields...)
	case merr != nil:
		return f, nil, merr
	case !m.IsNow():
		before, at, err := s.app.Bound(c.Request().Context(), m)
		if err != nil {
			return f, nil, err
		}
		f.Before = before
		if !at.IsZero() {
			now = at
		}
	}
	days := func(name string) int {
		v := q.Get(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDays {
			fields = append(fields, domain.FieldError{Field: name, Code: domain.FieldOutOfRange, Message: "must be a number of days from 1 to " + strconv.Itoa(maxDays)})
			return 0
		}
		return n
	}
	if n := days("expiring_within_days"); n > 0 {
		f.ExpiringBefore = now.Add(time.Duration(n) * domain.Day)
	}
	if n := days("stale_days"); n > 0 {
		f.StaleBefore = now.Add(-time.Duration(n) * domain.Day)
	}
	return f, fields, nil
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// PipelineSummary is the answer of GET /v1/pipeline/summary: the
// partner-sourced pipeline grouped, and, for vendor staff, the open
// direct-sales pipeline beside it, never mixed in.
type PipelineSummary struct {
	projections.Summary
	Direct *projections.SummaryGroup `json:"direct,omitempty"`
}

// pipelineSummary groups the registrations the caller may see (a partner:
// its own) by the group_by keys, with the list's filters.
func (s *Server) pipelineSummary(c echo.Context) error {
	f, fields, err := s.listFilter(c)
	if err != nil {
		return err
	}
	var groupBy []string
	for _, v := range c.QueryParams()["group_by"] {
		for k := range strings.SplitSeq(v, ",") {
			if _, ok := projections.SummaryKeys[k]; !ok {
				fields = append(fields, domain.FieldError{Field: "group_by", Code: domain.FieldInvalid, Message: fmt.Sprintf("%q: must be among %s", k, strings.Join(summaryKeyNames(), ", "))})
				continue
			}
			if !slices.Contains(groupBy, k) {
				groupBy = append(groupBy, k)
			}
		}
	}
	if fields != nil {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: fields}
	}
	caller := callerOf(c)
	sum, err := s.app.Summary(caller, f, groupBy)
	if err != nil {
		return err
	}
	out := PipelineSummary{Summary: sum}
	// The direct pipeline keeps no history: a summary as of a past moment
	// is the partner-sourced pipeline alone.
	if caller.Actor.Role != domain.RolePartner && f.PartnerID == "" && f.Before == 0 {
		direct := projections.SummaryGroup{Key: map[string]string{}, Values: []domain.Money{}}
		byCurrency := map[string]int{}
		for _, d := range s.app.Pipeline.List(true) {
			direct.Count++
			if m := d.EstimatedValue; m.Currency != "" {
				i, ok := byCurrency[m.Currency]
				if !ok {
					i = len(direct.Values)
					byCurrency[m.Currency] = i
					direct.Values = append(direct.Values, domain.Money{Currency: m.Currency})
				}
				direct.Values[i].Amount = direct.Values[i].Amount.Add(m.Amount)
			}
		}
		slices.SortFunc(direct.Values, func(a, b domain.Money) int { return strings.Compare(a.Currency, b.Currency) })
		out.Direct = &direct
	}
	return c.JSON(http.StatusOK, out)
}

func summaryKeyNames() []string {
	names := make([]string, 0, len(projections.SummaryKeys))
	for k := range projections.SummaryKeys {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// OwnershipAnswer is the answer of GET /v1/accounts/ownership.
type OwnershipAnswer struct {
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain,omitempty"`
	// AsOf is the moment asked about (absent: now); HeldAt lists the
	// registrations that held the account then.
	AsOf     *time.Time          `json:"as_of,omitempty"`
	Position *uint64             `json:"position,omitempty"`
	Claims   []projections.Claim `json:"claims"`
	HeldAt   []string            `json:"held_at"`
}

// accountOwnership answers who claimed an account over time: every
// registration with the same normalised company name or registrable domain,
// with the window it held the account, as of now or a past moment.
func (s *Server) accountOwnership(c echo.Context) error {
	name, site := strings.TrimSpace(c.QueryParam("name")), strings.TrimSpace(c.QueryParam("domain"))
	m, err := momentParam(c)
	if err != nil {
		return err
	}
	if name == "" && site == "" {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
			{Field: "name", Code: domain.FieldRequired, Message: "give the account's company name, its web domain, or both"},
		}}
	}
	claims, err := s.app.Ownership(c.Request().Context(), callerOf(c), name, site, m)
	if err != nil {
		return err
	}
	out := OwnershipAnswer{Name: name, Domain: site, Claims: claims, HeldAt: []string{}}
	if !m.Time.IsZero() {
		out.AsOf = &m.Time
	}
	if m.ByPosition {
		out.Position = &m.Through
	}
	for _, cl := range claims {
		if cl.HeldUntil.IsZero() {
			out.HeldAt = append(out.HeldAt, cl.ID.String())
		}
	}
	return c.JSON(http.StatusOK, out)
}
