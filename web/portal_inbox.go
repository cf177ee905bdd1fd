package web

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/notify"
	"github.com/dealreg/dealreg/projections"
)

// maxInbox is how many notifications the inbox shows, newest first.
const maxInbox = 200

// inboxItem is one notification: what notify.Classify makes of a ledger
// event for the partner's users, in the words of its e-mail.
type inboxItem struct {
	Position     uint64
	At           time.Time
	Kind         string
	Subject      string
	Body         string
	Registration string
	Unread       bool
}

type inboxData struct {
	Items  []inboxItem
	Unread int
}

// notifications is the partner user's inbox: the notices the e-mail
// channel sends the partner's users (notify.Classify of the events of the
// partner's registrations, and the policy publications every partner is
// told of), newest first, rendered as the e-mail is (notify.Render) in the
// user's language.
func (h *Handler) notifications(w http.ResponseWriter, r *http.Request, s app.Session) {
	p := h.newPage(w, r, "portal.inbox.title", nil)
	items, err := h.inbox(s, p.L.Lang)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	// The read mark is the user's, on the server (UserNotificationsRead):
	// what this page shows for the first time is new, and read from then
	// on, in every browser the user signs in with.
	seen := s.User.ReadThrough
	d := inboxData{Items: items}
	for i := range d.Items {
		if d.Items[i].Position > seen {
			d.Items[i].Unread = true
			d.Unread++
		}
	}
	if len(items) > 0 && items[0].Position > seen {
		if err := h.app.MarkNotificationsRead(r.Context(), s, items[0].Position); err != nil {
			h.failErr(w, r, err)
			return
		}
		p.User.User.ReadThrough = items[0].Position
	}
	p.Data = d
	h.render(w, http.StatusOK, "notifications", p)
}

func (h *Handler) inbox(s app.Session, lang string) ([]inboxItem, error) {
	// The inbox index names the newest notices' events; each is read at
	// its position and told as its e-mail tells it.
	recs, err := h.app.LatestNotifications(context.Background(), s.User, maxInbox)
	if err != nil {
		return nil, err
	}
	out := make([]inboxItem, 0, len(recs))
	for _, rec := range recs {
		ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			continue
		}
		n, ok := notify.Classify(ev)
		if !ok || (n.Stream != rec.Stream && !n.AllPartners) {
			continue
		}
		subject, body, err := notify.Render(notify.Message{Name: s.User.Name, Language: lang, Kind: n.Kind, Fields: n.Fields})
		if err != nil {
			continue
		}
		out = append(out, inboxItem{Position: rec.Position, At: rec.RecordedAt, Kind: n.Kind, Subject: subject, Body: strings.TrimSpace(body), Registration: n.Fields["registration"]})
	}
	return out, nil
}

// reportFilter is what a history report selects: a status, and the
// quarter of the expected close.
type reportFilter struct {
	Status  string
	Quarter string
}

func (f reportFilter) Query() string {
	q := make([]string, 0, 2)
	if f.Status != "" {
		q = append(q, "status="+f.Status)
	}
	if f.Quarter != "" {
		q = append(q, "quarter="+f.Quarter)
	}
	return strings.Join(q, "&")
}

type reportData struct {
	Filter   reportFilter
	Errors   map[string]string
	Statuses []string
	Counts   []statusCount
	Total    int
	Won      []moneyTotal
	Items    []projections.RegistrationView
	More     bool
}

type moneyTotal struct {
	Currency string
	Amount   string
}

var reportStatuses = []string{
	string(domain.StatusDraft), string(domain.StatusSubmitted), string(domain.StatusCleared), string(domain.StatusPossibleDuplicate),
	string(domain.StatusUnderReview), string(domain.StatusReturned), string(domain.StatusActive), string(domain.StatusExtensionRequested),
	string(domain.StatusRejected), string(domain.StatusDuplicate), string(domain.StatusExpired), string(domain.StatusClosedWon),
	string(domain.StatusClosedLost), string(domain.StatusWithdrawn), string(domain.StatusRevoked),
}

