package projections

import (
	"cmp"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
)

// AnalyticsFilter selects what an analytics query counts. The period is
// [From, To) of recorded time; a zero bound is open. Zero fields match
// everything; Region matches regardless of case.
type AnalyticsFilter struct {
	From, To  time.Time
	PartnerID string
	Region    string
	Tier      string
	// Explain asks for the ledger positions behind every figure.
	Explain bool
	// Before, when set, answers as the ledger stood before that global
	// position (time travel): every event at or after it is ignored.
	Before uint64
}

// seen reports whether the event at pos (0: none) counts: it happened,
// before f.Before if set.
func (f AnalyticsFilter) seen(pos uint64) bool { return pos != 0 && (f.Before == 0 || pos < f.Before) }

func (f AnalyticsFilter) inPeriod(t time.Time) bool {
	return !t.IsZero() && (f.From.IsZero() || !t.Before(f.From)) && (f.To.IsZero() || t.Before(f.To))
}

// AnalyticsKeys are what registration analytics can group by.
var AnalyticsKeys = []string{"partner", "region", "tier"}

// RateDecimals is how many decimals a rate or an average is rounded to
// (half away from zero); the exact numerator and denominator come with it.
const RateDecimals = 4

// Ratio is a share: Numerator of Denominator, and their quotient rounded to
// RateDecimals (null when the denominator is 0: nothing to divide).
// Explain lists the positions of the events counted in each.
type Ratio struct {
	Numerator   int              `json:"numerator"`
	Denominator int              `json:"denominator"`
	Value       *decimal.Decimal `json:"value"`
	Explain     *RatioExplain    `json:"explain,omitempty"`
}

// RatioExplain names the events a Ratio counts.
type RatioExplain struct {
	Numerator   []uint64 `json:"numerator"`
	Denominator []uint64 `json:"denominator"`
}

func (r *Ratio) add(num bool, numPos, denPos uint64, explain bool) {
	r.Denominator++
	if num {
		r.Numerator++
	}
	if explain {
		if r.Explain == nil {
			r.Explain = &RatioExplain{Numerator: []uint64{}, Denominator: []uint64{}}
		}
		r.Explain.Denominator = append(r.Explain.Denominator, denPos)
		if num {
			r.Explain.Numerator = append(r.Explain.Numerator, numPos)
		}
	}
}

func (r *Ratio) finish() {
	if r.Denominator > 0 {
		v := decimal.NewFromInt(int64(r.Numerator)).DivRound(decimal.NewFromInt(int64(r.Denominator)), RateDecimals)
		r.Value = &v
	}
	if r.Explain != nil {
		slices.Sort(r.Explain.Numerator)
		slices.Sort(r.Explain.Denominator)
	}
}

// Span is one duration a DurationStats counts: from the event at From to
// the one at To, for registration or conflict ID.
type Span struct {
	ID      uuid.UUID     `json:"id"`
	From    uint64        `json:"from_position"`
	To      uint64        `json:"to_position"`
	Length  time.Duration `json:"-"`
	Seconds int64         `json:"seconds"` // whole seconds, truncated
}

// DurationStats are the median and 90th percentile of durations, by the
// nearest-rank method: of n durations sorted, the p-th percentile is the
// ceil(p·n/100)-th, so both are durations that happened. Zero Count: none.
type DurationStats struct {
	Count   int             `json:"count"`
	Median  time.Duration   `json:"-"`
	P90     time.Duration   `json:"-"`
	Explain []Span          `json:"explain,omitempty"`
	spans   []Span          // with explain
	lengths []time.Duration // without
}

func (d *DurationStats) add(id uuid.UUID, from, to uint64, fromAt, toAt time.Time, explain bool) {
	l := toAt.Sub(fromAt)
	if !explain {
		d.lengths = append(d.lengths, l) // only the figures: no span to name
		return
	}
	d.spans = append(d.spans, Span{ID: id, From: from, To: to, Length: l, Seconds: int64(l / time.Second)})
}

func (d *DurationStats) finish(explain bool) {
	if !explain {
		d.Count = len(d.lengths)
		if d.Count > 0 {
			slices.Sort(d.lengths)
			d.Median, d.P90 = d.lengths[rankIndex(d.Count, 50)], d.lengths[rankIndex(d.Count, 90)]
		}
		d.lengths = nil
		return
	}
	d.Count = len(d.spans)
	if d.Count == 0 {
		return
	}
	slices.SortFunc(d.spans, func(a, b Span) int {
		return cmp.Or(cmp.Compare(a.Length, b.Length), cmp.Compare(a.To, b.To))
	})
	d.Median, d.P90 = d.spans[rankIndex(d.Count, 50)].Length, d.spans[rankIndex(d.Count, 90)].Length
	d.Explain = d.spans
	d.spans = nil // served as Explain
}

// rankIndex is the index of the nearest-rank p-th percentile of n sorted
// values: the ceil(p·n/100)-th.
func rankIndex(n, p int) int { return max((p*n+99)/100-1, 0) }

// Average is a mean score: Sum over Count, rounded to RateDecimals (null
// when Count is 0). Explain lists the positions of the ratings.
type Average struct {
	Count   int              `json:"count"`
	Sum     int              `json:"sum"`
	Value   *decimal.Decimal `json:"value"`
	Explain []uint64         `json:"explain,omitempty"`
}

