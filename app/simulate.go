package app

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Policy simulation (docs/policy.md, "Simulating a draft"): the recorded
// submissions of a period are decided again under a draft policy, each
// against the ledger as it stood before it, exactly as the live service
// decided them; the simulation reports what would differ. It reads the
// ledger and writes nothing.

// ReviewChange is how the review of one submission attempt would differ:
// approved automatically or routed, and to which group.
type ReviewChange struct {
	Attempt        int    `json:"attempt"`
	RecordedAuto   bool   `json:"recorded_auto"`
	RecordedGroup  string `json:"recorded_group,omitempty"`
	SimulatedAuto  bool   `json:"simulated_auto"`
	SimulatedGroup string `json:"simulated_group,omitempty"`
	// NotMet lists the auto-approval conditions the draft finds unmet.
	NotMet []string `json:"not_met,omitempty"`
}

// ProtectionChange is how an approval's protection end would move.
type ProtectionChange struct {
	RecordedEnd  time.Time     `json:"recorded_end"`
	SimulatedEnd time.Time     `json:"simulated_end"`
	Delta        time.Duration `json:"-"` // simulated − recorded
}

// BenefitsChange is how an approval's benefits would differ.
type BenefitsChange struct {
	Recorded  domain.GrantedBenefits `json:"recorded"`
	Simulated domain.GrantedBenefits `json:"simulated"`
	// DiscountDelta and MDFDelta are simulated − recorded, in the deal's
	// currency (zero without a value).
	DiscountDelta domain.Money `json:"discount_delta,omitzero"`
	MDFDelta      domain.Money `json:"mdf_delta,omitzero"`
}

// SimulatedRegistration is one registration whose decisions would differ.
type SimulatedRegistration struct {
	RegistrationID    uuid.UUID `json:"registration_id"`
	PartnerID         string    `json:"partner_id"`
	SubmittedPosition uint64    `json:"submitted_position"`
	// Refused is the draft's refusal of a submission that was accepted
	// (eligibility, standing), with the attempt.
	Refused    *Refusal          `json:"refused,omitempty"`
	Reviews    []ReviewChange    `json:"reviews,omitempty"`
	Protection *ProtectionChange `json:"protection,omitempty"`
	Benefits   *BenefitsChange   `json:"benefits,omitempty"`
}

// Refusal is why the draft would refuse a submission: the error code, the
// message and the failing fields, as the API would answer them.
type Refusal struct {
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Fields  []domain.FieldError `json:"errors,omitempty"`
}

// SimulationSummary adds the differences up.
type SimulationSummary struct {
	Registrations int `json:"registrations"` // first submitted in the period
	Submissions   int `json:"submissions"`   // attempts replayed
	Changed       int `json:"changed"`       // registrations with any difference
	Refused       int `json:"refused"`       // submissions the draft would refuse
	// Reviews: routed → automatic, automatic → routed, another group.
	NowAutomatic int `json:"now_automatic"`
	NowRouted    int `json:"now_routed"`
	OtherGroup   int `json:"other_group"`
	// Approvals compared; protection ends later and earlier, and the sum
	// of the moves (simulated − recorded).
	Approvals         int           `json:"approvals"`
	ProtectionLonger  int           `json:"protection_longer"`
	ProtectionShorter int           `json:"protection_shorter"`
	ProtectionDelta   time.Duration `json:"-"`
	// Benefits: approvals whose benefits differ; the discount and MDF
	// moves summed per currency; presales entitlements that differ.
	BenefitsChanged int            `json:"benefits_changed"`
	DiscountDelta   []domain.Money `json:"discount_delta"`
	MDFDelta        []domain.Money `json:"mdf_delta"`
	PresalesChanged int            `json:"presales_changed"`
}

// Simulation is the answer of a policy simulation.
type Simulation struct {
	From     time.Time               `json:"from"`
	To       *time.Time              `json:"to"`
	Draft    int                     `json:"draft_version"`
	Summary  SimulationSummary       `json:"summary"`
	Changes  []SimulatedRegistration `json:"changes"`
	Replayed uint64                  `json:"replayed_events"`
}

// SimulatePolicy replays the ledger of store and decides again, under
// draft, the registrations first submitted in [from, to) (to zero: up to
// the head): each attempt's eligibility and automatic approval or routing,
// against the ledger as it stood before it (the partner's profile,
// standing and track record), and each approval's protection end and
// benefits, from the approval's recorded time and inputs. What happened
// before stays as recorded: a change does not cascade into the track
// records of later submissions. It never writes to the ledger.
func SimulatePolicy(ctx context.Context, store domain.EventStore, draft domain.Policy, from, to time.Time) (Simulation, error) {
	sim := &simulation{draft: draft, from: from, to: to, dir: projections.NewDirectory(), book: domain.NewTrackBook(),
		regs: map[uuid.UUID]*simReg{}, discount: map[string]decimal.Decimal{}, mdf: map[string]decimal.Decimal{}}
	next := uint64(0)
	for {
		page, err := store.ReadAll(ctx, domain.ReadAllOptions{From: next, Count: 65536})
		if err != nil {
			return Simulation{}, err
		}
		for _, rec := range page {
			if err := sim.apply(rec); err != nil {
				return Simulation{}, err
			}
			next = rec.Position + 1
		}
		sim.book.Changes() // the book's change log is for Flush; nothing here flushes
		if len(page) < 65536 {
			break
		}
		if err := ctx.Err(); err != nil {
			return Simulation{}, err
		}
	}
	out := sim.result()
	out.Replayed = next
	return out, nil
}

