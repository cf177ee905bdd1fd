package projections

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// Page sizes of List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// ListFilter selects registrations for List. Zero fields match everything.
// Country and Region match without regard to case.
type ListFilter struct {
	// Status matches any of the listed statuses.
	Status    []domain.Status
	PartnerID string
	Type      domain.RegistrationType
	Country   string
	Region    string
	// Vertical (the account's industry), Stage (buying stage), Quarter
	// (of the expected close, "2026-Q3") and ProductLine (one of the
	// opportunity's) match exactly, ProductLine and Vertical without
	// regard to case.
	Vertical    string
	Stage       domain.BuyingStage
	Quarter     string
	ProductLine string
	// ExpiringBefore keeps protected registrations whose protection lapses
	// before it; StaleBefore keeps protected registrations whose last
	// progress (update, approval, extension, renewal) is before it.
	ExpiringBefore time.Time
	StaleBefore    time.Time
	// Currency keeps the registrations whose estimated value is in it.
	Currency string
	// Before, when set, answers as the registrations stood just before
	// that global position (every event below it applied), from
	// registration_history (history.go); 0 is now.
	Before uint64
	// Sort is List's order (the summary ignores it).
	Sort ListSort
}

// where returns the SQL condition and arguments that select f.
func (f ListFilter) where() (string, []any) {
	var conds []string
	var args []any
	if len(f.Status) > 0 {
		marks := make([]string, len(f.Status))
		for i, st := range f.Status {
			marks[i] = "?"
			args = append(args, string(st))
		}
		conds = append(conds, "status IN ("+strings.Join(marks, ", ")+")")
	}
	for _, c := range []struct {
		col, val string
	}{{"partner_id", f.PartnerID}, {"type", string(f.Type)}, {"country", strings.ToLower(f.Country)}, {"region", strings.ToLower(f.Region)},
		{"industry", strings.ToLower(f.Vertical)}, {"stage", string(f.Stage)}, {"close_q", f.Quarter}, {"currency", f.Currency}} {
		if c.val != "" {
			conds = append(conds, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if f.ProductLine != "" {
		conds = append(conds, `instr(products, ?) > 0`)
		args = append(args, productsColumn([]string{f.ProductLine}))
	}
	if !f.ExpiringBefore.IsZero() {
		conds = append(conds, "protected = 1 AND lapses_at < ?")
		args = append(args, f.ExpiringBefore.UnixNano())
	}
	if !f.StaleBefore.IsZero() {
		conds = append(conds, "protected = 1 AND progress_at < ?")
		args = append(args, f.StaleBefore.UnixNano())
	}
	return strings.Join(conds, " AND "), args
}

// cursorVersion prefixes every cursor, so the encoding can change later
// without old cursors being misread.
const cursorVersion = 1

// encodeCursor makes the opaque cursor that resumes a listing after the
// registration created at position pos.
func encodeCursor(pos uint64) string {
	b := make([]byte, 9)
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:], pos)
	return base64.RawURLEncoding.EncodeToString(b)
}

// List returns up to limit registrations matching filter, in the order of
// filter.Sort (creation order by default), after cursor ("" for the first
// page), and the cursor of the next page ("" when there is none). A limit
// of 0 or less means DefaultListLimit; more than MaxListLimit means
// MaxListLimit. An invalid cursor, or one of another sort, is an EINVALID
// *domain.Error.
//
// Every order ends with the creation position, so it is total and a
// cursor (the last row's sort key and position) resumes exactly after
// it. In creation order registrations never change place and new ones
// come last, so paging visits every registration that existed when paging
// began exactly once, whatever arrives in between; in another order a
// registration whose key changes between two pages may be seen twice or
// not at all, as with any keyset pagination.
//
// With filter.Before set, the list is as it stood then: the versions of
// registration_history that held at that moment select and order the
// registrations, and each view is folded again from its stream up to then
// (DetailAt), exactly the view the projection showed.
func (p *Registrations) List(filter ListFilter, cursorText string, limit int) ([]RegistrationView, string, error) {
	var items []RegistrationView
	next, err := p.list(filter, cursorText, limit, func(b []byte, v *RegistrationView) error {
		if v == nil {
			v = &RegistrationView{}
			if err := json.Unmarshal(b, v); err != nil {
				return domain.Errorf(domain.EINTERNAL, "registrations query: %v", err)
			}
		}
		items = append(items, *v)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return items, next, nil
}

// ListJSON is List with each view as JSON: as stored, for an answer that
// copies the views instead of decoding and encoding them again (a view's
// JSON is what the API shows of it). A list as of a past moment folds
// and encodes each view.
func (p *Registrations) ListJSON(filter ListFilter, cursorText string, limit int) ([]json.RawMessage, string, error) {
	var items []json.RawMessage
	next, err := p.list(filter, cursorText, limit, func(b []byte, v *RegistrationView) error {
		if v != nil {
			var err error
			if b, err = json.Marshal(v); err != nil {
				return domain.Errorf(domain.EINTERNAL, "registrations query: %v", err)
			}
		}
		items = append(items, b)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return items, next, nil
}

// list runs List's query and calls emit with each listed view: its
// stored JSON, or (as of a past moment) the view folded again.
func (p *Registrations) list(filter ListFilter, cursorText string, limit int, emit func(stored []byte, folded *RegistrationView) error) (string, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	asOf := filter.Before > 0
	sk := ListSorts[filter.Sort.field()]
	posCol, cols, from := "pos", sk.cols, "registrations"
	if asOf {
		if filter.Sort.field() == "updated" {
			return "", &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
				{Field: "sort", Code: domain.FieldInvalid, Message: "a list as of a past moment cannot be sorted by updated"},
			}}
		}
		if p.ledger == nil {
			return "", errAsOfUnavailable
		}
		posCol, cols, from = "reg_pos", sk.histCols, "registration_history h"
	}
	key := append(slices.Clone(cols), posCol)
	var conds []string
	var args []any
	if cursorText != "" {
		c, err := decodeListCursor(cursorText, filter.Sort)
		if err != nil {
			return "", err
		}
		op := " > "
		if filter.Sort.Desc {
			op = " < "
		}
		conds = append(conds, "("+strings.Join(key, ", ")+")"+op+"("+strings.TrimSuffix(strings.Repeat("?, ", len(key)), ", ")+")")
		args = append(args, c.keyArgs()...)
	}
	if cond, a := filter.where(); cond != "" {
		conds, args = append(conds, cond), append(args, a...)
	}
	if asOf {
		cond, a := atMoment(filter.Before)
		conds, args = append(conds, cond), append(args, a...)
	}
	dir := ""
	if filter.Sort.Desc {
		dir = " DESC"
	}
	order := make([]string, len(key))
	for i, k := range key {
		order[i] = k + dir
	}
	// The page's rows are found in the narrow table (or the history), and
	// only they are joined to their JSON (or, as of a moment, their ID).
	// Key k<i> is the page's i-th key expression; the last is the position.
	named, outer, korder := make([]string, len(key)), make([]string, len(key)), make([]string, len(key))
	for i, k := range key {
		a := "k" + strconv.Itoa(i)
		named[i], outer[i], korder[i] = k+" AS "+a, "k."+a, "k."+a+dir
	}
	page := "SELECT " + strings.Join(named, ", ") + " FROM " + from
	if len(conds) > 0 {
		page += " WHERE " + strings.Join(conds, " AND ")
	}
	page += " ORDER BY " + strings.Join(order, ", ") + " LIMIT ?"
	args = append(args, limit+1)
	first, join := "d.view", " JOIN registration_docs d ON d.pos = "+outer[len(key)-1]
	if asOf {
		first, join = "r.id", " JOIN registrations r ON r.pos = "+outer[len(key)-1]
	}
	q := "SELECT " + first + ", " + strings.Join(outer, ", ") + " FROM (" + page + ") k" + join + " ORDER BY " + strings.Join(korder, ", ")

	db := p.database()
	if db == nil {
		return "", nil
	}
	rows, err := query(db, q, args...)
	if err != nil {
		return "", domain.Errorf(domain.EINTERNAL, "registrations query: %v", err)
	}
	defer rows.Close()
	n := 0
	var last cursor
	for rows.Next() {
		var b []byte
		vals := make([]string, len(cols))
		var pos int64
		dest := []any{&b}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(append(dest, &pos)...); err != nil {
			return "", domain.Errorf(domain.EINTERNAL, "registrations query: %v", err)
		}
		if n == limit {
			return last.encode(), nil
		}
		if asOf {
			id, err := uuid.ParseBytes(b)
			if err != nil {
				return "", domain.Errorf(domain.EINTERNAL, "registrations query: %v", err)
			}
			d, _, ok, err := p.DetailAt(context.Background(), id, Moment{Through: filter.Before - 1, ByPosition: true})
			if err != nil {
				return "", err
			}
			if !ok {
				return "", domain.Errorf(domain.EINTERNAL, "registration %s has a version at %d but no event", id, filter.Before-1)
			}
			if err := emit(nil, &d.RegistrationView); err != nil {
				return "", err
			}
		} else if err := emit(b, nil); err != nil {
			return "", err
		}
		n++
		last = cursor{Sort: filter.Sort.field(), Desc: filter.Sort.Desc, Key: vals, Pos: uint64(pos)}
	}
	if err := rows.Err(); err != nil {
		return "", domain.Errorf(domain.EINTERNAL, "registrations query: %v", err)
	}
	return "", nil
}

// queryViews runs a query of the view column.
func (p *Registrations) queryViews(q string, args ...any) ([]RegistrationView, error) {
	db := p.database()
	if db == nil {
		return nil, nil
	}
	rows, err := query(db, q, args...)
	if err != nil {
		return nil, domain.Errorf(domain.EINTERNAL, "registrations query: %v", err)
	}
	defer rows.Close()
	var out []RegistrationView
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var v RegistrationView
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, domain.Errorf(domain.EINTERNAL, "registrations query: %v", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ReviewItem is a registration awaiting a reviewer's decision.
type ReviewItem struct {
	RegistrationView
	// DueAt is when the decision is due: the due time the submission was
	// routed with, or (for a submission recorded before routing existed)
	// the recorded time of the latest submission plus the review SLA of
	// the policy it was submitted under.
	DueAt time.Time `json:"due_at"`
	// Group is the reviewer group the submission was routed to; Reminded
	// and Escalated say whether the scheduler reminded it and escalated it
	// (to EscalatedTo). See review_queue.go.
	Group       string      `json:"group,omitempty"`
	Reminded    bool        `json:"reminded"`
	Escalated   bool        `json:"escalated"`
	EscalatedTo domain.Role `json:"escalated_to,omitempty"`
	// NextAction is when the scheduler may next remind or escalate it.
	NextAction time.Time `json:"-"`
}

// Overdue reports whether the decision is late at time at. The projection
// has no clock, so the caller says what time it is.
func (i ReviewItem) Overdue(at time.Time) bool { return at.After(i.DueAt) }

// awaitsDecision reports whether a registration in status s waits for a
// reviewer: a verdict let it through (clear or possibly a duplicate) or a
// review is under way. A submission still waiting for its verdict does not:
// the duplicate check, not a person, acts next.
func awaitsDecision(s domain.Status) bool {
	return s == domain.StatusCleared || s == domain.StatusPossibleDuplicate || s == domain.StatusUnderReview
}

// ReviewQueue returns up to limit registrations awaiting a decision (all of
// them when limit is 0 or less), oldest submission first by ledger order.
// It is an EINTERNAL error when a submission names a policy version the
// projection's PolicyLookup does not know: that is a wiring mistake, and a
// guessed deadline would be worse than none.
func (p *Registrations) ReviewQueue(limit int) ([]ReviewItem, error) {
	q := "SELECT d.view FROM registrations r JOIN registration_docs d ON d.pos = r.pos WHERE r.awaiting = 1 ORDER BY r.last_sub_pos"
	var args []any
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	views, err := p.queryViews(q, args...)
	if err != nil {
		return nil, err
	}
	items := make([]ReviewItem, len(views))
	for i, v := range views {
		policy, ok := p.policies(v.SubmittedPolicyVersion)
		if !ok {
			return nil, domain.Errorf(domain.EINTERNAL, "review queue: registration %s was submitted under unknown policy version %d", v.ID, v.SubmittedPolicyVersion)
		}
		items[i] = ReviewItem{RegistrationView: v, DueAt: v.LastSubmittedAt.Add(policy.ReviewSLA)}
		items[i].applyReview(policy)
	}
	return items, nil
}

// ExpiringBefore returns the protected registrations (active, or with an
// extension request pending) whose protection lapses before t, soonest
// first. For an active registration that is its protection end; while an
// extension request is pending it is the end plus the extension length, as
// domain.Registration.Due decides. The expiry scheduler asks with t = now
// to expire, and with t = now + the reminder lead time to remind; Due then
// decides what is due exactly.
func (p *Registrations) ExpiringBefore(t time.Time) ([]RegistrationView, error) {
	return p.queryViews("SELECT d.view FROM registrations r JOIN registration_docs d ON d.pos = r.pos WHERE r.protected = 1 AND r.lapses_at < ? ORDER BY r.lapses_at, r.pos", t.UnixNano())
}

// CountByStatus returns how many registrations are in each status (the
// statuses no registration is in are absent).
func (p *Registrations) CountByStatus() (map[domain.Status]int, error) {
	db := p.database()
	if db == nil {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "registrations are not loaded yet")
	}
	rows, err := db.Query("SELECT status, count(*) FROM registrations GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("count registrations: %w", err)
	}
	defer rows.Close()
	out := map[domain.Status]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("count registrations: %w", err)
		}
		out[domain.Status(s)] = n
	}
	return out, rows.Err()
}