// RegistrationMetrics are the program's figures for the registrations
// first submitted in a period (docs/analytics.md defines each).
type RegistrationMetrics struct {
	Key map[string]string `json:"key"`
	// Submitted is the volume; Positions (with explain) are the
	// submissions.
	Submitted          int            `json:"submitted"`
	Positions          []uint64       `json:"positions,omitempty"`
	Decided            int            `json:"decided"`
	Approved           int            `json:"approved"`
	AutoApproved       int            `json:"auto_approved"`
	Rejected           int            `json:"rejected"`
	Duplicates         int            `json:"duplicates"`
	ApprovalRate       Ratio          `json:"approval_rate"`
	TimeToApproval     DurationStats  `json:"time_to_approval"`
	TimeToAutoApproval DurationStats  `json:"time_to_auto_approval"`
	Utilisation        Ratio          `json:"protection_utilisation"`
	Conversion         Ratio          `json:"conversion"`
	ExpiryRate         Ratio          `json:"expiry_rate"`
	ConflictRate       Ratio          `json:"conflict_rate"`
	Satisfaction       Average        `json:"satisfaction"`
	WonValue           []domain.Money `json:"won_value"`
}

// RegistrationAnalytics is the answer of a registration analytics query:
// one group per key combination (largest first), and the total.
type RegistrationAnalytics struct {
	GroupBy []string              `json:"group_by"`
	Groups  []RegistrationMetrics `json:"groups"`
	Total   RegistrationMetrics   `json:"total"`
}

func (f AnalyticsFilter) matchesReg(r *RegistrationFact) bool {
	return f.seen(r.SubmittedPos) && f.inPeriod(r.SubmittedAt) &&
		(f.PartnerID == "" || r.PartnerID == f.PartnerID) &&
		(f.Region == "" || strings.EqualFold(r.Region, f.Region)) &&
		(f.Tier == "" || r.Tier == f.Tier)
}

