package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Approval automation: the duplicate checker, when it records a verdict
// that lets a submission through, records with it in the same append what
// domain.PlanReview decided from the ledger before the submission: the
// automatic approval (as actor "system") or the routing to a reviewer
// group. Like the verdict, it is decided once, in ledger order, and never
// again: a checker that finds the verdict recorded leaves it as it is. The
// scheduler then reminds and escalates reviews past their times
// (runReviewDue). See docs/automation.md.

// automationCall is the identity of automatic decisions.
var automationCall = Call{Caller: Caller{Actor: domain.SystemActor, Name: "approval automation"}}

// tracks is the follower handler that keeps every partner's track record
// (domain.TrackBook) for the checker's automatic decisions. It comes after
// the checker in the handler list, so that when the checker decides a
// submission the book holds exactly the ledger before it.
type tracks struct {
	mu   sync.Mutex
	book *domain.TrackBook
	next uint64
}

var _ projections.Handler = (*tracks)(nil)

const trackRows = "track-records"

func newTracks() *tracks { return &tracks{book: domain.NewTrackBook()} }

// Load implements projections.Handler.
func (t *tracks) Load(ctx context.Context, db *sql.DB) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.book.Reset()
	partners := map[string]domain.TrackFacts{}
	regs := map[uuid.UUID]string{}
	err := projections.LoadRows(ctx, db, trackRows, func(key string, body []byte) error {
		kind, id, _ := strings.Cut(key, ":")
		switch kind {
		case "p":
			var f domain.TrackFacts
			if err := json.Unmarshal(body, &f); err != nil {
				return err
			}
			partners[id] = f
		case "r":
			rid, err := uuid.Parse(id)
			if err != nil {
				return err
			}
			var p string
			if err := json.Unmarshal(body, &p); err != nil {
				return err
			}
			regs[rid] = p
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("track records: %w", err)
	}
	t.book.Restore(partners, regs)
	return nil
}

// ApplyBatch implements projections.Handler.
func (t *tracks) ApplyBatch(b *projections.Batch, rec domain.RecordedEvent) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rec.Position < t.next {
		return nil
	}
	t.next = rec.Position + 1
	if !t.book.Follows(rec.Type) || !strings.HasPrefix(rec.Stream, "registration-") {
		return nil
	}
	ev, err := b.Decode(rec)
	if err != nil {
		return fmt.Errorf("track records at position %d: %w", rec.Position, err)
	}
	t.book.Apply(ev)
	return nil
}

// Flush implements projections.Handler.
func (t *tracks) Flush() (projections.Write, error) {
	t.mu.Lock()
	partners, regs := t.book.Changes()
	t.mu.Unlock()
	var w projections.RowWrites
	for id, f := range partners {
		body, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		w.Put(trackRows, "p:"+id, body)
	}
	for id, p := range regs {
		if p == "" {
			w.Delete(trackRows, "r:"+id.String())
			continue
		}
		body, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		w.Put(trackRows, "r:"+id.String(), body)
	}
	if w.Len() == 0 {
		return nil, nil
	}
	return w.Write, nil
}

// Committed implements projections.Handler.
func (t *tracks) Committed(next uint64) {
	t.mu.Lock()
	t.next = next
	t.mu.Unlock()
}

// record returns partner's track record over window before at.
func (t *tracks) record(partner string, standing domain.PartnerStanding, window time.Duration, at time.Time) domain.TrackRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.book.Record(partner, standing, window, at)
}

// planReview decides, for the checker, what follows verdict f on
// submission sub recorded at at: nil for a duplicate. The checker calls it
// while applying the submission, when the directory and the track book
// (both after it in the handler list) hold the ledger before it.
func (s *Service) planReview(sub domain.RegistrationSubmitted, f domain.Finding, at time.Time) *domain.ReviewPlan {
	p := s.PolicyAt(at)
	pv, _ := s.Directory.Partner(sub.PartnerID)
	track := s.tracks.record(sub.PartnerID, pv.Standing, p.AutoApproval.TrackRecordWindow, at)
	plan, ok := domain.PlanReview(p, sub, f.Verdict, pv.Partner, pv.Standing, track, at)
	if !ok {
		return nil
	}
	return &plan
}

// automation returns the events that record plan on registration r, whose
// verdict events are verdict, for the checker to append with them; their
// IDs are derived from the registration and the attempt, like the
// verdict's.
func (s *Service) automation(r *domain.Registration, verdict []domain.Event, plan *domain.ReviewPlan, stream string, at time.Time) ([]domain.EventData, error) {
	if plan == nil {
		return nil, nil
	}
	for _, e := range verdict {
		if err := r.Apply(e); err != nil {
			return nil, err
		}
	}
	events, err := r.Automate(*plan, s.PolicyAt(at), at)
	if err != nil {
		s.logger.Error("approval automation: plan refused", "registration", r.ID(), "err", err)
		return nil, nil
	}
	ids := make([]uuid.UUID, len(events))
	for i := range events {
		ids[i] = uuid.NewSHA1(idNamespace, fmt.Appendf(nil, "automation\x00%s\x00%d\x00%d", r.ID(), r.Attempt(), i))
	}
	return encode(automationCall, stream, events, ids)
}

