package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// conflictID returns the ID of the conflict the checker opens on a
// submission: derived from it, so that a re-run opens the same one.
func autoConflictID(registrationID uuid.UUID, attempt int) uuid.UUID {
	return uuid.NewSHA1(idNamespace, fmt.Appendf(nil, "conflict\x00%s\x00%d", registrationID, attempt))
}

// partyOf turns what the claim book knows of a claim into a conflict party.
func partyOf(c domain.ClaimInfo) domain.Party {
	if c.Direct {
		return domain.Party{
			Key: domain.PartyKeyDirect(c.ID), Kind: domain.PartyDirect, DirectOpportunityID: c.ID, Owner: c.Owner,
			ClaimPosition: c.Position, ClaimedAt: c.ClaimedAt, FirstContact: c.FirstContact, HasProof: c.HasProof,
		}
	}
	return domain.Party{
		Key: domain.PartyKeyRegistration(c.ID), Kind: domain.PartyPartner, PartnerID: c.PartnerID, RegistrationID: c.ID,
		ClaimPosition: c.Position, ClaimedAt: c.ClaimedAt, FirstContact: c.FirstContact, HasProof: c.HasProof, Tier: c.Tier,
	}
}

// autoConflict plans the conflict case of a possible-duplicate finding on
// submission sub (recorded as rec): the submission against the claims it
// matched, as the book knows them right after the submission. Grant clashes
// alone open no case (the reviewer sees them on the registration). It
// returns nil when no case opens.
func (c *checker) autoConflict(rec domain.RecordedEvent, sub domain.RegistrationSubmitted, f domain.Finding) *domain.EventData {
	if f.Verdict != domain.VerdictPossibleDuplicate || (len(f.Matches) == 0 && len(f.DirectMatches) == 0) {
		return nil
	}
	self, ok := c.book.Claim(sub.RegistrationID)
	if !ok {
		return nil
	}
	parties := []domain.Party{partyOf(self)}
	kind := domain.ConflictPartnerVsPartner
	for i, id := range f.DirectMatches {
		if i > 0 {
			break // one direct party per case: the earliest
		}
		if d, ok := c.book.Claim(id); ok {
			parties = append(parties, partyOf(d))
			kind = domain.ConflictPartnerVsDirect
		}
	}
	for _, id := range f.Matches {
		if len(parties) == domain.MaxConflictParties {
			break // the best matches come first; a case holds at most this many
		}
		if m, ok := c.book.Claim(id); ok {
			parties = append(parties, partyOf(m))
		}
	}
	if len(parties) < 2 {
		return nil
	}
	value := self.Value
	for _, p := range parties[1:] {
		if m, ok := c.book.Claim(claimIDOf(p)); ok && m.Value.Currency == value.Currency && m.Value.Amount.GreaterThan(value.Amount) {
			value = m.Value
		}
	}
	id := autoConflictID(sub.RegistrationID, sub.Attempt)
	events, err := domain.OpenConflict(checkerCall.Actor, domain.ConflictOpening{
		ID: id, Kind: kind, Parties: parties, Account: sub.Details.Account, Value: value, Reason: f.Reason, Automatic: true,
	}, c.s.PolicyAt(rec.RecordedAt), rec.RecordedAt)
	if err != nil {
		var fields []domain.FieldError
		if de, ok := err.(*domain.Error); ok {
			fields = de.Fields
		}
		c.s.logger.Error("duplicate checker: conflict not opened", "registration", sub.RegistrationID, "err", err, "fields", fmt.Sprint(fields))
		return nil
	}
	stream := domain.ConflictStream(id)
	eid := uuid.NewSHA1(idNamespace, []byte("opened\x00"+id.String()))
	data, err := encode(checkerCall, stream, events, []uuid.UUID{eid})
	if err != nil || len(data) != 1 {
		c.s.logger.Error("duplicate checker: conflict not encoded", "registration", sub.RegistrationID, "err", err)
		return nil
	}
	return &data[0]
}

