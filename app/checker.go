package app

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// checker is the duplicate checker. Fed by the service's follower, it
// keeps a ClaimBook of the ledger in global order and, at each
// RegistrationSubmitted, decides the finding from the book as it stood
// before that event (DESIGN §3), then records it on the registration's
// stream. Its identity in metadata is "system:checker".
//
// Deciding is in ledger order and in memory; recording is not: the verdict
// is appended by a task of the follower's batch, so the next submission is
// decided while the verdict before it is still being made durable, and
// concurrent verdicts share the ledger's group commit. The batch commits
// only once its verdicts are durable, so the checkpoint never passes a
// submission whose verdict could be lost.
//
// Because the finding depends only on the events before the submission, a
// checker that sees a submission again (after a crash before its batch
// committed) decides the same finding; it records only those missing (the
// submission is still the last event of its stream), and a finding's event
// ID is derived from the registration and attempt, so two checkers never
// record one twice.
type checker struct {
	s    *Service
	mu   sync.Mutex // guards book against Flush and Claim readers
	book *domain.ClaimBook
	next uint64
	// inputs are the book's non-claim events applied since the last flush.
	inputs []bookInput
}

// bookInput is a non-claim event the book follows, kept as recorded.
type bookInput struct {
	Position      uint64          `json:"position"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Data          json.RawMessage `json:"data"`
}

func newChecker(s *Service) *checker {
	b := domain.NewClaimBook()
	b.TrackChanges()
	return &checker{s: s, book: b}
}

// checkerCall is the identity the checker's events carry.
var checkerCall = Call{Caller: Caller{Actor: domain.Actor{ID: "system:checker", Role: domain.RoleAdmin}, Name: "duplicate checker"}}

// Rows of the checker in the state database.
const (
	claimRows = "claims"
	inputRows = "claim-book-inputs"
)

// Load implements projections.Handler: the book's inputs are applied again
// in ledger order, then its claims are restored.
func (c *checker) Load(ctx context.Context, db *sql.DB) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.book.Reset()
	c.inputs = nil
	var inputs []bookInput
	err := projections.LoadRows(ctx, db, inputRows, func(_ string, body []byte) error {
		var in bookInput
		if err := json.Unmarshal(body, &in); err != nil {
			return err
		}
		inputs = append(inputs, in)
		return nil
	})
	if err != nil {
		return fmt.Errorf("claim book: %w", err)
	}
	slices.SortFunc(inputs, func(a, b bookInput) int { return cmp.Compare(a.Position, b.Position) })
	for _, in := range inputs {
		ev, err := domain.DecodeEvent(in.Type, in.SchemaVersion, in.Data)
		if err != nil {
			return fmt.Errorf("claim book input at %d: %w", in.Position, err)
		}
		c.book.ApplyAt(ev, in.Position, time.Time{})
	}
	var claims []domain.ClaimRecord
	err = projections.LoadRows(ctx, db, claimRows, func(_ string, body []byte) error {
		var r domain.ClaimRecord
		if err := json.Unmarshal(body, &r); err != nil {
			return err
		}
		claims = append(claims, r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("claim book: %w", err)
	}
	c.book.Restore(claims...)
	return nil
}

// Committed implements projections.Handler.
func (c *checker) Committed(next uint64) {
	c.mu.Lock()
	c.next = next
	c.mu.Unlock()
}

// Flush implements projections.Handler.
func (c *checker) Flush() (projections.Write, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed, forgotten := c.book.Changes()
	var w projections.RowWrites
	for _, r := range changed {
		body, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		w.Put(claimRows, r.ID.String(), body)
	}
	for _, id := range forgotten {
		w.Delete(claimRows, id.String())
	}
	for _, in := range c.inputs {
		body, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		w.Put(inputRows, fmt.Sprintf("%020d", in.Position), body)
	}
	c.inputs = nil
	if w.Len() == 0 {
		return nil, nil
	}
	return w.Write, nil
}

// ApplyBatch implements projections.Handler: it applies one event,
// deciding first when it is a submission.
func (c *checker) ApplyBatch(b *projections.Batch, rec domain.RecordedEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rec.Position < c.next {
		return nil
	}
	c.next = rec.Position + 1
	ev, ok, err := decodeForBook(b, rec)
	if err != nil || !ok {
		return err
	}
	sub, isSub := ev.(domain.RegistrationSubmitted)
	if !isSub {
		c.book.ApplyAt(ev, rec.Position, rec.RecordedAt)
		if domain.IsBookInput(ev) {
			c.inputs = append(c.inputs, bookInput{Position: rec.Position, Type: rec.Type, SchemaVersion: rec.SchemaVersion, Data: rec.Data})
		}
		return nil
	}
	// While catching up, most submissions are followed in the same page by
	// their verdict: nothing is left to do but fold, unless the verdict
	// opened a case that may still be missing.
	if later, found := b.NextInStream(rec); found &&
		(!possibleDuplicateVerdict(b, later) || b.HasStream(domain.ConflictStream(autoConflictID(sub.RegistrationID, sub.Attempt)))) {
		c.book.ApplyAt(ev, rec.Position, rec.RecordedAt)
		return nil
	}
	f := c.book.Check(sub, rec.RecordedAt)
	plan := c.s.planReview(sub, f, rec.RecordedAt) // approval automation (automation.go)
	c.book.ApplyAt(ev, rec.Position, rec.RecordedAt)
	opening := c.autoConflict(rec, sub, f)
	b.Go(func(ctx context.Context) error {
		recorded, err := c.record(ctx, rec, sub, f, plan)
		if err != nil || !recorded || opening == nil {
			return err
		}
		return c.openConflict(ctx, sub, *opening)
	})
	return nil
}

// possibleDuplicateVerdict reports whether rec is a verdict that may have
// opened a conflict case.
func possibleDuplicateVerdict(b *projections.Batch, rec domain.RecordedEvent) bool {
	if rec.Type != (domain.RegistrationVerdictRecorded{}).EventType() {
		return false
	}
	ev, err := b.Decode(rec) // decoded once, for every handler
	if err != nil {
		return true // the slow path decides, and reports
	}
	v, _ := ev.(domain.RegistrationVerdictRecorded)
	return v.Verdict == domain.VerdictPossibleDuplicate
}

// decodeForBook decodes the events the claim book follows: registrations,
// partners (tiers, territory grants), direct-sales opportunities and the
// reviewers' account decisions.
func decodeForBook(b *projections.Batch, rec domain.RecordedEvent) (domain.Event, bool, error) {
	if _, ok := RegistrationStreamID(rec.Stream); !ok && !bookStream(rec.Stream) {
		return nil, false, nil
	}
	ev, err := b.Decode(rec)
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
func (c *checker) record(ctx context.Context, rec domain.RecordedEvent, sub domain.RegistrationSubmitted, f domain.Finding, plan *domain.ReviewPlan) (bool, error) {
	stored, err := c.s.store.ReadStream(ctx, rec.Stream, domain.ReadStreamOptions{})
	if err != nil && !errors.Is(err, domain.ErrStreamNotFound) {
		return false, err
	}
	if uint64(len(stored)) > rec.Revision+1 {
		// A verdict recorded before counts as it was recorded, even when
		// another model decided it: it is never decided again. The case
		// planned from this run's finding opens only if the recorded
		// verdict is that finding.
		next := stored[rec.Revision+1]
		if next.Type != (domain.RegistrationVerdictRecorded{}).EventType() {
			return false, nil
		}
		ev, err := domain.DecodeEvent(next.Type, next.SchemaVersion, next.Data)
		if err != nil {
			return false, err
		}
		v, _ := ev.(domain.RegistrationVerdictRecorded)
		if v.Verdict != f.Verdict || !slices.Equal(v.Matches, f.Matches) || !slices.Equal(v.DirectMatches, f.DirectMatches) {
			c.s.logger.Info("duplicate checker: verdict recorded by another model kept", "registration", sub.RegistrationID,
				"recorded_model", v.Model, "model", f.Model)
			return false, nil
		}
		return true, nil
	}
	events, err := domain.DecodeRecorded(stored)
	if err != nil {
		return false, err
	}
	r, err := domain.Rebuild(events...)
	if err != nil {
		return false, err
	}
	// The finding's time is the submission's recorded time, so replaying
	// decides the very same event.
	verdict, err := r.RecordFinding(f, rec.RecordedAt)
	verdict = domain.NamePolicy(verdict, c.s.PolicyAt(rec.RecordedAt))
	if err != nil {
		c.s.logger.Error("duplicate checker: finding refused", "registration", sub.RegistrationID, "err", err)
		return false, nil
	}
	id := uuid.NewSHA1(idNamespace, fmt.Appendf(nil, "verdict\x00%s\x00%d", sub.RegistrationID, sub.Attempt))
	data, err := encode(checkerCall, rec.Stream, verdict, []uuid.UUID{id})
	if err != nil {
		return false, err
	}
	more, err := c.s.automation(r, verdict, plan, rec.Stream, rec.RecordedAt)
	if err != nil {
		return false, err
	}
	data = append(data, more...)
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
