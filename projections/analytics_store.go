package projections

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
)

// Program analytics keeps its registration facts in views.db
// (docs/analytics.md, "Where the facts live"):
//
//   - analytics_facts: one row per registration, the fact encoded in one
//     column (appendFact), beside the columns its indexes need. Explain,
//     as-of, the edges of a period, consistency, ratings and the top
//     partners by week read them.
//   - analytics_cohorts: the figures of the facts of all time, of one year
//     and of one month of first submission, per partner, region (as last
//     submitted) and tier, summed, with the durations to approval sorted
//     (appendCohort): a query without explain and without as-of reads the
//     whole ledger, or a period's whole years and months, from here, one
//     row per combination instead of one per registration, and only the
//     period's edges from the facts.
//
// Both are written from the facts a batch changed: the fact's row again,
// and for the cohorts the difference between its contribution before the
// batch and after, so the rows depend only on the ledger, never on how it
// was cut into batches.
const analyticsSchema = `
CREATE TABLE IF NOT EXISTS analytics_facts (
	pos           INTEGER PRIMARY KEY, -- of RegistrationDrafted
	id            BLOB NOT NULL UNIQUE,
	partner_id    TEXT NOT NULL,
	submitted_pos INTEGER NOT NULL,    -- 0: not submitted
	submitted_at  INTEGER NOT NULL,
	decided_pos   INTEGER NOT NULL,
	decided_at    INTEGER NOT NULL,
	rated_pos     INTEGER NOT NULL,
	rated_at      INTEGER NOT NULL,
	fact          BLOB NOT NULL        -- the whole fact (appendFact): one column to read a row
);
CREATE TABLE IF NOT EXISTS analytics_cohorts (
	span       TEXT NOT NULL,    -- 'a': all time, 'y': a year, 'm': a month of first submission
	start      INTEGER NOT NULL, -- unix seconds of the year's or month's first instant, UTC (0 for all time)
	partner_id TEXT NOT NULL,
	region     TEXT NOT NULL,
	tier       TEXT NOT NULL,
	submitted  INTEGER NOT NULL, -- the body's volume, for the top partners without the body
	body       BLOB NOT NULL,    -- the cohort's figures (appendCohort)
	PRIMARY KEY (span, start, partner_id, region, tier)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS analytics_cohorts_partner ON analytics_cohorts (span, partner_id, start);
`

// analyticsIndexes are the facts' indexes: a period of first submissions
// (all partners, or one), of first decisions, of ratings.
const analyticsIndexes = `
CREATE INDEX IF NOT EXISTS analytics_submitted ON analytics_facts (submitted_at, submitted_pos) WHERE submitted_pos != 0;
CREATE INDEX IF NOT EXISTS analytics_partner_submitted ON analytics_facts (partner_id, submitted_at) WHERE submitted_pos != 0;
CREATE INDEX IF NOT EXISTS analytics_decided ON analytics_facts (decided_at) WHERE decided_pos != 0;
CREATE INDEX IF NOT EXISTS analytics_rated ON analytics_facts (rated_at) WHERE rated_pos != 0;
`

var analyticsIndexNames = []string{"analytics_submitted", "analytics_partner_submitted", "analytics_decided", "analytics_rated"}

// factColumns are what a flush writes of a fact (factArgs).
const factColumns = "pos, id, partner_id, submitted_pos, submitted_at, decided_pos, decided_at, rated_pos, rated_at, fact"

const factColumnCount = 10

const (
	getFactSQL       = "SELECT fact FROM analytics_facts WHERE id = ?"
	getCohortSQL     = "SELECT body FROM analytics_cohorts WHERE span = ? AND start = ? AND partner_id = ? AND region = ? AND tier = ?"
	putCohortSQL     = "INSERT OR REPLACE INTO analytics_cohorts (span, start, partner_id, region, tier, submitted, body) VALUES (?, ?, ?, ?, ?, ?, ?)"
	deleteCohortSQL  = "DELETE FROM analytics_cohorts WHERE span = ? AND start = ? AND partner_id = ? AND region = ? AND tier = ?"
	factsPerStatment = 64
)

