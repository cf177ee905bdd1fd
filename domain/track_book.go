package domain

import (
	"time"

	"github.com/google/uuid"
)

// MaxTrackWindow is the longest track-record window a policy may set
// (auto_approval.track_record_window); a TrackBook forgets older facts.
const MaxTrackWindow = 3 * 365 * Day

// TrackFact is one decision (approved or not) or one end of a protection
// (won or not) of a partner's registration, at the time its event records.
type TrackFact struct {
	At       time.Time `json:"at"`
	Positive bool      `json:"positive"`
}

// TrackFacts are what a TrackBook keeps of one partner.
type TrackFacts struct {
	Decisions []TrackFact `json:"decisions,omitempty"`
	Ends      []TrackFact `json:"ends,omitempty"`
}

// TrackBook folds the ledger, in global order, into each partner's track
// record: the decisions on its registrations and how their protections
// ended, by the times the events record. Fed like the claim book, its
// record at a submission is a pure function of the ledger before it, so
// replaying the ledger reproduces every automatic decision.
//
// A TrackBook is not safe for concurrent use.
type TrackBook struct {
	// regs maps each submitted registration that may still add to its
	// partner's record to the partner.
	regs     map[uuid.UUID]string
	partners map[string]*TrackFacts
	// changes since the last Changes.
	changedPartners map[string]struct{}
	changedRegs     map[uuid.UUID]struct{}
}

// NewTrackBook returns an empty book.
func NewTrackBook() *TrackBook {
	b := &TrackBook{}
	b.Reset()
	return b
}

// Reset empties the book.
func (b *TrackBook) Reset() {
	b.regs = map[uuid.UUID]string{}
	b.partners = map[string]*TrackFacts{}
	b.changedPartners = map[string]struct{}{}
	b.changedRegs = map[uuid.UUID]struct{}{}
}

// Restore puts back what an earlier run kept.
func (b *TrackBook) Restore(partners map[string]TrackFacts, regs map[uuid.UUID]string) {
	for id, f := range partners {
		f := f
		b.partners[id] = &f
	}
	for id, p := range regs {
		b.regs[id] = p
	}
}

// Changes returns the partners and registrations changed since the last
// call (a registration mapped to "" was forgotten), then starts over.
func (b *TrackBook) Changes() (partners map[string]TrackFacts, regs map[uuid.UUID]string) {
	partners = make(map[string]TrackFacts, len(b.changedPartners))
	for id := range b.changedPartners {
		partners[id] = *b.partners[id]
	}
	regs = make(map[uuid.UUID]string, len(b.changedRegs))
	for id := range b.changedRegs {
		regs[id] = b.regs[id]
	}
	clear(b.changedPartners)
	clear(b.changedRegs)
	return partners, regs
}

// Follows reports whether the book needs events of stored type typ.
func (b *TrackBook) Follows(typ string) bool {
	switch typ {
	case "RegistrationSubmitted", "RegistrationVerdictRecorded", "RegistrationApproved", "RegistrationRejected",
		"RegistrationConflictDecided", "RegistrationClosedWon", "RegistrationClosedLost", "RegistrationExpired",
		"RegistrationWithdrawn", "RegistrationRevoked":
		return true
	}
	return false
}

// Apply folds one event.
func (b *TrackBook) Apply(e Event) {
	re, ok := e.(RegistrationEvent)
	if !ok {
		return
	}
	id := re.AggregateID()
	if s, ok := e.(RegistrationSubmitted); ok {
		if b.regs[id] != s.PartnerID {
			b.regs[id] = s.PartnerID
			b.changedRegs[id] = struct{}{}
		}
		return
	}
	partner, ok := b.regs[id]
	if !ok {
		return
	}
	at := re.OccurredAt()
	switch e := e.(type) {
	case RegistrationVerdictRecorded:
		if e.Verdict == VerdictDuplicate {
			b.forget(id)
		}
	case RegistrationApproved:
		b.add(partner, true, TrackFact{At: at, Positive: true})
	case RegistrationRejected:
		b.add(partner, true, TrackFact{At: at})
		b.forget(id)
	case RegistrationConflictDecided:
		won := e.Result != ConflictLost
		b.add(partner, true, TrackFact{At: at, Positive: won})
		if !won {
			b.forget(id)
		}
	case RegistrationClosedWon:
		b.add(partner, false, TrackFact{At: at, Positive: true})
		b.forget(id)
	case RegistrationClosedLost:
		b.add(partner, false, TrackFact{At: at})
		b.forget(id)
	case RegistrationExpired:
		// Kept: a named account may be renewed, and end again.
		b.add(partner, false, TrackFact{At: at})
	case RegistrationWithdrawn, RegistrationRevoked:
		b.forget(id)
	}
}

func (b *TrackBook) forget(id uuid.UUID) {
	delete(b.regs, id)
	b.changedRegs[id] = struct{}{}
}

func (b *TrackBook) add(partner string, decision bool, f TrackFact) {
	facts := b.partners[partner]
	if facts == nil {
		facts = &TrackFacts{}
		b.partners[partner] = facts
	}
	cut := f.At.Add(-MaxTrackWindow - Day)
	if decision {
		facts.Decisions = append(prune(facts.Decisions, cut), f)
	} else {
		facts.Ends = append(prune(facts.Ends, cut), f)
	}
	b.changedPartners[partner] = struct{}{}
}

// prune drops the facts before cut (facts come in ledger order, whose
// times do not decrease).
func prune(facts []TrackFact, cut time.Time) []TrackFact {
	i := 0
	for i < len(facts) && facts[i].At.Before(cut) {
		i++
	}
	return facts[i:]
}

// Record returns partner's track record over the window before at: the
// facts at or after at-window and before at. Violations are counted from
// standing, the partner's standing as of the same ledger position.
func (b *TrackBook) Record(partner string, standing PartnerStanding, window time.Duration, at time.Time) TrackRecord {
	from := at.Add(-window)
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(at) }
	r := TrackRecord{From: from, To: at}
	if facts := b.partners[partner]; facts != nil {
		for _, f := range facts.Decisions {
			if in(f.At) {
				r.Decided++
				if f.Positive {
					r.Approved++
				}
			}
		}
		for _, f := range facts.Ends {
			if in(f.At) {
				r.Ended++
				if f.Positive {
					r.Won++
				}
			}
		}
	}
	for _, v := range standing.Violations {
		if in(v.At) {
			r.Violations++
		}
	}
	return r
}