// openConflict appends a planned conflict case, unless it was opened
// before.
func (c *checker) openConflict(ctx context.Context, sub domain.RegistrationSubmitted, opened domain.EventData) error {
	stream := domain.ConflictStream(autoConflictID(sub.RegistrationID, sub.Attempt))
	if _, err := c.s.store.ReadStream(ctx, stream, domain.ReadStreamOptions{Count: 1}); err == nil {
		return nil // opened before this run
	} else if !errors.Is(err, domain.ErrStreamNotFound) {
		return err
	}
	_, err := c.s.store.Append(ctx, stream, domain.NoStream(), opened)
	var wrong *domain.WrongExpectedRevisionError
	if errors.As(err, &wrong) {
		return nil
	}
	return err
}

func claimIDOf(p domain.Party) uuid.UUID {
	if p.Kind == domain.PartyDirect {
		return p.DirectOpportunityID
	}
	return p.RegistrationID
}

// updateConflict runs a command on conflict id.
func (s *Service) updateConflict(ctx context.Context, call Call, id uuid.UUID, decide func(c *domain.Conflict) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, call, domain.ConflictStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		if len(stored) == 0 {
			return nil, domain.Errorf(domain.ENOTFOUND, "conflict not found")
		}
		c, err := domain.RebuildConflict(stored...)
		if err != nil {
			return nil, err
		}
		return decide(c)
	})
}

// OpenConflict opens a conflict case by hand between registrations and at
// most one direct-sales opportunity.
func (s *Service) OpenConflict(ctx context.Context, call Call, registrations, direct []uuid.UUID, reason string) (uuid.UUID, error) {
	id := s.newID()
	if call.IdempotencyKey != "" {
		id = uuid.NewSHA1(idNamespace, []byte("conflict\x00"+call.Actor.ID+"\x00"+call.IdempotencyKey))
	}
	var parties []domain.Party
	kind := domain.ConflictPartnerVsPartner
	var value domain.Money
	for _, rid := range registrations {
		d, ok := s.Registrations.Detail(rid)
		if !ok || !d.Submitted {
			return uuid.Nil, &domain.Error{Code: domain.EINVALID, Message: "the conflict is invalid", Fields: []domain.FieldError{
				{Field: "registrations", Code: domain.FieldInvalid, Message: fmt.Sprintf("no submitted registration %s", rid)},
			}}
		}
		p, _ := s.Directory.Partner(d.PartnerID)
		parties = append(parties, domain.Party{
			Key: domain.PartyKeyRegistration(rid), Kind: domain.PartyPartner, PartnerID: d.PartnerID, RegistrationID: rid,
			ClaimPosition: d.SubmittedPosition, ClaimedAt: d.SubmittedAt, FirstContact: d.Details.Relationship.FirstContactDate,
			HasProof: len(d.Details.Proof) > 0 || len(d.Attachments) > 0, Tier: p.Tier,
		})
		if v := d.Details.Opportunity.EstimatedValue; value.IsZero() || (v.Currency == value.Currency && v.Amount.GreaterThan(value.Amount)) {
			value = v
		}
	}
	for _, did := range direct {
		v, ok := s.Pipeline.Get(did)
		if !ok {
			return uuid.Nil, &domain.Error{Code: domain.EINVALID, Message: "the conflict is invalid", Fields: []domain.FieldError{
				{Field: "direct_opportunities", Code: domain.FieldInvalid, Message: fmt.Sprintf("no direct opportunity %s", did)},
			}}
		}
		kind = domain.ConflictPartnerVsDirect
		parties = append(parties, domain.Party{
			Key: domain.PartyKeyDirect(did), Kind: domain.PartyDirect, DirectOpportunityID: did, Owner: v.Owner,
			ClaimPosition: v.Position, ClaimedAt: v.RecordedAt, FirstContact: v.FirstContactDate,
		})
	}
	var account domain.Account
	if len(registrations) > 0 {
		d, _ := s.Registrations.Detail(registrations[0])
		account = d.Details.Account
	}
	_, err := s.execute(ctx, call, domain.ConflictStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		if len(stored) > 0 {
			return nil, domain.Errorf(domain.ECONFLICT, "conflict %s already exists", id)
		}
		now := s.clock.Now()
		return domain.OpenConflict(call.Actor, domain.ConflictOpening{
			ID: id, Kind: kind, Parties: parties, Account: account, Value: value, Reason: reason,
		}, s.PolicyAt(now), now)
	})
	return id, err
}