// nanos is t in unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos (recorded times are UTC).
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func amountText(m domain.Money) string {
	if m.IsZero() {
		return ""
	}
	return m.Amount.String()
}

func moneyOf(amount, cur string) (domain.Money, error) {
	if amount == "" && cur == "" {
		return domain.Money{}, nil
	}
	d, err := decimal.NewFromString(amount)
	if err != nil {
		return domain.Money{}, err
	}
	return domain.Money{Amount: d, Currency: cur}, nil
}

// factArgs appends f's columns to args.
func factArgs(args []any, f *RegistrationFact) []any {
	return append(args, int64(f.pos), f.ID[:], f.PartnerID, int64(f.SubmittedPos), nanos(f.SubmittedAt), int64(f.DecidedPos), nanos(f.DecidedAt),
		int64(f.RatedPos), nanos(f.RatedAt), appendFact(nil, f))
}

// factEncoding is the first byte of an encoded fact: its layout's version.
const factEncoding = 1

// appendFact appends f's encoding (decodeFact reads it): the ID, then
// its strings (length-prefixed), positions (uvarints), times (varints of
// nanos) and flags.
func appendFact(b []byte, f *RegistrationFact) []byte {
	b = append(b, factEncoding)
	b = append(b, f.ID[:]...)
	for _, s := range [...]string{f.PartnerID, f.Region, f.Country, f.Tier, f.Type, f.Verdict, amountText(f.Value), f.Value.Currency,
		f.Rule, f.Reason, f.Outcome, amountText(f.WonValue), f.WonValue.Currency, f.Comment} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, n := range [...]uint64{f.pos, f.SubmittedPos, f.DecidedPos, f.ApprovedPos, f.ExpiredPos, f.WonPos, f.EndedPos, f.ConflictPos,
		f.RatedPos, uint64(f.Score)} {
		b = binary.AppendUvarint(b, n)
	}
	for _, t := range [...]time.Time{f.SubmittedAt, f.DecidedAt, f.ApprovedAt, f.ProtectionEnd, f.ExpiredAt, f.WonAt, f.RatedAt} {
		b = binary.AppendVarint(b, nanos(t))
	}
	var flags byte
	for i, v := range [...]bool{f.HasProof, f.Auto, f.autoPending, f.WonProtected} {
		if v {
			flags |= 1 << i
		}
	}
	return append(b, flags)
}

// factReader decodes an encoded fact; strs shares the repeated strings of
// the facts one scan reads.
type factReader struct {
	b    []byte
	err  error
	strs map[string]string
}

func (r *factReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errBadFact, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *factReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = errBadFact, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *factReader) str(shared bool) string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errBadFact, nil
		return ""
	}
	raw := r.b[:n]
	r.b = r.b[n:]
	if n == 0 {
		return ""
	}
	if shared && r.strs != nil {
		if s, ok := r.strs[string(raw)]; ok { // no allocation for the lookup
			return s
		}
		s := string(raw)
		r.strs[s] = s
		return s
	}
	return string(raw)
}

var errBadFact = errors.New("analytics: an encoded fact is malformed")

// decodeFact reads what appendFact wrote.
func decodeFact(b []byte, strs map[string]string) (*RegistrationFact, error) {
	f := &RegistrationFact{}
	if err := decodeFactInto(f, b, strs); err != nil {
		return nil, err
	}
	return f, nil
}

