package projections

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
)

// The registration list and the pipeline summary answer as they stood at
// a past moment from table registration_history: one row per version of a
// registration's filter and summary columns, valid from the position of
// the event that made it (valid_from, included) to that of the next
// version's event (valid_to, excluded; openEnd while current). A version
// is written per event, not per batch: the rows depend only on the ledger,
// never on how it was cut into batches, so a state built live, resumed or
// rebuilt holds the same history. An event that changes none of the
// columns (an attachment, a reminder) writes nothing.

// openEnd is the valid_to of a registration's current version.
const openEnd = math.MaxInt64

// histCols are the columns of a registration's version: what ListFilter
// selects by, what Summary groups and sums, and the sort keys an as-of
// list may order by.
type histCols struct {
	partner, status, typ, country, region, industry, stage, closeQ, currency, products string
	valueE4, lapses, progress                                                          int64
	protected                                                                          bool
}

// histVersion is a version waiting for the batch's write.
type histVersion struct {
	from uint64
	cols histCols
}

// history is what a registration keeps for its history rows.
type history struct {
	known   bool     // cols is the version as of the latest event folded
	cols    histCols // the latest version
	from    uint64   // its valid_from
	written bool     // a version of an earlier batch is in the table, open, from dbFrom
	dbFrom  uint64
	pending []histVersion // versions of this batch, in ledger order
	memo    histMemo
}

// histColumns reads r's version from its aggregate. The columns derived
// from the details (lower case, quarter, value in ten-thousandths,
// products) are recomputed only when the details they come from changed:
// most events change the status alone.
func (r *registration) histColumns() histCols {
	a := r.agg
	acc, opp := a.Account(), a.Opportunity()
	m := &r.hist.memo
	if !m.valid || acc.Country != m.country || acc.Region != m.region || acc.Industry != m.industry {
		m.country, m.region, m.industry = acc.Country, acc.Region, acc.Industry
		m.cols.country, m.cols.region, m.cols.industry = strings.ToLower(acc.Country), strings.ToLower(acc.Region), strings.ToLower(acc.Industry)
	}
	if !m.valid || !opp.ExpectedCloseDate.Equal(m.close) {
		m.close, m.cols.closeQ = opp.ExpectedCloseDate, Quarter(opp.ExpectedCloseDate)
	}
	if !m.valid || !opp.EstimatedValue.Amount.Equal(m.amount) {
		m.amount, m.cols.valueE4 = opp.EstimatedValue.Amount, valueE4(opp.EstimatedValue.Amount)
	}
	if !m.valid || !slices.Equal(opp.ProductLines, m.lines) {
		m.lines, m.cols.products = slices.Clone(opp.ProductLines), productsColumn(opp.ProductLines)
	}
	m.valid = true
	c := m.cols
	c.partner, c.status, c.typ = a.PartnerID(), string(a.Status()), string(a.Type())
	c.stage, c.currency, c.protected = string(opp.BuyingStage), opp.EstimatedValue.Currency, a.Status().Protected()
	c.lapses, c.progress = 0, 0
	if t := a.ProtectionLapsesAt(); !t.IsZero() {
		c.lapses = t.UnixNano()
	}
	if !r.lastProgressAt.IsZero() {
		c.progress = r.lastProgressAt.UnixNano()
	}
	return c
}

// histMemo keeps the details the derived columns were computed from.
type histMemo struct {
	valid                     bool
	country, region, industry string
	close                     time.Time
	amount                    decimal.Decimal
	lines                     []string
	cols                      histCols // the derived columns only
}

// track records the version r stands at after the event at pos, if it
// differs from the one before. With record false (a registration folded
// again from its stream after eviction) nothing is queued: those versions
// were written when the events were first applied.
func (r *registration) track(pos uint64, record bool) {
	c := r.histColumns()
	if r.hist.known && c == r.hist.cols {
		return
	}
	r.hist.known, r.hist.cols, r.hist.from = true, c, pos
	if record {
		r.hist.pending = append(r.hist.pending, histVersion{from: pos, cols: c})
	} else {
		r.hist.written, r.hist.dbFrom = true, pos
	}
}

// historyWrite is what one registration's batch writes to the history.
type historyWrite struct {
	close    bool // close the open version from closeAt at the first new one
	closeAt  uint64
	regPos   uint64
	versions []histVersion
}

// takeHistory returns r's pending versions for the batch's write and marks
// them written.
func (r *registration) takeHistory() (historyWrite, bool) {
	h := &r.hist
	if len(h.pending) == 0 {
		return historyWrite{}, false
	}
	w := historyWrite{close: h.written, closeAt: h.dbFrom, regPos: r.position, versions: h.pending}
	h.written, h.dbFrom, h.pending = true, h.pending[len(h.pending)-1].from, nil
	return w, true
}

// writeHistory writes the versions of a batch.
func writeHistory(ctx context.Context, tx *sql.Tx, writes []historyWrite) error {
	if len(writes) == 0 {
		return nil
	}
	closeStmt, err := tx.PrepareContext(ctx, "UPDATE registration_history SET valid_to = ? WHERE valid_from = ?")
	if err != nil {
		return err
	}
	defer closeStmt.Close()
	type row struct {
		from, to, regPos int64
		cols             histCols
	}
	n := 0
	for _, w := range writes {
		n += len(w.versions)
	}
	rows := make([]row, 0, n)
	for _, w := range writes {
		if w.close {
			if _, err := closeStmt.ExecContext(ctx, int64(w.versions[0].from), int64(w.closeAt)); err != nil {
				return err
			}
		}
		for i, v := range w.versions {
			to := int64(openEnd)
			if i+1 < len(w.versions) {
				to = int64(w.versions[i+1].from)
			}
			rows = append(rows, row{int64(v.from), to, int64(w.regPos), v.cols})
		}
	}
	// In key order: the table grows at its end, page by page.
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(a.from, b.from) })
	const cols = 17
	args := make([]any, 0, len(rows)*cols)
	for _, r := range rows {
		c := r.cols
		args = append(args, r.from, r.to, r.regPos, c.partner, c.status, c.typ, c.country, c.region,
			c.industry, c.stage, c.closeQ, c.currency, c.valueE4, c.products, c.protected, c.lapses, c.progress)
	}
	// 32 rows a statement: one statement's overhead for many rows.
	return execChunked(ctx, tx, args, cols, 32, func(n int) string {
		return `INSERT INTO registration_history
		(valid_from, valid_to, reg_pos, partner_id, status, type, country, region, industry, stage, close_q, currency,
		value_e4, products, protected, lapses_at, progress_at) VALUES ` + placeholders(n, cols)
	})
}

// atMoment returns the condition selecting the versions that held just
// before position before (every event below it applied), with its
// arguments.
func atMoment(before uint64) (string, []any) {
	p := int64(min(before, openEnd)) - 1
	return "valid_from <= ? AND valid_to > ?", []any{p, p}
}

// errAsOfUnavailable answers a time-travel query of a projection without
// a ledger.
var errAsOfUnavailable = domain.Errorf(domain.EUNAVAILABLE, "registrations as of a past moment need the ledger")
