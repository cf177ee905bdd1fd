package projections

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
)

// MDFAccountView is the MDF requests made against one registration's
// allocation.
type MDFAccountView struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	PartnerID      string    `json:"partner_id"`
	// Allocation is what the approval allocated and PolicyVersion the
	// version that did.
	Allocation    domain.Money        `json:"allocation"`
	PolicyVersion int                 `json:"policy_version"`
	Requests      []domain.MDFRequest `json:"requests"`
}

// Remaining returns what remains of the allocation.
func (v MDFAccountView) Remaining() domain.Money {
	r := v.Allocation.Amount.Sub(v.Committed())
	if r.IsNegative() {
		r = decimal.Zero
	}
	return domain.Money{Amount: r, Currency: v.Allocation.Currency}
}

// Committed returns what the requests hold of the allocation.
func (v MDFAccountView) Committed() decimal.Decimal {
	sum := decimal.Zero
	for _, q := range v.Requests {
		sum = sum.Add(q.Committed())
	}
	return sum
}

// MDFBudget is one partner's MDF figures in one quarter and currency: what
// approvals allocated, and what requests asked, were approved, claimed and
// reimbursed, each counted in the quarter it was recorded.
type MDFBudget struct {
	PartnerID  string          `json:"partner_id"`
	Quarter    string          `json:"quarter"`
	Currency   string          `json:"currency"`
	Allocated  decimal.Decimal `json:"allocated"`
	Requested  decimal.Decimal `json:"requested"`
	Approved   decimal.Decimal `json:"approved"`
	Claimed    decimal.Decimal `json:"claimed"`
	Reimbursed decimal.Decimal `json:"reimbursed"`
}

// MDF is the projection of marketing development funds: each
// registration's MDF requests (the mdf-<id> streams) and the budget views
// per partner, quarter and currency, which also count the allocations of
// approvals. It is safe for concurrent use.
type MDF struct {
	tracker
	accounts map[uuid.UUID]*MDFAccountView
	budgets  map[string]*MDFBudget
	rows     *rowSet
}

var _ Handler = (*MDF)(nil)

// NewMDF returns an empty MDF projection.
func NewMDF() *MDF {
	return &MDF{tracker: newTracker(), accounts: map[uuid.UUID]*MDFAccountView{}, budgets: map[string]*MDFBudget{}, rows: newRowSet("mdf")}
}

// Rows: "a:<registration>" an account, "b:<partner> <quarter> <currency>" a
// budget.
func budgetKey(partner, quarter, currency string) string {
	return partner + " " + quarter + " " + currency
}