// decodeFactInto reads what appendFact wrote into f.
func decodeFactInto(f *RegistrationFact, b []byte, strs map[string]string) error {
	if len(b) < 17 || b[0] != factEncoding {
		return errBadFact
	}
	*f = RegistrationFact{}
	copy(f.ID[:], b[1:17])
	r := &factReader{b: b[17:], strs: strs}
	f.PartnerID, f.Region, f.Country, f.Tier, f.Type, f.Verdict = r.str(true), r.str(true), r.str(true), r.str(true), r.str(true), r.str(true)
	value, valueCur := r.str(false), r.str(true)
	f.Rule, f.Reason, f.Outcome = r.str(true), r.str(true), r.str(true)
	won, wonCur := r.str(false), r.str(true)
	f.Comment = r.str(false)
	f.pos, f.SubmittedPos, f.DecidedPos, f.ApprovedPos, f.ExpiredPos = r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()
	f.WonPos, f.EndedPos, f.ConflictPos, f.RatedPos = r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()
	f.Score = int(r.uvarint())
	f.SubmittedAt, f.DecidedAt, f.ApprovedAt, f.ProtectionEnd = fromNanos(r.varint()), fromNanos(r.varint()), fromNanos(r.varint()), fromNanos(r.varint())
	f.ExpiredAt, f.WonAt, f.RatedAt = fromNanos(r.varint()), fromNanos(r.varint()), fromNanos(r.varint())
	if r.err != nil || len(r.b) != 1 {
		return errBadFact
	}
	flags := r.b[0]
	f.HasProof, f.Auto, f.autoPending, f.WonProtected = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0
	var err error
	if f.Value, err = moneyOf(value, valueCur); err != nil {
		return err
	}
	f.WonValue, err = moneyOf(won, wonCur)
	return err
}

// monthOf is the start of t's month, UTC, in unix seconds.
func monthOf(t time.Time) int64 {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Unix()
}

// yearOf is the start of t's year, UTC, in unix seconds.
func yearOf(t time.Time) int64 {
	return time.Date(t.UTC().Year(), 1, 1, 0, 0, 0, 0, time.UTC).Unix()
}

// The spans of time a cohort sums.
const (
	spanAll   = "a"
	spanYear  = "y"
	spanMonth = "m"
)

// cohortKey names a row of analytics_cohorts.
type cohortKey struct {
	span                  string
	start                 int64
	partner, region, tier string
}

// wonSum is the closed-won values of one currency: how many, and their
// exact sum.
type wonSum struct {
	N   int
	Sum decimal.Decimal
}

// cohort is the summed figures of a set of facts, as a query without
// Before counts them (regAcc.count): a row of analytics_cohorts, or (with
// signed counts) the change a batch makes to one.
type cohort struct {
	Submitted   int
	Decided     int
	Approved    int
	Auto        int
	Rejected    int
	Duplicates  int
	ApprovalNum int // decided and approved
	UtilNum     int // approved, won while protected
	ExpiryNum   int // approved and expired
	WonNum      int
	ConflictNum int
	Rated       int
	ScoreSum    int
	// Won is by currency.
	Won map[string]wonSum
	// Manual and Automatic are the durations to approval (nanoseconds),
	// by a reviewer or a conflict and automatic, sorted. In a change,
	// the durations added; Gone* those removed.
	Manual        []time.Duration
	Automatic     []time.Duration
	GoneManual    []time.Duration
	GoneAutomatic []time.Duration
}

// spans returns the cohorts (of all time, of the year, of the month) of a
// fact of key k first submitted at at.
func (k cohortKey) spans(at time.Time) [3]cohortKey {
	all, year, month := k, k, k
	all.span, all.start = spanAll, 0
	year.span, year.start = spanYear, yearOf(at)
	month.span, month.start = spanMonth, monthOf(at)
	return [3]cohortKey{all, year, month}
}