// RequestEvidence asks a party of conflict id for evidence.
func (s *Service) RequestEvidence(ctx context.Context, call Call, id uuid.UUID, partyKey, request string) error {
	_, err := s.updateConflict(ctx, call, id, func(c *domain.Conflict) ([]domain.Event, error) {
		return c.RequestEvidence(call.Actor, partyKey, request, s.clock.Now())
	})
	return err
}

// SubmitEvidence records a party's evidence. A partner may leave partyKey
// empty: its own party is meant.
func (s *Service) SubmitEvidence(ctx context.Context, call Call, id uuid.UUID, partyKey string, ev domain.Evidence) error {
	_, err := s.updateConflict(ctx, call, id, func(c *domain.Conflict) ([]domain.Event, error) {
		key := strings.TrimSpace(partyKey)
		if key == "" && call.Actor.Role == domain.RolePartner {
			for _, p := range c.Parties() {
				if p.PartnerID == call.Actor.PartnerID {
					key = p.Key
					break
				}
			}
		}
		if key == "" && call.Actor.Role == domain.RoleDirectSales {
			for _, p := range c.Parties() {
				if p.Kind == domain.PartyDirect {
					key = p.Key
				}
			}
		}
		uploaded, err := s.uploadedBy(ctx, c, key)
		if err != nil {
			return nil, err
		}
		return c.SubmitEvidence(call.Actor, key, ev, uploaded, s.clock.Now())
	})
	return err
}

// uploadedBy returns the documents party key of conflict c uploaded, which
// its evidence may cite, from the ledger: for a partner party, those its
// registration's RegistrationAttachmentAdded events record. There is no
// upload onto a case, and the direct party has no registration, so it
// uploaded none.
func (s *Service) uploadedBy(ctx context.Context, c *domain.Conflict, key string) ([]domain.Attachment, error) {
	p, ok := c.Party(key)
	if !ok || p.Kind != domain.PartyPartner {
		return nil, nil // SubmitEvidence refuses the party itself
	}
	stored, err := s.readStream(ctx, domain.RegistrationStream(p.RegistrationID))
	if err != nil || len(stored) == 0 {
		return nil, err
	}
	r, err := domain.Rebuild(stored...)
	if err != nil {
		return nil, err
	}
	if r.PartnerID() != p.PartnerID {
		return nil, nil
	}
	return r.Attachments(), nil
}

// EscalateConflict moves conflict id one level up.
func (s *Service) EscalateConflict(ctx context.Context, call Call, id uuid.UUID, reason string) error {
	_, err := s.updateConflict(ctx, call, id, func(c *domain.Conflict) ([]domain.Event, error) {
		now := s.clock.Now()
		return c.Escalate(call.Actor, reason, s.PolicyAt(now), now)
	})
	return err
}

// DecideConflict decides conflict id. The resolver then carries the
// decision over to the parties' registrations (and the direct deal); the
// call waits until it has.
func (s *Service) DecideConflict(ctx context.Context, call Call, id uuid.UUID, d domain.ConflictDecision) error {
	res, err := s.updateConflict(ctx, call, id, func(c *domain.Conflict) ([]domain.Event, error) {
		now := s.clock.Now()
		events, err := c.Decide(call.Actor, d, s.PolicyAt(now), now)
		if err == nil {
			err = s.grantableParties(c, d, now) // partner_program.go
		}
		return events, err
	})
	if err != nil {
		return err
	}
	return s.awaitEffects(ctx, res.Position)
}

// resolverCall is the identity of the events the resolver appends.
var resolverCall = Call{Caller: Caller{Actor: domain.Actor{ID: "system:resolver", Role: domain.RoleAdmin}, Name: "conflict resolver"}}

