package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// checker is the duplicate checker. It reads the ledger in global order
// into a ClaimBook and, at each RegistrationSubmitted, decides the finding
// from the book as it stood before that event (DESIGN §3), then records it
// on the registration's stream. Its identity in metadata is "system:checker".
//
// Because the finding depends only on the events before the submission, a
// restarted checker, reading the ledger from the start, decides the same
// findings again; it records only those missing (the submission is still
// the last event of its stream), and a finding's event ID is derived from
// the registration and attempt, so two checkers never record one twice.
type checker struct {
	s    *Service
	book *domain.ClaimBook
	follower
}

func newChecker(s *Service) *checker {
	c := &checker{s: s, book: domain.NewClaimBook(), follower: newFollower(s.store)}
	c.follower.process = c.process
	return c
}

// checkerCall is the identity the checker's events carry.
var checkerCall = Call{Caller: Caller{Actor: domain.Actor{ID: "system:checker", Role: domain.RoleAdmin}, Name: "duplicate checker"}}

// process applies one event, deciding first when it is a submission.
func (c *checker) process(ctx context.Context, rec domain.RecordedEvent) error {
	if rec.Position < c.position() {
		return nil
	}
	ev, ok, err := decodeForBook(rec)
	if err != nil {
		return err
	}
	if ok {
		sub, isSub := ev.(domain.RegistrationSubmitted)
		var f domain.Finding
		recorded := false
		if isSub {
			f = c.book.Check(sub, rec.RecordedAt)
			if recorded, err = c.record(ctx, rec, sub, f); err != nil {
				return err
			}
		}
		c.book.ApplyAt(ev, rec.Position, rec.RecordedAt)
		if recorded {
			if err := c.openAutomatic(ctx, rec, sub, f); err != nil {
				return err
			}
		}
	}
	c.done(rec.Position)
	return nil
}

// decodeForBook decodes the events the claim book follows: registrations,
// partners (tiers, territory grants), direct-sales opportunities and the
// reviewers' account decisions.
func decodeForBook(rec domain.RecordedEvent) (domain.Event, bool, error) {
	if _, ok := RegistrationStreamID(rec.Stream); !ok && !bookStream(rec.Stream) {
		return nil, false, nil
	}
	ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
	if err != nil {
		return nil, false, fmt.Errorf("duplicate checker at position %d: %w", rec.Position, err)
	}
	return ev, true, nil
}

func bookStream(s string) bool {
	return s == domain.AccountsStream || strings.HasPrefix(s, "partner-") || strings.HasPrefix(s, "direct-")
}

// record appends finding f on submission sub (recorded as rec), unless the
// registration has moved on since: its verdict is recorded already, or the
// partner withdrew before the check ran. It reports whether the ledger holds
// this finding as the submission's verdict (appended now or before).
func (c *checker) record(ctx context.Context, rec domain.RecordedEvent, sub domain.RegistrationSubmitted, f domain.Finding) (bool, error) {
	later, err := c.s.store.ReadStream(ctx, rec.Stream, domain.ReadStreamOptions{From: rec.Revision + 1, Count: 1})
	if err != nil && !errors.Is(err, domain.ErrStreamNotFound) {
		return false, err
	}
	if len(later) > 0 {
		return later[0].Type == (domain.RegistrationVerdictRecorded{}).EventType(), nil
	}
	stored, err := c.s.readStream(ctx, rec.Stream)
	if err != nil {
		return false, err
	}
	r, err := domain.Rebuild(stored...)
	if err != nil {
		return false, err
	}
	// The finding's time is the submission's recorded time, so replaying
	// decides the very same event.
	events, err := r.RecordFinding(f, rec.RecordedAt)
	if err != nil {
		c.s.logger.Error("duplicate checker: finding refused", "registration", sub.RegistrationID, "err", err)
		return false, nil
	}
	id := uuid.NewSHA1(idNamespace, fmt.Appendf(nil, "verdict\x00%s\x00%d", sub.RegistrationID, sub.Attempt))
	data, err := encode(checkerCall, rec.Stream, events, []uuid.UUID{id})
	if err != nil {
		return false, err
	}
	_, err = c.s.store.Append(ctx, rec.Stream, domain.Exact(rec.Revision), data...)
	var wrong *domain.WrongExpectedRevisionError
	if errors.As(err, &wrong) {
		// The partner acted first (e.g. withdrew), or another checker
		// recorded it: it counts only if it is this verdict.
		again, rerr := c.s.store.ReadStream(ctx, rec.Stream, domain.ReadStreamOptions{From: rec.Revision + 1, Count: 1})
		return rerr == nil && len(again) == 1 && again[0].ID == id, rerr
	}
	return err == nil, err
}