// contribution returns what fact f adds to each of its cohorts (of all
// time, its year, its month of first submission), and the key of its
// month's; false when f counts nowhere (never submitted).
func (f *RegistrationFact) contribution() (cohortKey, cohort, bool) {
	if f.SubmittedPos == 0 {
		return cohortKey{}, cohort{}, false
	}
	k := cohortKey{spanMonth, monthOf(f.SubmittedAt), f.PartnerID, f.Region, f.Tier}
	c := cohort{Submitted: 1}
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	if f.DecidedPos != 0 {
		c.Decided = 1
		c.Rejected, c.Duplicates = b(f.Outcome == "rejected"), b(f.Outcome == "duplicate")
		c.ApprovalNum = b(f.ApprovedPos != 0)
	}
	if f.ApprovedPos != 0 {
		c.Approved = 1
		l := f.ApprovedAt.Sub(f.SubmittedAt)
		if f.Auto {
			c.Auto, c.Automatic = 1, []time.Duration{l}
		} else {
			c.Manual = []time.Duration{l}
		}
		c.UtilNum = b(f.WonProtected && f.WonPos != 0)
		c.ExpiryNum = b(f.ExpiredPos != 0)
	}
	c.WonNum, c.ConflictNum = b(f.WonPos != 0), b(f.ConflictPos != 0)
	if f.RatedPos != 0 {
		c.Rated, c.ScoreSum = 1, f.Score
	}
	if f.WonPos != 0 && f.WonValue.Currency != "" {
		c.Won = map[string]wonSum{f.WonValue.Currency: {N: 1, Sum: f.WonValue.Amount}}
	}
	return k, c, true
}

// add adds o (sign 1) or takes it away (sign -1).
func (c *cohort) add(o cohort, sign int) {
	c.Submitted += sign * o.Submitted
	c.Decided += sign * o.Decided
	c.Approved += sign * o.Approved
	c.Auto += sign * o.Auto
	c.Rejected += sign * o.Rejected
	c.Duplicates += sign * o.Duplicates
	c.ApprovalNum += sign * o.ApprovalNum
	c.UtilNum += sign * o.UtilNum
	c.ExpiryNum += sign * o.ExpiryNum
	c.WonNum += sign * o.WonNum
	c.ConflictNum += sign * o.ConflictNum
	c.Rated += sign * o.Rated
	c.ScoreSum += sign * o.ScoreSum
	for cur, w := range o.Won {
		if c.Won == nil {
			c.Won = map[string]wonSum{}
		}
		s := c.Won[cur]
		s.N += sign * w.N
		if sign > 0 {
			s.Sum = s.Sum.Add(w.Sum)
		} else {
			s.Sum = s.Sum.Sub(w.Sum)
		}
		if s.N == 0 {
			delete(c.Won, cur)
		} else {
			c.Won[cur] = s
		}
	}
	if sign > 0 {
		c.Manual = append(c.Manual, o.Manual...)
		c.Automatic = append(c.Automatic, o.Automatic...)
	} else {
		c.GoneManual = append(c.GoneManual, o.Manual...)
		c.GoneAutomatic = append(c.GoneAutomatic, o.Automatic...)
	}
}

// apply applies change d to stored cohort c: the counts, then the
// durations removed and added, kept sorted.
func (c *cohort) apply(d cohort) {
	gm, ga := d.GoneManual, d.GoneAutomatic
	d.GoneManual, d.GoneAutomatic = nil, nil
	add := d.Manual
	auto := d.Automatic
	d.Manual, d.Automatic = nil, nil
	c.add(d, 1)
	c.Manual = mergeDurations(c.Manual, add, gm)
	c.Automatic = mergeDurations(c.Automatic, auto, ga)
}

// cohortEncoding is the first byte of an encoded cohort: its layout's
// version.
const cohortEncoding = 1