type simAttempt struct {
	attempt      int
	sub          domain.RegistrationSubmitted
	at           time.Time
	partner      domain.Partner
	standing     domain.PartnerStanding
	track        domain.TrackRecord
	planned      bool // the draft's plan is known (the verdict came)
	plan         domain.ReviewPlan
	planAt       time.Time
	recorded     bool // a recorded plan exists
	recordedAuto bool
	recordedTo   string
}

type simReg struct {
	id       uuid.UUID
	partner  string
	subPos   uint64
	refused  *Refusal
	attempts []*simAttempt
	approved bool
	change   SimulatedRegistration
}

type simulation struct {
	draft    domain.Policy
	from, to time.Time
	dir      *projections.Directory
	book     *domain.TrackBook
	regs     map[uuid.UUID]*simReg
	order    []*simReg
	summary  SimulationSummary
	discount map[string]decimal.Decimal
	mdf      map[string]decimal.Decimal
}

func (s *simulation) inPeriod(t time.Time) bool {
	return !t.Before(s.from) && (s.to.IsZero() || t.Before(s.to))
}

func (s *simulation) apply(rec domain.RecordedEvent) error {
	if strings.HasPrefix(rec.Stream, "registration-") {
		ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return err
		}
		// Decided before the event reaches the book: as the checker
		// does, from the ledger before the submission.
		s.observe(rec, ev)
		if s.book.Follows(rec.Type) {
			s.book.Apply(ev)
		}
	}
	return s.dir.Apply(rec)
}

func (s *simulation) observe(rec domain.RecordedEvent, ev domain.Event) {
	switch e := ev.(type) {
	case domain.RegistrationSubmitted:
		r := s.regs[e.RegistrationID]
		if r == nil {
			if !s.inPeriod(rec.RecordedAt) {
				return
			}
			r = &simReg{id: e.RegistrationID, partner: e.PartnerID, subPos: rec.Position}
			s.regs[r.id] = r
			s.order = append(s.order, r)
		}
		pv, _ := s.dir.Partner(e.PartnerID)
		a := &simAttempt{attempt: e.Attempt, sub: e, at: rec.RecordedAt, partner: pv.Partner, standing: pv.Standing,
			track: s.book.Record(e.PartnerID, pv.Standing, s.draft.AutoApproval.TrackRecordWindow, rec.RecordedAt)}
		r.attempts = append(r.attempts, a)
		if err := domain.CheckEligibility(s.draft, pv.Partner, pv.Standing, e.Type, e.At); err != nil && r.refused == nil {
			r.refused = &Refusal{Code: domain.ErrorCode(err), Message: domain.ErrorMessage(err)}
			var de *domain.Error
			if errors.As(err, &de) {
				r.refused.Fields = de.Fields
			}
		}
	case domain.RegistrationVerdictRecorded:
		if a := s.attempt(e.RegistrationID, e.Attempt); a != nil {
			a.plan, a.planned = domain.PlanReview(s.draft, a.sub, e.Verdict, a.partner, a.standing, a.track, a.at)
			a.planAt = rec.RecordedAt
		}
	case domain.RegistrationAutoApproved:
		if a := s.attempt(e.RegistrationID, e.Attempt); a != nil {
			a.recorded, a.recordedAuto = true, true
		}
	case domain.RegistrationRouted:
		if a := s.attempt(e.RegistrationID, e.Attempt); a != nil {
			a.recorded, a.recordedTo = true, e.Group
		}
	case domain.RegistrationApproved:
		r := s.regs[e.RegistrationID]
		if r == nil || r.approved {
			return
		}
		r.approved = true
		s.summary.Approvals++
		start := e.Terms.ProtectionStart
		if len(r.attempts) > 0 {
			// Approved by a reviewer where the draft approves at once:
			// protection would have started at the verdict.
			if a := r.attempts[len(r.attempts)-1]; a.planned && a.plan.AutoApprove && a.recorded && !a.recordedAuto {
				start = a.planAt
			}
		}
		end := start.Add(s.draft.ProtectionFor(e.Terms.Type))
		if !end.Equal(e.Terms.ProtectionEnd) {
			d := end.Sub(e.Terms.ProtectionEnd)
			r.change.Protection = &ProtectionChange{RecordedEnd: e.Terms.ProtectionEnd, SimulatedEnd: end, Delta: d}
			s.summary.ProtectionDelta += d
			if d > 0 {
				s.summary.ProtectionLonger++
			} else {
				s.summary.ProtectionShorter++
			}
		}
		if e.Benefits != nil {
			s.compareBenefits(r, *e.Benefits, e.Terms.Type)
		}
	}
}