// reviewCall is the identity of the reminders and escalations.
var reviewCall = Call{Caller: Caller{Actor: domain.Actor{ID: "system:scheduler", Role: domain.RoleAdmin}, Name: "review SLA"}}

// runReviewDue appends what time makes due at now on the registrations
// awaiting a review (domain.Registration.ReviewDue): a reminder to the
// group before the due time, an escalation after it. Each is decided from
// the registration's stream as it is, with an ID derived from the
// registration, the attempt and the event type, so a second run, or two
// at once, record it once.
func (s *Service) runReviewDue(ctx context.Context, now time.Time) (int, error) {
	queue, err := s.Registrations.ReviewQueue(0)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, it := range queue {
		if it.NextAction.IsZero() || now.Before(it.NextAction) {
			continue
		}
		stream := domain.RegistrationStream(it.ID)
		stored, err := s.readStream(ctx, stream)
		if err != nil || len(stored) == 0 {
			errs = append(errs, err)
			continue
		}
		r, err := domain.Rebuild(stored...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, ok := s.Policies.Policy(r.SubmittedPolicyVersion())
		if !ok {
			p = s.PolicyAt(r.SubmittedAt())
		}
		due := r.ReviewDue(now, p)
		if len(due) == 0 {
			continue
		}
		ids := make([]uuid.UUID, len(due))
		for i, e := range due {
			ids[i] = uuid.NewSHA1(idNamespace, fmt.Appendf(nil, "review\x00%s\x00%d\x00%s", it.ID, r.Attempt(), e.EventType()))
		}
		data, err := encode(reviewCall, stream, due, ids)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := s.store.Append(ctx, stream, domain.Exact(uint64(len(stored)-1)), data...)
		var wrong *domain.WrongExpectedRevisionError
		switch {
		case errors.As(err, &wrong):
			continue
		case err != nil:
			errs = append(errs, err)
			continue
		}
		n += len(due)
		if err := s.WaitFor(ctx, res.Position); err != nil {
			return n, err
		}
	}
	return n, errors.Join(errs...)
}

// AssignReviewer makes the reviewer of token id a member of a review group
// with an approval limit.
func (s *Service) AssignReviewer(ctx context.Context, call Call, id uuid.UUID, a domain.ReviewerAssignment) (projections.TokenView, error) {
	_, err := s.execute(ctx, call, domain.TokenStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		var role domain.Role
		issued, revoked := false, false
		for _, e := range stored {
			switch e := e.(type) {
			case domain.TokenIssued:
				issued, role = true, e.Role
			case domain.TokenRevoked:
				revoked = true
			}
		}
		now := s.clock.Now()
		return domain.AssignReviewer(call.Actor, id, issued, role, revoked, a, s.PolicyAt(now), now)
	})
	if err != nil {
		return projections.TokenView{}, err
	}
	t, _ := s.Directory.Token(id)
	return t, nil
}

// assignmentOf returns the review group assignment of the token actor
// acts with, or nil.
func (s *Service) assignmentOf(actor domain.Actor) *domain.ReviewerAssignment {
	rest, ok := strings.CutPrefix(actor.ID, "token:")
	if !ok {
		return nil
	}
	id, err := uuid.Parse(rest)
	if err != nil {
		return nil
	}
	t, ok := s.Directory.Token(id)
	if !ok {
		return nil
	}
	return t.Review
}

// ReviewGroup is a group of the routing in force with its members.
type ReviewGroup struct {
	domain.ReviewGroupView
	Members []projections.TokenView `json:"members"`
}

// ReviewGroups lists the review groups of the policy in force now and the
// reviewers assigned to each: vendor staff and auditors.
func (s *Service) ReviewGroups(caller Caller) ([]ReviewGroup, error) {
	if err := caller.Actor.Validate(); err != nil {
		return nil, err
	}
	if !caller.Actor.Role.Reviewer() && caller.Actor.Role != domain.RoleAuditor {
		return nil, domain.Errorf(domain.EFORBIDDEN, "role %q may not read the review groups", caller.Actor.Role)
	}
	p := s.Policy()
	members := map[string][]projections.TokenView{}
	for _, t := range s.Directory.Tokens() {
		if t.Review != nil && !t.Revoked {
			members[t.Review.Group] = append(members[t.Review.Group], t)
		}
	}
	out := make([]ReviewGroup, len(p.Routing.Groups))
	for i, g := range p.Routing.Groups {
		ms := members[g.Name]
		if ms == nil {
			ms = []projections.TokenView{}
		}
		out[i] = ReviewGroup{ReviewGroupView: domain.ViewOfGroup(g, p.Version), Members: ms}
	}
	return out, nil
}