// Registrations computes the registration metrics of the registrations
// first submitted within f's period, grouped by groupBy (names of
// AnalyticsKeys). Without Explain and Before, the period's whole months
// are summed from the cohorts and only its edges from the facts.
func (p *Analytics) Registrations(f AnalyticsFilter, groupBy []string) (RegistrationAnalytics, error) {
	for _, k := range groupBy {
		if !slices.Contains(AnalyticsKeys, k) {
			return RegistrationAnalytics{}, domain.Errorf(domain.EINVALID, "cannot group by %q", k)
		}
	}
	db, err := p.stateDB()
	if err != nil {
		return RegistrationAnalytics{}, err
	}
	type acc = regAcc
	newAcc := func(key map[string]string) *acc {
		return &acc{m: RegistrationMetrics{Key: key}, won: map[string]decimal.Decimal{}}
	}
	total := newAcc(map[string]string{})
	groups := map[string]*acc{}
	var buf []byte
	group := func(partner, region, tier string) *acc {
		buf = buf[:0]
		for i, k := range groupBy {
			if i > 0 {
				buf = append(buf, 0)
			}
			buf = append(buf, groupKey(partner, region, tier, k)...)
		}
		g := groups[string(buf)] // no allocation for the lookup
		if g == nil {
			key := make(map[string]string, len(groupBy))
			for _, k := range groupBy {
				key[k] = groupKey(partner, region, tier, k)
			}
			g = newAcc(key)
			groups[string(buf)] = g
		}
		return g
	}
	facts := func(from, to time.Time) error {
		return submittedFacts(db, from, to, f.Before, f.PartnerID, func(r *RegistrationFact) {
			if !f.matchesReg(r) {
				return
			}
			total.count(r, f)
			if len(groupBy) > 0 {
				group(r.PartnerID, r.Region, r.Tier).count(r, f)
			}
		})
	}
	if f.Explain || f.Before != 0 {
		err = facts(f.From, f.To)
	} else {
		ranges, edges := splitPeriod(f.From, f.To, false)
		for _, r := range ranges {
			if err == nil {
				err = cohorts(db, r, f.PartnerID, f.Tier, func(k cohortKey, c *cohort) error {
					if f.Region != "" && !strings.EqualFold(k.region, f.Region) {
						return nil
					}
					total.addCohort(c)
					if len(groupBy) > 0 {
						group(k.partner, k.region, k.tier).addCohort(c)
					}
					return nil
				})
			}
		}
		for _, e := range edges {
			if err == nil {
				err = facts(e[0], e[1])
			}
		}
	}
	if err != nil {
		return RegistrationAnalytics{}, fmt.Errorf("analytics: %w", err)
	}
	finish := func(a *acc) RegistrationMetrics {
		m := a.m
		m.ApprovalRate.finish()
		m.Utilisation.finish()
		m.Conversion.finish()
		m.ExpiryRate.finish()
		m.ConflictRate.finish()
		m.TimeToApproval.finish(f.Explain)
		m.TimeToAutoApproval.finish(f.Explain)
		if m.Satisfaction.Count > 0 {
			v := decimal.NewFromInt(int64(m.Satisfaction.Sum)).DivRound(decimal.NewFromInt(int64(m.Satisfaction.Count)), RateDecimals)
			m.Satisfaction.Value = &v
		}
		slices.Sort(m.Positions)
		slices.Sort(m.Satisfaction.Explain)
		m.WonValue = []domain.Money{}
		for cur, v := range a.won {
			m.WonValue = append(m.WonValue, domain.Money{Amount: v, Currency: cur})
		}
		slices.SortFunc(m.WonValue, func(a, b domain.Money) int { return cmp.Compare(a.Currency, b.Currency) })
		return m
	}
	out := RegistrationAnalytics{GroupBy: groupBy, Groups: []RegistrationMetrics{}, Total: finish(total)}
	if out.GroupBy == nil {
		out.GroupBy = []string{}
	}
	for _, g := range groups {
		out.Groups = append(out.Groups, finish(g))
	}
	slices.SortFunc(out.Groups, func(a, b RegistrationMetrics) int {
		if c := cmp.Compare(b.Submitted, a.Submitted); c != 0 {
			return c
		}
		for _, k := range groupBy {
			if c := cmp.Compare(a.Key[k], b.Key[k]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out, nil
}

// stateDB returns the state database the facts are in.
func (p *Analytics) stateDB() (*sql.DB, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "analytics: no state database (the view was never loaded)")
	}
	return p.db, nil
}

// regAcc accumulates one group's registration metrics.
type regAcc struct {
	m   RegistrationMetrics
	won map[string]decimal.Decimal // closed-won value by currency
}

// count adds one registration to the group's figures.
func (a *regAcc) count(r *RegistrationFact, f AnalyticsFilter) {
	explain := f.Explain
	m := &a.m
	m.Submitted++
	if explain {
		m.Positions = append(m.Positions, r.SubmittedPos)
	}
	if f.seen(r.DecidedPos) {
		m.Decided++
		switch r.Outcome {
		case "rejected":
			m.Rejected++
		case "duplicate":
			m.Duplicates++
		}
		m.ApprovalRate.add(f.seen(r.ApprovedPos), r.ApprovedPos, r.DecidedPos, explain)
	}
	approved := f.seen(r.ApprovedPos)
	if approved {
		m.Approved++
		if r.Auto {
			m.AutoApproved++
			m.TimeToAutoApproval.add(r.ID, r.SubmittedPos, r.ApprovedPos, r.SubmittedAt, r.ApprovedAt, explain)
		} else {
			m.TimeToApproval.add(r.ID, r.SubmittedPos, r.ApprovedPos, r.SubmittedAt, r.ApprovedAt, explain)
		}
		m.Utilisation.add(r.WonProtected && f.seen(r.WonPos), r.WonPos, r.ApprovedPos, explain)
		m.ExpiryRate.add(f.seen(r.ExpiredPos), r.ExpiredPos, r.ApprovedPos, explain)
	}
	m.Conversion.add(f.seen(r.WonPos), r.WonPos, r.SubmittedPos, explain)
	m.ConflictRate.add(f.seen(r.ConflictPos), r.ConflictPos, r.SubmittedPos, explain)
	if f.seen(r.RatedPos) {
		m.Satisfaction.Count++
		m.Satisfaction.Sum += r.Score
		if explain {
			m.Satisfaction.Explain = append(m.Satisfaction.Explain, r.RatedPos)
		}
	}
	if f.seen(r.WonPos) && r.WonValue.Currency != "" {
		a.won[r.WonValue.Currency] = a.won[r.WonValue.Currency].Add(r.WonValue.Amount)
	}
}

// addCohort adds a cohort's summed figures to the group's, as count would
// have added each of its facts without explain or Before.
func (a *regAcc) addCohort(c *cohort) {
	m := &a.m
	m.Submitted += c.Submitted
	m.Decided += c.Decided
	m.Rejected += c.Rejected
	m.Duplicates += c.Duplicates
	m.Approved += c.Approved
	m.AutoApproved += c.Auto
	m.ApprovalRate.Numerator += c.ApprovalNum
	m.ApprovalRate.Denominator += c.Decided
	m.Utilisation.Numerator += c.UtilNum
	m.Utilisation.Denominator += c.Approved
	m.ExpiryRate.Numerator += c.ExpiryNum
	m.ExpiryRate.Denominator += c.Approved
	m.Conversion.Numerator += c.WonNum
	m.Conversion.Denominator += c.Submitted
	m.ConflictRate.Numerator += c.ConflictNum
	m.ConflictRate.Denominator += c.Submitted
	m.Satisfaction.Count += c.Rated
	m.Satisfaction.Sum += c.ScoreSum
	m.TimeToApproval.lengths = append(m.TimeToApproval.lengths, c.Manual...)
	m.TimeToAutoApproval.lengths = append(m.TimeToAutoApproval.lengths, c.Automatic...)
	for cur, w := range c.Won {
		a.won[cur] = a.won[cur].Add(w.Sum)
	}
}

// ConflictLevelMetrics are the conflicts of one level: the level they
// stand at now, or were decided at.
type ConflictLevelMetrics struct {
	Level            int           `json:"level"`
	Opened           int           `json:"opened"`
	Decided          int           `json:"decided"`
	Positions        []uint64      `json:"positions,omitempty"`
	TimeToResolution DurationStats `json:"time_to_resolution"`
}

// ConflictAnalytics is the answer of a conflict analytics query over the
// conflicts opened in a period.
type ConflictAnalytics struct {
	Opened           int                    `json:"opened"`
	Decided          int                    `json:"decided"`
	Escalated        int                    `json:"escalated"`
	Positions        []uint64               `json:"positions,omitempty"`
	TimeToResolution DurationStats          `json:"time_to_resolution"`
	Levels           []ConflictLevelMetrics `json:"levels"`
	Outcomes         map[string]int         `json:"outcomes"`
}

func (f AnalyticsFilter) matchesConflict(c *ConflictFact, at time.Time) bool {
	if !f.seen(c.OpenedPos) || !f.inPeriod(at) || (f.Region != "" && !strings.EqualFold(c.Region, f.Region)) {
		return false
	}
	if f.PartnerID == "" && f.Tier == "" {
		return true
	}
	return slices.ContainsFunc(c.Parties, func(pt ConflictParty) bool {
		return pt.Kind == string(domain.PartyPartner) && (f.PartnerID == "" || pt.PartnerID == f.PartnerID) && (f.Tier == "" || pt.Tier == f.Tier)
	})
}

// Conflicts computes conflict frequency and time to resolution, by level,
// of the conflicts opened within f's period (with a partner or tier
// filter: those where such a partner is a party).
func (p *Analytics) Conflicts(f AnalyticsFilter) ConflictAnalytics {
	out := ConflictAnalytics{Outcomes: map[string]int{}, Levels: []ConflictLevelMetrics{}}
	levels := make([]ConflictLevelMetrics, domain.ConflictLevels)
	p.mu.RLock()
	for _, c := range p.conflicts {
		if !f.matchesConflict(c, c.OpenedAt) {
			continue
		}
		lv := &levels[min(max(c.levelAt(f), 1), domain.ConflictLevels)-1]
		out.Opened++
		lv.Opened++
		if f.Explain {
			out.Positions = append(out.Positions, c.OpenedPos)
			lv.Positions = append(lv.Positions, c.OpenedPos)
		}
		if slices.ContainsFunc(c.EscalatedPos, f.seen) {
			out.Escalated++
		}
		if f.seen(c.DecidedPos) {
			out.Decided++
			lv.Decided++
			out.Outcomes[c.Outcome]++
			out.TimeToResolution.add(c.ID, c.OpenedPos, c.DecidedPos, c.OpenedAt, c.DecidedAt, f.Explain)
			lv.TimeToResolution.add(c.ID, c.OpenedPos, c.DecidedPos, c.OpenedAt, c.DecidedAt, f.Explain)
		}
	}
	p.mu.RUnlock()
	out.TimeToResolution.finish(f.Explain)
	slices.Sort(out.Positions)
	for i := range levels {
		levels[i].Level = i + 1
		levels[i].TimeToResolution.finish(f.Explain)
		slices.Sort(levels[i].Positions)
		out.Levels = append(out.Levels, levels[i])
	}
	return out
}

// levelAt is the case's level as f sees the ledger: the level decided at,
// or the opening level moved by each escalation seen.
func (c *ConflictFact) levelAt(f AnalyticsFilter) int {
	if f.seen(c.DecidedPos) || f.Before == 0 {
		return c.Level
	}
	level := c.OpenedLevel
	for _, pos := range c.EscalatedPos {
		if f.seen(pos) {
			level++
		}
	}
	return level
}

// CaseFeatures are what makes two conflict cases similar: cases with the
// same features should have the same result (docs/analytics.md).
type CaseFeatures struct {
	Kind string `json:"kind"`
	// FirstClaimant is the kind of the party that claimed first
	// (partner or direct).
	FirstClaimant string `json:"first_claimant"`
	// FirstHasProof and LaterHasProof: the first claimant, and any later
	// one, carried documented proof.
	FirstHasProof bool `json:"first_has_proof"`
	LaterHasProof bool `json:"later_has_proof"`
	// FirstContact is who declared the earliest first contact with the
	// customer: "first" (the first claimant), "later", or "unknown".
	FirstContact string `json:"first_contact"`
}

// The results a decision is compared by, relative to the claim order.
const (
	ResultFirstClaimant = "award_first_claimant"
	ResultLaterClaimant = "award_later_claimant"
)

// DecidedCase is one decided conflict as the consistency report lists it.
type DecidedCase struct {
	ConflictID uuid.UUID `json:"conflict_id"`
	Result     string    `json:"result"` // award_first_claimant, award_later_claimant, co_register, reject_all
	Clause     string    `json:"clause"`
	Level      int       `json:"level"`
	DecidedBy  string    `json:"decided_by"`
	Overrode   bool      `json:"overrode"`
	Position   uint64    `json:"position"` // of the ConflictDecided
}

// CaseGroup is the decided cases that share features: consistent when
// they all had the same result.
type CaseGroup struct {
	Features   CaseFeatures   `json:"features"`
	Consistent bool           `json:"consistent"`
	Results    map[string]int `json:"results"`
	Cases      []DecidedCase  `json:"cases"`
}

// ClauseUse is how often one policy clause was applied, and with which
// results.
type ClauseUse struct {
	Clause  string         `json:"clause"`
	Cases   int            `json:"cases"`
	Results map[string]int `json:"results"`
}

// Consistency is the decision-consistency report over the conflicts
// decided in a period: the cases grouped by features (inconsistent groups
// first, their cases side by side) and by the clause applied.
type Consistency struct {
	Decided      int         `json:"decided"`
	Inconsistent int         `json:"inconsistent_groups"`
	Groups       []CaseGroup `json:"groups"`
	Clauses      []ClauseUse `json:"clauses"`
	// Registrations are the registration decisions of the period, alike.
	Registrations RegistrationConsistency `json:"registrations"`
}

// RegistrationFeatures are what makes two registration decisions similar:
// the type, the partner's tier at submission, the duplicate check's
// verdict, whether proof was given, and the value's band.
type RegistrationFeatures struct {
	Type     string `json:"type"`
	Tier     string `json:"tier"`
	Verdict  string `json:"verdict"`
	HasProof bool   `json:"has_proof"`
	// ValueBand is the currency and the power of ten of the estimated
	// value: "USD 10k-100k" ("" without a value).
	ValueBand string `json:"value_band"`
}

// DecidedRegistration is one registration decision as the report lists it.
type DecidedRegistration struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	PartnerID      string    `json:"partner_id"`
	Result         string    `json:"result"` // approved, rejected
	Rule           string    `json:"rule"`   // auto_approval, reviewer, conflict
	Reason         string    `json:"reason,omitempty"`
	Position       uint64    `json:"position"` // of the decision
}

// RegistrationGroup is the decisions on similar registrations.
type RegistrationGroup struct {
	Features   RegistrationFeatures  `json:"features"`
	Consistent bool                  `json:"consistent"`
	Results    map[string]int        `json:"results"`
	Decisions  []DecidedRegistration `json:"decisions"`
}

// RuleUse is how often one rule decided, and with which results.
type RuleUse struct {
	Rule    string         `json:"rule"`
	Cases   int            `json:"cases"`
	Results map[string]int `json:"results"`
}

// RegistrationConsistency groups the registrations first decided (approved
// or rejected) in a period by their features and by the rule that decided.
type RegistrationConsistency struct {
	Decided      int                 `json:"decided"`
	Inconsistent int                 `json:"inconsistent_groups"`
	Groups       []RegistrationGroup `json:"groups"`
	Rules        []RuleUse           `json:"rules"`
}

// ValueBand names the power of ten of m's amount, with its currency.
func ValueBand(m domain.Money) string {
	if m.Currency == "" || !m.Amount.IsPositive() {
		return ""
	}
	bands := []struct {
		below int64
		name  string
	}{{10_000, "<10k"}, {100_000, "10k-100k"}, {1_000_000, "100k-1M"}, {10_000_000, "1M-10M"}}
	for _, b := range bands {
		if m.Amount.LessThan(decimal.NewFromInt(b.below)) {
			return m.Currency + " " + b.name
		}
	}
	return m.Currency + " >=10M"
}

// registrationConsistency builds the registration half of the report
// from the facts first decided in f's period.
func registrationConsistency(db *sql.DB, f AnalyticsFilter) (RegistrationConsistency, error) {
	out := RegistrationConsistency{Groups: []RegistrationGroup{}, Rules: []RuleUse{}}
	groups := map[RegistrationFeatures]*RegistrationGroup{}
	rules := map[string]*RuleUse{}
	lo, hi := periodNanos(f.From, f.To)
	q := `SELECT fact FROM analytics_facts INDEXED BY analytics_decided
		WHERE decided_pos != 0 AND decided_at >= ? AND decided_at < ? AND decided_pos < ?`
	if f.From.IsZero() && f.To.IsZero() {
		// Most facts are decided: reading the table in its order costs
		// less than looking each row up from the index.
		q = `SELECT fact FROM analytics_facts NOT INDEXED WHERE decided_pos != 0 AND decided_at >= ? AND decided_at < ? AND decided_pos < ?`
	}
	err := scanFacts(db, q, []any{lo, hi, beforeBound(f.Before)}, func(r *RegistrationFact) {
		if (r.Outcome != "approved" && r.Outcome != "rejected") || !f.seen(r.SubmittedPos) || !f.seen(r.DecidedPos) || !f.inPeriod(r.DecidedAt) ||
			(f.PartnerID != "" && r.PartnerID != f.PartnerID) ||
			(f.Region != "" && !strings.EqualFold(r.Region, f.Region)) || (f.Tier != "" && r.Tier != f.Tier) {
			return
		}
		decidedRegistration(&out, groups, rules, r)
	})
	if err != nil {
		return out, err
	}
	finishRegistrationConsistency(&out, groups, rules)
	return out, nil
}

// decidedRegistration adds decision r to the report.
func decidedRegistration(out *RegistrationConsistency, groups map[RegistrationFeatures]*RegistrationGroup, rules map[string]*RuleUse, r *RegistrationFact) {
	out.Decided++
	ft := RegistrationFeatures{Type: r.Type, Tier: r.Tier, Verdict: r.Verdict, HasProof: r.HasProof, ValueBand: ValueBand(r.Value)}
	g := groups[ft]
	if g == nil {
		g = &RegistrationGroup{Features: ft, Results: map[string]int{}}
		groups[ft] = g
	}
	g.Results[r.Outcome]++
	g.Decisions = append(g.Decisions, DecidedRegistration{RegistrationID: r.ID, PartnerID: r.PartnerID, Result: r.Outcome,
		Rule: r.Rule, Reason: r.Reason, Position: r.DecidedPos})
	u := rules[r.Rule]
	if u == nil {
		u = &RuleUse{Rule: r.Rule, Results: map[string]int{}}
		rules[r.Rule] = u
	}
	u.Cases++
	u.Results[r.Outcome]++
}

// finishRegistrationConsistency orders the report's groups and rules.
func finishRegistrationConsistency(out *RegistrationConsistency, groups map[RegistrationFeatures]*RegistrationGroup, rules map[string]*RuleUse) {
	for _, g := range groups {
		g.Consistent = len(g.Results) == 1
		if !g.Consistent {
			out.Inconsistent++
		}
		slices.SortFunc(g.Decisions, func(a, b DecidedRegistration) int { return cmp.Compare(a.Position, b.Position) })
		out.Groups = append(out.Groups, *g)
	}
	slices.SortFunc(out.Groups, func(a, b RegistrationGroup) int {
		if a.Consistent != b.Consistent {
			if !a.Consistent {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(len(b.Decisions), len(a.Decisions)), cmp.Compare(a.Decisions[0].Position, b.Decisions[0].Position))
	})
	for _, u := range rules {
		out.Rules = append(out.Rules, *u)
	}
	slices.SortFunc(out.Rules, func(a, b RuleUse) int { return cmp.Or(cmp.Compare(b.Cases, a.Cases), cmp.Compare(a.Rule, b.Rule)) })
}

// features and result describe case c.
func (c *ConflictFact) features() (CaseFeatures, string) {
	parties := slices.Clone(c.Parties)
	slices.SortFunc(parties, func(a, b ConflictParty) int { return cmp.Compare(a.ClaimPosition, b.ClaimPosition) })
	ft := CaseFeatures{Kind: c.Kind, FirstContact: "unknown"}
	result := c.Outcome
	if len(parties) == 0 {
		return ft, result
	}
	first := parties[0]
	ft.FirstClaimant, ft.FirstHasProof = first.Kind, first.HasProof
	earliest, who := first.FirstContact, "first"
	for _, pt := range parties[1:] {
		ft.LaterHasProof = ft.LaterHasProof || pt.HasProof
		if !pt.FirstContact.IsZero() && (earliest.IsZero() || pt.FirstContact.Before(earliest)) {
			earliest, who = pt.FirstContact, "later"
		}
	}
	if !earliest.IsZero() {
		ft.FirstContact = who
	}
	if c.Outcome == string(domain.OutcomeAward) {
		result = ResultLaterClaimant
		if c.Winner == first.Key {
			result = ResultFirstClaimant
		}
	}
	return ft, result
}

// Consistency groups the conflicts decided within f's period by their
// features and by the clause applied.
func (p *Analytics) Consistency(f AnalyticsFilter) (Consistency, error) {
	db, err := p.stateDB()
	if err != nil {
		return Consistency{}, err
	}
	groups := map[CaseFeatures]*CaseGroup{}
	clauses := map[string]*ClauseUse{}
	out := Consistency{Groups: []CaseGroup{}, Clauses: []ClauseUse{}}
	p.mu.RLock()
	for _, c := range p.conflicts {
		if !f.seen(c.DecidedPos) || !f.matchesConflict(c, c.DecidedAt) {
			continue
		}
		out.Decided++
		ft, result := c.features()
		g := groups[ft]
		if g == nil {
			g = &CaseGroup{Features: ft, Results: map[string]int{}}
			groups[ft] = g
		}
		g.Results[result]++
		g.Cases = append(g.Cases, DecidedCase{ConflictID: c.ID, Result: result, Clause: c.Clause, Level: c.Level,
			DecidedBy: c.DecidedBy, Overrode: c.Overrode, Position: c.DecidedPos})
		u := clauses[c.Clause]
		if u == nil {
			u = &ClauseUse{Clause: c.Clause, Results: map[string]int{}}
			clauses[c.Clause] = u
		}
		u.Cases++
		u.Results[result]++
	}
	p.mu.RUnlock()
	if out.Registrations, err = registrationConsistency(db, f); err != nil {
		return Consistency{}, fmt.Errorf("analytics: %w", err)
	}
	for _, g := range groups {
		g.Consistent = len(g.Results) == 1
		if !g.Consistent {
			out.Inconsistent++
		}
		slices.SortFunc(g.Cases, func(a, b DecidedCase) int { return cmp.Compare(a.Position, b.Position) })
		out.Groups = append(out.Groups, *g)
	}
	slices.SortFunc(out.Groups, func(a, b CaseGroup) int {
		if a.Consistent != b.Consistent {
			if !a.Consistent {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(len(b.Cases), len(a.Cases)), cmp.Compare(a.Cases[0].Position, b.Cases[0].Position))
	})
	for _, u := range clauses {
		out.Clauses = append(out.Clauses, *u)
	}
	slices.SortFunc(out.Clauses, func(a, b ClauseUse) int {
		return cmp.Or(cmp.Compare(b.Cases, a.Cases), cmp.Compare(a.Clause, b.Clause))
	})
	return out, nil
}

// The buckets a volume trend counts by.
var TrendBuckets = []string{"week", "month", "quarter"}

// bucketStart returns the start of t's bucket (UTC; weeks start on Monday).
func bucketStart(t time.Time, bucket string) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch bucket {
	case "week":
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case "quarter":
		return time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func nextBucket(t time.Time, bucket string) time.Time {
	switch bucket {
	case "week":
		return t.AddDate(0, 0, 7)
	case "quarter":
		return t.AddDate(0, 3, 0)
	}
	return t.AddDate(0, 1, 0)
}

// TrendPoint is the submissions of one bucket.
type TrendPoint struct {
	Start     time.Time `json:"start"`
	Submitted int       `json:"submitted"`
	Positions []uint64  `json:"positions,omitempty"`
}

// PartnerTrend is one top partner's volume over the period's buckets.
type PartnerTrend struct {
	PartnerID string       `json:"partner_id"`
	Submitted int          `json:"submitted"`
	Buckets   []TrendPoint `json:"buckets"`
	// Change is the last bucket's volume less the first's.
	Change int `json:"change"`
}

// TopPartners ranks partners by the registrations they first submitted in
// f's period (ties by partner ID) and returns the first limit, each with
// its volume per bucket, from the bucket of the period's start (or of the
// first submission counted) to that of its end (or of the last).
func (p *Analytics) TopPartners(f AnalyticsFilter, limit int, bucket string) ([]PartnerTrend, error) {
	if !slices.Contains(TrendBuckets, bucket) {
		return nil, domain.Errorf(domain.EINVALID, "bucket must be one of: %s", strings.Join(TrendBuckets, ", "))
	}
	type sub = trendSub
	db, err := p.stateDB()
	if err != nil {
		return nil, err
	}
	by := map[string][]sub{}
	counts := map[string]int{}
	var first, last time.Time
	add := func(partner string, s sub) {
		by[partner] = append(by[partner], s)
		counts[partner] += s.n
		if first.IsZero() || s.at.Before(first) {
			first = s.at
		}
		if s.at.After(last) {
			last = s.at
		}
	}
	facts := func(from, to time.Time) error {
		return submittedFacts(db, from, to, f.Before, f.PartnerID, func(r *RegistrationFact) {
			if f.matchesReg(r) {
				add(r.PartnerID, sub{r.SubmittedAt, r.SubmittedPos, 1})
			}
		})
	}
	if f.Explain || f.Before != 0 || bucket == "week" {
		err = facts(f.From, f.To)
	} else {
		ranges, edges := splitPeriod(f.From, f.To, true)
		if f.From.IsZero() && f.To.IsZero() && limit > 0 {
			// The whole ledger: rank by the all-time cohorts, and read
			// the months of the top partners only.
			var lo, hi time.Time
			lo, hi, err = topByMonths(db, f, limit, add)
			if !lo.IsZero() && (first.IsZero() || lo.Before(first)) {
				first = lo
			}
			if hi.After(last) {
				last = hi
			}
			ranges = nil
		}
		for _, r := range ranges {
			if err == nil {
				err = monthVolumes(db, r, f, func(partner string, month int64, n int) {
					add(partner, sub{time.Unix(month, 0).UTC(), 0, n})
				})
			}
		}
		for _, e := range edges {
			if err == nil {
				err = facts(e[0], e[1])
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	out := []PartnerTrend{}
	if len(by) == 0 {
		return out, nil
	}
	if !f.From.IsZero() {
		first = f.From
	}
	if !f.To.IsZero() {
		last = f.To.Add(-time.Nanosecond)
	}
	var starts []time.Time
	for b := bucketStart(first, bucket); !b.After(last); b = nextBucket(b, bucket) {
		starts = append(starts, b)
		if len(starts) > 1000 {
			return nil, domain.Errorf(domain.EINVALID, "the period holds more than 1000 %ss: choose a longer bucket", bucket)
		}
	}
	ids := make([]string, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	for _, id := range ids {
		t := PartnerTrend{PartnerID: id, Submitted: counts[id], Buckets: make([]TrendPoint, len(starts))}
		for i, s := range starts {
			t.Buckets[i].Start = s
		}
		for _, s := range by[id] {
			i, _ := slices.BinarySearchFunc(starts, s.at, func(b, at time.Time) int {
				if b.After(at) {
					return 1
				}
				return -1
			})
			pt := &t.Buckets[max(i-1, 0)]
			pt.Submitted += s.n
			if f.Explain {
				pt.Positions = append(pt.Positions, s.pos)
			}
		}
		for i := range t.Buckets {
			slices.Sort(t.Buckets[i].Positions)
		}
		t.Change = t.Buckets[len(t.Buckets)-1].Submitted - t.Buckets[0].Submitted
		out = append(out, t)
	}
	return out, nil
}

// trendSub is n submissions at the same bucket: one fact, or a month
// cohort's (whose start stands for its submissions: buckets are months or
// quarters then).
type trendSub struct {
	at  time.Time
	pos uint64
	n   int
}

// topByMonths adds, for the whole ledger, the month volumes of the limit
// partners with the most registrations matching f (ties by ID), ranked by
// the all-time cohorts, and returns the first and last months any
// registration counted falls in: the bounds of the buckets.
func topByMonths(db *sql.DB, f AnalyticsFilter, limit int, add func(partner string, s trendSub)) (first, last time.Time, err error) {
	match := func(region string) bool { return f.Region == "" || strings.EqualFold(region, f.Region) }
	counts := map[string]int{}
	rows, err := query(db, `SELECT partner_id, region, submitted FROM analytics_cohorts
		WHERE span = 'a' AND (? = '' OR partner_id = ?) AND (? = '' OR tier = ?)`, f.PartnerID, f.PartnerID, f.Tier, f.Tier)
	if err != nil {
		return first, last, err
	}
	for rows.Next() {
		var partner, region string
		var n int
		if err := rows.Scan(&partner, &region, &n); err != nil {
			rows.Close()
			return first, last, err
		}
		if match(region) {
			counts[partner] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return first, last, err
	}
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
	ids = ids[:min(limit, len(ids))]
	// The bounds: the first month and the last holding a registration
	// counted, in the order of the table.
	for _, order := range []string{"ASC", "DESC"} {
		rows, err := query(db, `SELECT start, region FROM analytics_cohorts
			WHERE span = 'm' AND (? = '' OR partner_id = ?) AND (? = '' OR tier = ?) ORDER BY start `+order, f.PartnerID, f.PartnerID, f.Tier, f.Tier)
		if err != nil {
			return first, last, err
		}
		for rows.Next() {
			var start int64
			var region string
			if err := rows.Scan(&start, &region); err != nil {
				rows.Close()
				return first, last, err
			}
			if match(region) {
				if order == "ASC" {
					first = time.Unix(start, 0).UTC()
				} else {
					last = time.Unix(start, 0).UTC()
				}
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return first, last, err
		}
	}
	for _, id := range ids {
		err := monthVolumes(db, cohortRange{spanMonth, math.MinInt64, math.MaxInt64}, AnalyticsFilter{PartnerID: id, Region: f.Region, Tier: f.Tier},
			func(partner string, month int64, n int) { add(partner, trendSub{time.Unix(month, 0).UTC(), 0, n}) })
		if err != nil {
			return first, last, err
		}
	}
	return first, last, nil
}

// monthVolumes calls fn with the volume of each partner's month cohorts
// in r that match f, without reading their bodies.
func monthVolumes(db *sql.DB, r cohortRange, f AnalyticsFilter, fn func(partner string, month int64, n int)) error {
	q := `SELECT start, partner_id, region, submitted FROM analytics_cohorts
		WHERE span = ? AND (? = '' OR partner_id = ?) AND start >= ? AND start < ? AND (? = '' OR tier = ?)`
	if f.PartnerID != "" {
		q = `SELECT start, partner_id, region, submitted FROM analytics_cohorts INDEXED BY analytics_cohorts_partner
		WHERE span = ? AND ? != '' AND partner_id = ? AND start >= ? AND start < ? AND (? = '' OR tier = ?)`
	}
	rows, err := query(db, q, r.span, f.PartnerID, f.PartnerID, r.lo, r.hi, f.Tier, f.Tier)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var month int64
		var partner, region string
		var n int
		if err := rows.Scan(&month, &partner, &region, &n); err != nil {
			return err
		}
		if f.Region == "" || strings.EqualFold(region, f.Region) {
			fn(partner, month, n)
		}
	}
	return rows.Err()
}

// Rating is one partner's rating of a decided registration.
type Rating struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	PartnerID      string    `json:"partner_id"`
	Score          int       `json:"score"`
	Comment        string    `json:"comment,omitempty"`
	RatedAt        time.Time `json:"rated_at"`
	Position       uint64    `json:"position"`
}

// Ratings lists the ratings recorded within f's period, of registrations
// matching f's partner, region and tier, in ledger order.
func (p *Analytics) Ratings(f AnalyticsFilter) ([]Rating, error) {
	db, err := p.stateDB()
	if err != nil {
		return nil, err
	}
	out := []Rating{}
	lo, hi := periodNanos(f.From, f.To)
	err = scanFacts(db, `SELECT fact FROM analytics_facts INDEXED BY analytics_rated
		WHERE rated_pos != 0 AND rated_at >= ? AND rated_at < ? AND rated_pos < ?`, []any{lo, hi, beforeBound(f.Before)}, func(r *RegistrationFact) {
		if !f.seen(r.RatedPos) || !f.inPeriod(r.RatedAt) ||
			(f.PartnerID != "" && r.PartnerID != f.PartnerID) ||
			(f.Region != "" && !strings.EqualFold(r.Region, f.Region)) ||
			(f.Tier != "" && r.Tier != f.Tier) {
			return
		}
		out = append(out, r.rating())
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	slices.SortFunc(out, func(a, b Rating) int { return cmp.Compare(a.Position, b.Position) })
	return out, nil
}

func (r *RegistrationFact) rating() Rating {
	return Rating{RegistrationID: r.ID, PartnerID: r.PartnerID, Score: r.Score, Comment: r.Comment, RatedAt: r.RatedAt, Position: r.RatedPos}
}

// Rating returns the rating of registration id, if it was rated (as of
// the last commit).
func (p *Analytics) Rating(id uuid.UUID) (Rating, bool, error) {
	db, err := p.stateDB()
	if err != nil {
		return Rating{}, false, err
	}
	r, err := loadFact(db, id)
	if err != nil {
		return Rating{}, false, fmt.Errorf("analytics: %w", err)
	}
	if r == nil || r.RatedPos == 0 {
		return Rating{}, false, nil
	}
	return r.rating(), true, nil
}