// appendCohort appends c's encoding (decodeCohort reads it): the counts
// (varints), the closed-won sums by currency (sorted), then each list of
// durations as its length and the differences between neighbours (they
// are sorted: small numbers).
func appendCohort(b []byte, c *cohort) []byte {
	b = append(b, cohortEncoding)
	for _, n := range [...]int{c.Submitted, c.Decided, c.Approved, c.Auto, c.Rejected, c.Duplicates, c.ApprovalNum, c.UtilNum,
		c.ExpiryNum, c.WonNum, c.ConflictNum, c.Rated, c.ScoreSum} {
		b = binary.AppendVarint(b, int64(n))
	}
	curs := make([]string, 0, len(c.Won))
	for cur := range c.Won {
		curs = append(curs, cur)
	}
	slices.Sort(curs)
	b = binary.AppendUvarint(b, uint64(len(curs)))
	for _, cur := range curs {
		w := c.Won[cur]
		sum := w.Sum.String()
		b = binary.AppendUvarint(b, uint64(len(cur)))
		b = append(b, cur...)
		b = binary.AppendVarint(b, int64(w.N))
		b = binary.AppendUvarint(b, uint64(len(sum)))
		b = append(b, sum...)
	}
	for _, ds := range [...][]time.Duration{c.Manual, c.Automatic} {
		b = binary.AppendUvarint(b, uint64(len(ds)))
		var prev time.Duration
		for _, d := range ds {
			b = binary.AppendVarint(b, int64(d-prev))
			prev = d
		}
	}
	return b
}

// decodeCohort reads what appendCohort wrote into c, reusing its lists.
func decodeCohort(c *cohort, b []byte) error {
	if len(b) == 0 || b[0] != cohortEncoding {
		return errBadCohort
	}
	r := &factReader{b: b[1:]}
	for _, n := range [...]*int{&c.Submitted, &c.Decided, &c.Approved, &c.Auto, &c.Rejected, &c.Duplicates, &c.ApprovalNum, &c.UtilNum,
		&c.ExpiryNum, &c.WonNum, &c.ConflictNum, &c.Rated, &c.ScoreSum} {
		*n = int(r.varint())
	}
	clear(c.Won)
	for range r.uvarint() {
		if r.err != nil {
			return errBadCohort
		}
		cur := r.str(false)
		n := int(r.varint())
		sum, err := decimal.NewFromString(r.str(false))
		if err != nil {
			return errBadCohort
		}
		if c.Won == nil {
			c.Won = map[string]wonSum{}
		}
		c.Won[cur] = wonSum{N: n, Sum: sum}
	}
	for _, ds := range [...]*[]time.Duration{&c.Manual, &c.Automatic} {
		n := r.uvarint()
		if r.err != nil || n > uint64(len(r.b)) {
			return errBadCohort
		}
		*ds = slices.Grow((*ds)[:0], int(n))
		var prev time.Duration
		for range n {
			prev += time.Duration(r.varint())
			*ds = append(*ds, prev)
		}
	}
	c.GoneManual, c.GoneAutomatic = nil, nil
	if r.err != nil || len(r.b) != 0 {
		return errBadCohort
	}
	return nil
}

var errBadCohort = errors.New("analytics: an encoded cohort is malformed")

// mergeDurations returns sorted with added inserted and each of gone
// removed once, sorted.
func mergeDurations(sorted, added, gone []time.Duration) []time.Duration {
	out := append(sorted, added...)
	slices.Sort(out)
	if len(gone) == 0 {
		return out
	}
	n := map[time.Duration]int{}
	for _, g := range gone {
		n[g]++
	}
	kept := out[:0]
	for _, v := range out {
		if n[v] > 0 {
			n[v]--
			continue
		}
		kept = append(kept, v)
	}
	return kept
}

// factChange is a fact changed since the last flush, with what it
// contributed to its cohort before.
type factChange struct {
	f       *RegistrationFact
	had     bool
	key     cohortKey
	contrib cohort
}

// analyticsWrite is what one flush of Analytics stores.
type analyticsWrite struct {
	facts   []any // factColumnCount a fact
	cohorts map[cohortKey]cohort
	rows    Write
}

