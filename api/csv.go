package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
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

// The other lists (partners, people, the direct pipeline, webhooks and
// their deliveries, MDF requests and budgets, presales resources, review
// groups, policies, and the analytics figures) answer CSV through one
// mechanism, listAnswer: each item is the JSON the list answers, flattened
// (nested objects as dotted columns, lists of values joined with "; ",
// lists of objects as their JSON), so a CSV row never holds more, or other,
// than the JSON item the same caller gets. Every cell is text (what a
// partner typed may be in any of them), neutralised against formulas.

// listAnswer answers items (a slice) as {"items": [...]} or, when asked,
// as CSV named name.
func listAnswer(c echo.Context, name string, items any) error {
	csv, err := wantsCSV(c)
	if err != nil {
		return err
	}
	if !csv {
		return c.JSON(http.StatusOK, map[string]any{"items": items})
	}
	return flatCSV(c, name, items)
}

// answer answers out as JSON or, when asked, as CSV of rows named name.
func answer(c echo.Context, name string, out, rows any) error {
	csv, err := wantsCSV(c)
	if err != nil {
		return err
	}
	if !csv {
		return c.JSON(http.StatusOK, out)
	}
	return flatCSV(c, name, rows)
}

// flatCSV writes rows (a slice of anything JSON encodes as an object) as
// CSV: the columns are every flattened key of any row, in order of first
// appearance, those of the element type's zero value first (so even an
// empty list has its header).
func flatCSV(c echo.Context, name string, rows any) error {
	var flat []map[string]string
	var columns []string
	seen := map[string]bool{}
	add := func(v any) (map[string]string, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		row := map[string]string{}
		var keys []string
		if err := flatten("", b, row, &keys); err != nil {
			return nil, err
		}
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				columns = append(columns, k)
			}
		}
		return row, nil
	}
	rv := reflect.ValueOf(rows)
	if rv.Kind() != reflect.Slice {
		return fmt.Errorf("csv: %T is not a list", rows)
	}
	if et := rv.Type().Elem(); et.Kind() != reflect.Interface && et != reflect.TypeFor[labelled]() {
		if _, err := add(reflect.Zero(et).Interface()); err != nil {
			return err
		}
	}
	for i := range rv.Len() {
		row, err := add(rv.Index(i).Interface())
		if err != nil {
			return err
		}
		flat = append(flat, row)
	}
	out := startCSV(c, name, columns)
	for _, row := range flat {
		cells := make([]string, len(columns))
		for i, k := range columns {
			cells[i] = text(row[k])
		}
		out.add(cells...)
	}
	return out.flush()
}

// flatten puts the cells of the JSON value raw into row under prefix,
// keys in the order the JSON has them (the struct's field order),
// appending new keys to keys.
func flatten(prefix string, raw json.RawMessage, row map[string]string, keys *[]string) error {
	put := func(s string) {
		if _, ok := row[prefix]; !ok {
			*keys = append(*keys, prefix)
		}
		row[prefix] = s
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		put("")
		return nil
	}
	switch raw[0] {
	case '{':
		d := json.NewDecoder(bytes.NewReader(raw))
		if _, err := d.Token(); err != nil {
			return err
		}
		empty := true
		for d.More() {
			empty = false
			k, err := d.Token()
			if err != nil {
				return err
			}
			var v json.RawMessage
			if err := d.Decode(&v); err != nil {
				return err
			}
			key := k.(string)
			if prefix != "" {
				key = prefix + "." + key
			}
			if err := flatten(key, v, row, keys); err != nil {
				return err
			}
		}
		if empty && prefix != "" {
			put("")
		}
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return err
		}
		parts := make([]string, 0, len(elems))
		for _, e := range elems {
			e = bytes.TrimSpace(e)
			if len(e) > 0 && (e[0] == '{' || e[0] == '[') {
				var b bytes.Buffer
				if err := json.Compact(&b, raw); err != nil {
					return err
				}
				put(b.String())
				return nil
			}
			parts = append(parts, scalar(e))
		}
		put(strings.Join(parts, "; "))
	default:
		put(scalar(raw))
	}
	return nil
}

// scalar is the cell of a JSON string, number, boolean or null.
func scalar(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw) // numbers exactly as the JSON writes them; true, false
}

// labelled is a CSV row of an answer that mixes rows of several kinds (a
// total and its groups): column row names the kind, then the item's
// fields.
type labelled struct {
	Row  string
	Item any
}

func (l labelled) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(l.Item)
	if err != nil {
		return nil, err
	}
	head, _ := json.Marshal(map[string]string{"row": l.Row})
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("csv: %T is not an object", l.Item)
	}
	if string(b) == "{}" {
		return head, nil
	}
	return append(append(head[:len(head)-1], ','), b[1:]...), nil
}