// reportRows is how many registrations the report page lists; the CSV
// has them all.
const reportRows = 100

func (h *Handler) readReportFilter(r *http.Request, l Locale) (reportFilter, projections.ListFilter, map[string]string) {
	q := r.URL.Query()
	f := reportFilter{Status: q.Get("status"), Quarter: strings.TrimSpace(q.Get("quarter"))}
	var lf projections.ListFilter
	errs := map[string]string{}
	if f.Status != "" {
		if !slices.Contains(reportStatuses, f.Status) {
			errs["status"] = l.T("error.invalid")
		} else {
			lf.Status = []domain.Status{domain.Status(f.Status)}
		}
	}
	if f.Quarter != "" {
		if !validQuarter(f.Quarter) {
			errs["quarter"] = l.T("portal.reports.quarter-error")
		} else {
			lf.Quarter = f.Quarter
		}
	}
	return f, lf, errs
}

func validQuarter(q string) bool {
	y, qq, ok := strings.Cut(q, "-Q")
	if !ok || len(y) != 4 || len(qq) != 1 || qq[0] < '1' || qq[0] > '4' {
		return false
	}
	_, err := strconv.Atoi(y)
	return err == nil
}

// reports is the partner's history report: its registrations by status
// (optionally of one status, or closing in one quarter), the value won,
// and the list, with the same selection as a CSV download.
func (h *Handler) reports(w http.ResponseWriter, r *http.Request, s app.Session) {
	p := h.newPage(w, r, "portal.reports.title", nil)
	f, lf, errs := h.readReportFilter(r, p.L)
	d := reportData{Filter: f, Errors: errs, Statuses: reportStatuses}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		counts := map[domain.Status]int{}
		won := map[string]decimal.Decimal{}
		cursor := ""
		for {
			items, next, err := h.app.List(s.Caller, lf, cursor, projections.MaxListLimit)
			if err != nil {
				h.failErr(w, r, err)
				return
			}
			for _, it := range items {
				counts[it.Status]++
				d.Total++
				if it.Status == domain.StatusClosedWon && it.Currency != "" {
					won[it.Currency] = won[it.Currency].Add(it.EstimatedValue)
				}
				if len(d.Items) < reportRows {
					d.Items = append(d.Items, it)
				} else {
					d.More = true
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
		for _, st := range reportStatuses {
			if n := counts[domain.Status(st)]; n > 0 {
				d.Counts = append(d.Counts, statusCount{st, n})
			}
		}
		for _, c := range slices.Sorted(maps.Keys(won)) {
			d.Won = append(d.Won, moneyTotal{Currency: c, Amount: won[c].StringFixed(2)})
		}
	}
	p.Data = d
	h.render(w, status, "reports", p)
}

// reportCSV sends the report's registrations as CSV through the API's CSV
// writer (the same columns as GET /v1/registrations?format=csv, free text
// neutralised against spreadsheet formulas).
func (h *Handler) reportCSV(w http.ResponseWriter, r *http.Request, s app.Session) {
	l := h.newPage(w, r, "", nil).L
	_, lf, errs := h.readReportFilter(r, l)
	if len(errs) > 0 {
		h.fail(w, r, http.StatusUnprocessableEntity, "portal.reports.bad-filter")
		return
	}
	items, next, err := h.app.List(s.Caller, lf, "", projections.MaxListLimit)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	out := api.StartCSV(w, "registrations", api.RegistrationColumns)
	for {
		for _, v := range items {
			out.Registration(v)
		}
		if err := out.Flush(); err != nil || next == "" {
			return
		}
		if items, next, err = h.app.List(s.Caller, lf, next, projections.MaxListLimit); err != nil {
			// Headers are sent: break the connection rather than let a
			// truncated file look complete.
			h.logger.Error("report CSV", "err", err)
			panic(http.ErrAbortHandler)
		}
	}
}