func (w *analyticsWrite) write(ctx context.Context, tx *sql.Tx) error {
	if w.rows != nil {
		if err := w.rows(ctx, tx); err != nil {
			return err
		}
	}
	err := execChunked(ctx, tx, w.facts, factColumnCount, factsPerStatment, func(n int) string {
		return "INSERT OR REPLACE INTO analytics_facts (" + factColumns + ") VALUES " + placeholders(n, factColumnCount)
	})
	if err != nil {
		return err
	}
	if len(w.cohorts) == 0 {
		return nil
	}
	keys := make([]cohortKey, 0, len(w.cohorts))
	for k := range w.cohorts {
		keys = append(keys, k)
	}
	// In key order: the table is written page by page.
	slices.SortFunc(keys, func(a, b cohortKey) int {
		return cmp.Or(cmp.Compare(a.span, b.span), cmp.Compare(a.start, b.start), cmp.Compare(a.partner, b.partner), cmp.Compare(a.region, b.region), cmp.Compare(a.tier, b.tier))
	})
	get, err := prepareTx(ctx, tx, getCohortSQL)
	if err != nil {
		return err
	}
	defer get.Close()
	for _, k := range keys {
		var c cohort
		var body []byte
		switch err := get.QueryRowContext(ctx, k.span, k.start, k.partner, k.region, k.tier).Scan(&body); {
		case err == sql.ErrNoRows:
		case err != nil:
			return err
		default:
			if err := decodeCohort(&c, body); err != nil {
				return err
			}
		}
		c.apply(w.cohorts[k])
		if c.Submitted == 0 {
			if _, err := execTx(ctx, tx, deleteCohortSQL, k.span, k.start, k.partner, k.region, k.tier); err != nil {
				return err
			}
			continue
		}
		body = appendCohort(body[:0], &c)
		if _, err := execTx(ctx, tx, putCohortSQL, k.span, k.start, k.partner, k.region, k.tier, c.Submitted, body); err != nil {
			return err
		}
	}
	return nil
}

// loadFact reads registration id's fact from the state database; nil if
// it has none.
func loadFact(db *sql.DB, id uuid.UUID) (*RegistrationFact, error) {
	var b []byte
	err := queryRow(db, getFactSQL, id[:]).Scan(&b)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeFact(b, nil)
}

// The bounds of an open period, in unix nanoseconds.
const (
	minNanos = math.MinInt64
	maxNanos = math.MaxInt64
)

func periodNanos(from, to time.Time) (int64, int64) {
	lo, hi := int64(minNanos), int64(maxNanos)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	if !to.IsZero() {
		hi = to.UnixNano()
	}
	return lo, hi
}

func beforeBound(before uint64) int64 {
	if before == 0 || before > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(before)
}