func (s *simulation) attempt(id uuid.UUID, n int) *simAttempt {
	r := s.regs[id]
	if r == nil {
		return nil
	}
	for _, a := range r.attempts {
		if a.attempt == n {
			return a
		}
	}
	return nil
}

// compareBenefits computes what the draft grants from the recorded
// approval's inputs (partner, tier, value) and records any difference.
func (s *simulation) compareBenefits(r *simReg, rec domain.GrantedBenefits, typ domain.RegistrationType) {
	sim := s.draft.BenefitsFor(rec.PartnerID, rec.Tier, typ, rec.Value)
	presales := sim.Presales.Level != rec.Presales.Level || sim.Presales.PooledHours != rec.Presales.PooledHours ||
		!slices.Equal(sim.Presales.Dedicated, rec.Presales.Dedicated)
	discount := !sim.Discount.Percent.Equal(rec.Discount.Percent) || !sim.Discount.Amount.Amount.Equal(rec.Discount.Amount.Amount)
	mdf := !sim.MDF.Amount.Amount.Equal(rec.MDF.Amount.Amount) || !sim.MDF.Percent.Equal(rec.MDF.Percent) || sim.MDF.NoneReason != rec.MDF.NoneReason
	if !presales && !discount && !mdf {
		return
	}
	c := &BenefitsChange{Recorded: rec, Simulated: sim}
	if cur := rec.Value.Currency; cur != "" {
		if d := sim.Discount.Amount.Amount.Sub(rec.Discount.Amount.Amount); !d.IsZero() {
			c.DiscountDelta = domain.Money{Amount: d, Currency: cur}
			s.discount[cur] = s.discount[cur].Add(d)
		}
		if d := sim.MDF.Amount.Amount.Sub(rec.MDF.Amount.Amount); !d.IsZero() {
			c.MDFDelta = domain.Money{Amount: d, Currency: cur}
			s.mdf[cur] = s.mdf[cur].Add(d)
		}
	}
	if presales {
		s.summary.PresalesChanged++
	}
	s.summary.BenefitsChanged++
	r.change.Benefits = c
}

func (s *simulation) result() Simulation {
	out := Simulation{From: s.from, Draft: s.draft.Version, Changes: []SimulatedRegistration{}}
	if !s.to.IsZero() {
		out.To = &s.to
	}
	for _, r := range s.order {
		s.summary.Registrations++
		s.summary.Submissions += len(r.attempts)
		c := r.change
		c.RegistrationID, c.PartnerID, c.SubmittedPosition = r.id, r.partner, r.subPos
		if r.refused != nil {
			c.Refused = r.refused
			s.summary.Refused++
		}
		for _, a := range r.attempts {
			if !a.planned || !a.recorded {
				continue // a duplicate, or a verdict recorded before automation
			}
			simGroup := ""
			if !a.plan.AutoApprove {
				simGroup = a.plan.Group
			}
			if a.plan.AutoApprove == a.recordedAuto && simGroup == a.recordedTo {
				continue
			}
			rc := ReviewChange{Attempt: a.attempt, RecordedAuto: a.recordedAuto, RecordedGroup: a.recordedTo, SimulatedAuto: a.plan.AutoApprove, SimulatedGroup: simGroup}
			for _, cond := range a.plan.Conditions {
				if !cond.Met {
					rc.NotMet = append(rc.NotMet, cond.Name)
				}
			}
			switch {
			case a.plan.AutoApprove:
				s.summary.NowAutomatic++
			case a.recordedAuto:
				s.summary.NowRouted++
			default:
				s.summary.OtherGroup++
			}
			c.Reviews = append(c.Reviews, rc)
		}
		if c.Refused != nil || c.Reviews != nil || c.Protection != nil || c.Benefits != nil {
			s.summary.Changed++
			out.Changes = append(out.Changes, c)
		}
	}
	s.summary.DiscountDelta, s.summary.MDFDelta = sums(s.discount), sums(s.mdf)
	out.Summary = s.summary
	return out
}

func sums(m map[string]decimal.Decimal) []domain.Money {
	out := []domain.Money{}
	for cur, v := range m {
		out = append(out, domain.Money{Amount: v, Currency: cur})
	}
	slices.SortFunc(out, func(a, b domain.Money) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

// SimulatePolicy runs a simulation of draft (a policy document, as
// POST /v1/policies takes) over the registrations first submitted in
// [from, to), for the roles that may read drafts (not partners, not
// direct sales). It writes nothing.
func (s *Service) SimulatePolicy(ctx context.Context, caller Caller, draft []byte, from, to time.Time) (Simulation, error) {
	if err := caller.Actor.Validate(); err != nil {
		return Simulation{}, err
	}
	if !mayReadDrafts(caller) {
		return Simulation{}, domain.Errorf(domain.EFORBIDDEN, "role %q may not simulate policies", caller.Actor.Role)
	}
	p, err := domain.ParsePolicy(draft)
	if err != nil {
		return Simulation{}, err
	}
	return SimulatePolicy(ctx, s.store, p, from, to)
}
