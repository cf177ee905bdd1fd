package api

import (
	"encoding/csv"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Lists answer CSV to `Accept: text/csv` or `?format=csv`: every matching
// row, streamed page by page (a spreadsheet export, not one page), with
// the same filters, roles and visibility as the JSON list.

const mimeCSV = "text/csv"

// wantsCSV reports whether the request asks for CSV: ?format=csv, or an
// Accept header that names text/csv before (or without) JSON. ?format
// wins over Accept; any other value of it is a field error.
func wantsCSV(c echo.Context) (bool, error) {
	switch f := c.QueryParam("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
			{Field: "format", Code: domain.FieldInvalid, Message: "must be json or csv"},
		}}
	}
	for part := range strings.SplitSeq(c.Request().Header.Get(echo.HeaderAccept), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mimeCSV:
			return true, nil
		case echo.MIMEApplicationJSON, "application/*", "*/*":
			return false, nil
		}
	}
	return false, nil
}

// CSV writes one CSV document to an HTTP answer as it is produced: the
// API's lists and the portal's reports alike (one writer, one formula
// neutralisation).
type CSV struct {
	w  http.ResponseWriter
	cw *csv.Writer
}

type csvStream = CSV

// startCSV sends the headers and the header row of a CSV answer named
// name (the download's file name, without extension).
func startCSV(c echo.Context, name string, columns []string) *csvStream {
	return StartCSV(c.Response(), name, columns)
}

// StartCSV sends the headers and the header row of a CSV download named
// name (without extension) to w.
func StartCSV(w http.ResponseWriter, name string, columns []string) *CSV {
	h := w.Header()
	h.Set(echo.HeaderContentType, mimeCSV+"; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
	w.WriteHeader(http.StatusOK)
	s := &CSV{w: w, cw: csv.NewWriter(w)}
	s.write(columns)
	return s
}

func (s *CSV) write(row []string) {
	_ = s.cw.Write(row) // a failed write shows in Error at the flush
}

// add writes one row of cells, as given: free text goes through text.
func (s *CSV) add(cells ...string) { s.write(cells) }

// flush sends what was written so far. A client that went away ends the
// stream: the error is returned and the caller stops.
func (s *CSV) flush() error {
	s.cw.Flush()
	if err := s.cw.Error(); err != nil {
		return err
	}
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// Flush sends what was written so far (see flush).
func (s *CSV) Flush() error { return s.flush() }

// fail ends a stream that cannot be completed: headers are sent, so the
// only honest answer is to break the connection, never to let a truncated
// file look complete.
func (s *CSV) fail(err error) {
	slog.Error("CSV answer broken off", "err", err)
	panic(http.ErrAbortHandler)
}

// text is a cell of free text (what a partner typed), neutralised against
// spreadsheet formulas: a cell starting with =, +, -, @, tab or CR is
// prefixed with an apostrophe, as OWASP advises for CSV exports.
func text(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func csvUint(n uint64) string { return strconv.FormatUint(n, 10) }

// RegistrationColumns are the columns of a registration list in CSV, the
// header of the rows Registration writes.
var RegistrationColumns = registrationColumns

// registrationColumns are the columns of a registration list in CSV.
var registrationColumns = []string{
	"id", "partner_id", "type", "status", "company_name", "domain", "country", "region", "industry",
	"product_lines", "estimated_value", "currency", "expected_close_date", "buying_stage", "last_progress_at", "verdict", "approved",
	"policy_version", "protection_start", "protection_end", "extensions_granted", "reject_reason",
	"position", "submitted_position", "created_at", "submitted_at", "updated_at",
}

// Registration writes v as a row of RegistrationColumns, then extra.
func (s *CSV) Registration(v projections.RegistrationView, extra ...string) {
	s.registration(v, extra...)
}

func (s *CSV) registration(v projections.RegistrationView, extra ...string) {
	lines := make([]string, len(v.ProductLines))
	for i, l := range v.ProductLines {
		lines[i] = text(l)
	}
	submittedPos := ""
	if v.Submitted {
		submittedPos = csvUint(v.SubmittedPosition)
	}
	policy := ""
	if v.PolicyVersion > 0 {
		policy = strconv.Itoa(v.PolicyVersion)
	}
	s.add(append([]string{
		v.ID.String(), v.PartnerID, string(v.Type), string(v.Status), text(v.CompanyName), text(v.Domain),
		text(v.Country), text(v.Region), text(v.Industry), strings.Join(lines, "; "),
		v.EstimatedValue.String(), v.Currency, csvTime(v.ExpectedCloseDate), string(v.BuyingStage), csvTime(v.LastProgressAt), string(v.Verdict),
		strconv.FormatBool(v.Approved), policy, csvTime(v.ProtectionStart), csvTime(v.ProtectionEnd),
		strconv.Itoa(v.ExtensionsGranted), string(v.RejectReason), csvUint(v.Position), submittedPos,
		csvTime(v.CreatedAt), csvTime(v.SubmittedAt), csvTime(v.UpdatedAt),
	}, extra...)...)
}

// streamRegistrations writes every registration the caller may see that
// matches f, from cursor on (at most limit when limit > 0), a page at a
// time.
func (s *Server) streamRegistrations(c echo.Context, f projections.ListFilter, cursor string, limit int) error {
	caller := callerOf(c)
	// The first page is read before anything is sent, so that a bad cursor
	// or a refused caller still gets its problem answer.
	items, next, err := s.app.List(caller, f, cursor, projections.MaxListLimit)
	if err != nil {
		return err
	}
	out := startCSV(c, "registrations", registrationColumns)
	sent := 0
	for {
		for _, v := range items {
			if limit > 0 && sent == limit {
				return out.flush()
			}
			out.registration(v)
			sent++
		}
		if err := out.flush(); err != nil || next == "" {
			return err
		}
		if items, next, err = s.app.List(caller, f, next, projections.MaxListLimit); err != nil {
			out.fail(err)
		}
	}
}

// streamConflicts writes the conflict queue as the caller may see it.
func streamConflicts(c echo.Context, items []projections.ConflictView) error {
	out := startCSV(c, "conflicts", []string{
		"id", "kind", "status", "level", "due_at", "overdue", "company_name", "domain", "country",
		"value", "currency", "parties", "outcome", "winner", "policy_clause", "opened_at", "updated_at", "position",
	})
	for _, v := range items {
		parties := make([]string, len(v.Parties))
		for i, p := range v.Parties {
			parties[i] = p.Key
			if p.PartnerID != "" {
				parties[i] += "=" + p.PartnerID
			}
		}
		var outcome, winner, clause string
		if d := v.Decision; d != nil {
			outcome, winner, clause = string(d.Outcome), d.Winner, d.PolicyClause
		}
		value := ""
		if v.Value.Currency != "" {
			value = v.Value.Amount.String()
		}
		out.add(v.ID.String(), string(v.Kind), v.Status, strconv.Itoa(v.Level), csvTime(v.DueAt),
			strconv.FormatBool(v.Overdue), text(v.Account.CompanyName), text(v.Account.Domain), text(v.Account.Country),
			value, v.Value.Currency, strings.Join(parties, "; "), outcome, winner, text(clause),
			csvTime(v.OpenedAt), csvTime(v.UpdatedAt), csvUint(v.Position))
	}
	return out.flush()
}