// scanFacts calls fn with every fact q selects (q selects column fact).
// The fact passed is decoded again for the next row: fn must not keep it.
func scanFacts(db *sql.DB, q string, args []any, fn func(*RegistrationFact)) error {
	rows, err := query(db, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	strs := map[string]string{}
	var b sql.RawBytes
	f := &RegistrationFact{}
	for rows.Next() {
		if err := rows.Scan(&b); err != nil {
			return err
		}
		if err := decodeFactInto(f, b, strs); err != nil {
			return err
		}
		fn(f)
	}
	return rows.Err()
}

// submittedFacts calls fn with the facts first submitted in [from, to)
// before position before (0: all), of partner if given (in ledger order
// unless the period is the whole ledger: the callers' figures do not
// depend on the order).
func submittedFacts(db *sql.DB, from, to time.Time, before uint64, partner string, fn func(*RegistrationFact)) error {
	lo, hi := periodNanos(from, to)
	if partner != "" {
		return scanFacts(db, `SELECT fact FROM analytics_facts INDEXED BY analytics_partner_submitted
			WHERE submitted_pos != 0 AND partner_id = ? AND submitted_at >= ? AND submitted_at < ? AND submitted_pos < ?
			ORDER BY submitted_at, submitted_pos`, []any{partner, lo, hi, beforeBound(before)}, fn)
	}
	if from.IsZero() && to.IsZero() {
		// The whole ledger: reading the table in its order costs less than
		// looking each row up from the index.
		return scanFacts(db, `SELECT fact FROM analytics_facts NOT INDEXED WHERE submitted_pos != 0 AND submitted_pos < ?`,
			[]any{beforeBound(before)}, fn)
	}
	return scanFacts(db, `SELECT fact FROM analytics_facts INDEXED BY analytics_submitted
		WHERE submitted_pos != 0 AND submitted_at >= ? AND submitted_at < ? AND submitted_pos < ?
		ORDER BY submitted_at, submitted_pos`, []any{lo, hi, beforeBound(before)}, fn)
}

// cohortRange is the cohorts of one span whose start is in [lo, hi).
type cohortRange struct {
	span   string
	lo, hi int64
}

// cohorts calls fn with the cohort rows of r, of partner and tier if
// given.
func cohorts(db *sql.DB, r cohortRange, partner, tier string, fn func(cohortKey, *cohort) error) error {
	rows, err := query(db, `SELECT start, partner_id, region, tier, body FROM analytics_cohorts
		WHERE span = ? AND start >= ? AND start < ? AND (? = '' OR partner_id = ?) AND (? = '' OR tier = ?)`,
		r.span, r.lo, r.hi, partner, partner, tier, tier)
	if err != nil {
		return err
	}
	defer rows.Close()
	c := &cohort{}
	for rows.Next() {
		k := cohortKey{span: r.span}
		var body sql.RawBytes
		if err := rows.Scan(&k.start, &k.partner, &k.region, &k.tier, &body); err != nil {
			return err
		}
		if err := decodeCohort(c, body); err != nil {
			return err
		}
		if err := fn(k, c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// splitPeriod splits the period [from, to) into what the cohorts answer
// (the whole ledger from the all-time cohorts; else its whole years, then
// the whole months around them) and its edges, which the facts answer.
// With months, only whole months are used (the top partners' buckets).
func splitPeriod(from, to time.Time, monthsOnly bool) (ranges []cohortRange, edges [][2]time.Time) {
	if from.IsZero() && to.IsZero() && !monthsOnly {
		return []cohortRange{{spanAll, math.MinInt64, math.MaxInt64}}, nil
	}
	mlo, mhi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		mlo = monthOf(from)
		if time.Unix(mlo, 0).Before(from) {
			mlo = time.Unix(mlo, 0).UTC().AddDate(0, 1, 0).Unix()
		}
	}
	if !to.IsZero() {
		mhi = monthOf(to)
	}
	if mlo >= mhi {
		return nil, [][2]time.Time{{from, to}}
	}
	if !from.IsZero() && from.Before(time.Unix(mlo, 0)) {
		edges = append(edges, [2]time.Time{from, time.Unix(mlo, 0).UTC()})
	}
	if !to.IsZero() && time.Unix(mhi, 0).Before(to) {
		edges = append(edges, [2]time.Time{time.Unix(mhi, 0).UTC(), to})
	}
	ylo, yhi := mlo, mhi
	if mlo != math.MinInt64 {
		if ylo = yearOf(time.Unix(mlo, 0)); ylo < mlo {
			ylo = time.Unix(ylo, 0).UTC().AddDate(1, 0, 0).Unix()
		}
	}
	if mhi != math.MaxInt64 {
		yhi = yearOf(time.Unix(mhi, 0))
	}
	if monthsOnly || ylo >= yhi {
		return []cohortRange{{spanMonth, mlo, mhi}}, edges
	}
	ranges = []cohortRange{{spanYear, ylo, yhi}}
	if mlo < ylo {
		ranges = append(ranges, cohortRange{spanMonth, mlo, ylo})
	}
	if yhi < mhi {
		ranges = append(ranges, cohortRange{spanMonth, yhi, mhi})
	}
	return ranges, edges
}

// groupKey is the value of group key k of a registration of partner,
// region and tier; regions are grouped without regard to case.
func groupKey(partner, region, tier, k string) string {
	switch k {
	case "partner":
		return partner
	case "region":
		return strings.ToLower(region)
	}
	return tier
}