// resolve carries the decision of conflict c over to its parties: winners
// and co-registered partners are protected, losers rejected, a direct deal
// lost to a partner is ceded. Each party's event is derived from the
// conflict and the party, and skipped when the party's stream already has
// it, so re-running appends nothing.
//
// held, when set, reports event IDs known to be in the ledger already
// (the follower's batch holds them), whose streams need not be read.
func (s *Service) resolve(ctx context.Context, c *domain.Conflict, decided domain.ConflictDecided, at time.Time, held func(uuid.UUID) bool) error {
	results, shares := conflictResults(c.Parties(), decided)
	var errs []error
	for _, p := range c.Parties() {
		result := results[p.Key]
		eid := resolutionID(c.ID(), p.Key)
		if held != nil && held(eid) {
			continue
		}
		call := resolverCall
		call.Name = "conflict resolver for " + decided.DecidedBy
		if p.Kind == domain.PartyDirect {
			if resolvesParty(p, result, decided) {
				errs = append(errs, s.resolveStream(ctx, call, domain.DirectStream(p.DirectOpportunityID), eid, func(stored []domain.Event) ([]domain.Event, error) {
					d, err := domain.RebuildDirect(stored...)
					if err != nil {
						return nil, err
					}
					return d.Cede(decided.DecidedBy, "conflict "+c.ID().String()+": "+decided.PolicyClause, at)
				}))
			}
			continue
		}
		errs = append(errs, s.resolveStream(ctx, call, domain.RegistrationStream(p.RegistrationID), eid, func(stored []domain.Event) ([]domain.Event, error) {
			r, err := domain.Rebuild(stored...)
			if err != nil {
				return nil, err
			}
			return r.ApplyConflictDecision(decided.DecidedBy, c.ID(), result, shares[p.Key], decided.Rationale, decided.PolicyClause, s.PolicyAt(at), at)
		}))
	}
	return errors.Join(errs...)
}

// conflictResults returns what decided means for each of parties, by
// party key, and the shares of the co-registered.
func conflictResults(parties []domain.Party, decided domain.ConflictDecided) (map[string]domain.ConflictResult, map[string]domain.ConflictShare) {
	results := map[string]domain.ConflictResult{}
	shares := map[string]domain.ConflictShare{}
	for _, p := range parties {
		switch decided.Outcome {
		case domain.OutcomeAward:
			results[p.Key] = domain.ConflictLost
			if p.Key == decided.Winner {
				results[p.Key] = domain.ConflictWon
			}
		case domain.OutcomeCoRegister:
			results[p.Key] = domain.ConflictLost
			for _, sh := range decided.Shares {
				if sh.PartyKey == p.Key {
					results[p.Key] = domain.ConflictCoRegistered
					shares[p.Key] = domain.ConflictShare{Percent: sh.Percent, Responsibilities: sh.Responsibilities}
				}
			}
		default:
			results[p.Key] = domain.ConflictLost
		}
	}
	return results, shares
}

// resolvesParty reports whether resolve appends an event for party p,
// whose result is result: every registration does, a direct deal only
// when it is ceded to a partner.
func resolvesParty(p domain.Party, result domain.ConflictResult, decided domain.ConflictDecided) bool {
	if p.Kind != domain.PartyDirect {
		return true
	}
	return result == domain.ConflictLost && decided.Outcome != domain.OutcomeRejectAll
}

// resolutionID is the event ID of the resolution of conflict id on the
// stream of the party named key.
func resolutionID(id uuid.UUID, key string) uuid.UUID {
	return uuid.NewSHA1(idNamespace, []byte("resolve\x00"+id.String()+"\x00"+key))
}

// resolveStream appends what decide returns to stream under event ID eid,
// unless the stream already holds eid. It runs inside the follower's batch,
// so it never waits for the views.
func (s *Service) resolveStream(ctx context.Context, call Call, stream string, eid uuid.UUID, decide func([]domain.Event) ([]domain.Event, error)) error {
	for attempt := 1; ; attempt++ {
		recs, err := s.store.ReadStream(ctx, stream, domain.ReadStreamOptions{})
		if err != nil {
			return err
		}
		if slices.ContainsFunc(recs, func(r domain.RecordedEvent) bool { return r.ID == eid }) {
			return nil
		}
		stored, err := domain.DecodeRecorded(recs)
		if err != nil {
			return err
		}
		events, err := decide(stored)
		if err != nil || len(events) == 0 {
			return err
		}
		data, err := encode(call, stream, events, []uuid.UUID{eid})
		if err != nil {
			return err
		}
		_, err = s.store.Append(ctx, stream, domain.Exact(uint64(len(recs)-1)), data...)
		var wrong *domain.WrongExpectedRevisionError
		if errors.As(err, &wrong) && attempt < maxAttempts {
			continue
		}
		return err
	}
}