// Load implements Handler.
func (m *MDF) Load(ctx context.Context, db *sql.DB) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows.reset()
	clear(m.accounts)
	clear(m.budgets)
	err := LoadRows(ctx, db, m.rows.view, func(key string, body []byte) error {
		switch key[:2] {
		case "a:":
			var a MDFAccountView
			if err := json.Unmarshal(body, &a); err != nil {
				return err
			}
			m.accounts[a.RegistrationID] = &a
		case "b:":
			var b MDFBudget
			if err := json.Unmarshal(body, &b); err != nil {
				return err
			}
			m.budgets[key[2:]] = &b
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mdf: %w", err)
	}
	return nil
}

// ApplyBatch implements Handler.
func (m *MDF) ApplyBatch(b *Batch, rec domain.RecordedEvent) error {
	if rec.Type != "RegistrationApproved" && !strings.HasPrefix(rec.Stream, "mdf-") {
		m.mu.Lock()
		if rec.Position >= m.next {
			m.advance(rec.Position)
		}
		m.mu.Unlock()
		return nil
	}
	ev, err := decodeEvent(b, rec)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec.Position < m.next {
		return nil
	}
	if err := m.apply(ev); err != nil {
		return badEvent(rec, err.Error())
	}
	m.advance(rec.Position)
	return nil
}

func (m *MDF) apply(ev domain.Event) error {
	switch e := ev.(type) {
	case domain.RegistrationApproved:
		if e.Benefits == nil || e.Benefits.MDF.Amount.Amount.IsZero() {
			return nil
		}
		alloc := e.Benefits.MDF.Amount
		m.add(e.Benefits.PartnerID, domain.Quarter(e.At), alloc.Currency, func(b *MDFBudget) { b.Allocated = b.Allocated.Add(alloc.Amount) })
		return nil
	case domain.MDFEvent:
		id := e.MDFRegistration()
		a := m.accounts[id]
		if r, ok := e.(domain.MDFRequested); ok && a == nil {
			a = &MDFAccountView{RegistrationID: id, PartnerID: r.PartnerID, Allocation: r.Allocation, PolicyVersion: r.PolicyVersion, Requests: []domain.MDFRequest{}}
			m.accounts[id] = a
		}
		if a == nil {
			return fmt.Errorf("an MDF event before the first request of registration %s", id)
		}
		// The account folds the event as the aggregate does, so the
		// view can never disagree with what commands decide on.
		acc, err := a.rebuild()
		if err != nil {
			return err
		}
		if err := acc.Apply(ev); err != nil {
			return err
		}
		a.Requests = acc.Requests()
		q := a.Requests[e.MDFRequestNumber()-1]
		quarter, cur := domain.Quarter(e.OccurredAt()), a.Allocation.Currency
		switch ev.(type) {
		case domain.MDFRequested:
			m.add(a.PartnerID, quarter, cur, func(b *MDFBudget) { b.Requested = b.Requested.Add(q.Requested.Amount) })
		case domain.MDFRequestApproved:
			m.add(a.PartnerID, quarter, cur, func(b *MDFBudget) { b.Approved = b.Approved.Add(q.Approved.Amount) })
		case domain.MDFClaimSubmitted:
			m.add(a.PartnerID, quarter, cur, func(b *MDFBudget) { b.Claimed = b.Claimed.Add(q.Claimed.Amount) })
		case domain.MDFClaimReimbursed:
			m.add(a.PartnerID, quarter, cur, func(b *MDFBudget) { b.Reimbursed = b.Reimbursed.Add(q.Reimbursed.Amount) })
		}
		m.rows.mark("a:"+id.String(), func() any { return a })
		return nil
	}
	return fmt.Errorf("not an MDF event")
}

// rebuild returns the aggregate of the account's requests, replayed from
// their state: the view keeps requests, not events.
func (a *MDFAccountView) rebuild() (*domain.MDFAccount, error) {
	return domain.RestoreMDF(a.RegistrationID, a.PartnerID, a.Requests)
}

func (m *MDF) add(partner, quarter, currency string, f func(*MDFBudget)) {
	key := budgetKey(partner, quarter, currency)
	b := m.budgets[key]
	if b == nil {
		b = &MDFBudget{PartnerID: partner, Quarter: quarter, Currency: currency}
		m.budgets[key] = b
	}
	f(b)
	m.rows.mark("b:"+key, func() any { return b })
}

// Flush implements Handler.
func (m *MDF) Flush() (Write, error) { return m.rows.flush(m.mu.RLocker()) }

// Committed implements Handler.
func (m *MDF) Committed(next uint64) {
	m.mu.Lock()
	m.next = next
	m.mu.Unlock()
}

func cloneAccount(a *MDFAccountView) MDFAccountView {
	out := *a
	out.Requests = make([]domain.MDFRequest, len(a.Requests))
	for i, q := range a.Requests {
		q.Receipts = slices.Clone(q.Receipts)
		q.ClaimReceipts = slices.Clone(q.ClaimReceipts)
		out.Requests[i] = q
	}
	return out
}

// Account returns the MDF requests of registration id, and false when it
// has none.
func (m *MDF) Account(id uuid.UUID) (MDFAccountView, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.accounts[id]
	if !ok {
		return MDFAccountView{}, false
	}
	return cloneAccount(a), true
}

// MDFRequestItem is one request in a list, with its registration.
type MDFRequestItem struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	PartnerID      string    `json:"partner_id"`
	domain.MDFRequest
}

// MDFRequestFilter narrows a list of requests; empty fields match all.
type MDFRequestFilter struct {
	PartnerID string
	State     domain.MDFState
}

// Requests returns the requests that match f, oldest first (channel
// marketing's queue with State requested or claimed).
func (m *MDF) Requests(f MDFRequestFilter) []MDFRequestItem {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []MDFRequestItem{}
	for _, a := range m.accounts {
		if f.PartnerID != "" && a.PartnerID != f.PartnerID {
			continue
		}
		for _, q := range cloneAccount(a).Requests {
			if f.State == "" || q.State == f.State {
				out = append(out, MDFRequestItem{RegistrationID: a.RegistrationID, PartnerID: a.PartnerID, MDFRequest: q})
			}
		}
	}
	slices.SortFunc(out, func(x, y MDFRequestItem) int {
		return cmp.Or(x.RequestedAt.Compare(y.RequestedAt), strings.Compare(x.RegistrationID.String(), y.RegistrationID.String()), x.Number-y.Number)
	})
	return out
}

// Budgets returns the budget views of partner (all partners when "") in
// quarter (all quarters when ""), by partner, quarter and currency.
func (m *MDF) Budgets(partner, quarter string) []MDFBudget {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []MDFBudget{}
	for _, b := range m.budgets {
		if (partner == "" || b.PartnerID == partner) && (quarter == "" || b.Quarter == quarter) {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(x, y MDFBudget) int {
		return cmp.Or(strings.Compare(x.PartnerID, y.PartnerID), strings.Compare(x.Quarter, y.Quarter), strings.Compare(x.Currency, y.Currency))
	})
	return out
}
