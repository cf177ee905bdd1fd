// Package projections holds the read side of dealreg: in-memory views that
// are deterministic folds over the ledger's global order (DESIGN.md §4).
//
// A projection is disposable. It owns no truth: it can be dropped and
// rebuilt at any time by replaying the ledger, and an as-of view is such a
// replay stopped at a position (Replay) or a recorded time (ReplayUntil).
// Projections never read the clock and never call out; every time they show
// comes from the store's recorded times or from the events themselves, and
// every "is it late?" question takes the time as an argument.
//
// Registrations is the registration pipeline view. It folds each
// registration's events through the domain aggregate (domain.Registration)
// and reads its accessors, so the view can never disagree with the rules
// that decide commands. Run keeps a projection up to date by following a
// store subscription, and Registrations.WaitFor lets a writer that has just
// appended at position P wait until the view has applied P before it
// answers (read-your-writes).
//
// Decisions worth knowing:
//
//   - Checkpoint is the next global position to apply, matching
//     EventStore.SubscribeAll's from argument. An event below it was already
//     applied and is ignored, so at-least-once delivery is harmless. Gaps
//     above it are accepted, because KurrentDB positions are not contiguous.
//   - Events of other streams advance the checkpoint and change nothing,
//     whatever their type. An event of a registration stream that cannot be
//     decoded or applied (bad JSON, a type or schema version this binary
//     does not know, a revision gap, an event before RegistrationDrafted)
//     is an error and does not advance the checkpoint: skipping it would
//     silently give a wrong view, which a deterministic fold must never do.
//     A newer ledger needs a newer binary; a damaged one needs verify.
//   - Metadata is descriptive, not state: missing keys or even malformed
//     metadata leave the actor empty (or fall back to the actor named in the
//     event) rather than stopping the projection.
//   - List orders by the position of RegistrationDrafted. That key never
//     changes and new registrations always get a larger one, so a cursor
//     (an opaque encoding of the last key returned) neither repeats nor
//     skips items while registrations keep arriving. Ordering by submission
//     position would move a draft when it is submitted and break that.
//   - SubmittedAt is the recorded time of the first submission (who was
//     first is a ledger fact); the review SLA runs from the latest
//     submission, since a resubmission after a return restarts the review.
//   - History keeps the raw event data for auditors. It includes verdict
//     matches and personal data, so the HTTP layer must filter it before
//     showing it to a partner.
package projections
