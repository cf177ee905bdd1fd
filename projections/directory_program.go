package projections

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dealreg/dealreg/domain"
)

// followsStanding reports whether rec, of a stream the directory does not
// follow otherwise, changes a partner's standing: a violation recorded on
// a registration carries the partner's suspension or termination. The
// type is compared before decoding, so the directory decodes no other
// registration event.
func followsStanding(rec domain.RecordedEvent) bool {
	return rec.Type == (domain.RegistrationViolationRecorded{}).EventType()
}

// applyStanding folds an event of the partner program into the standing
// of the partner it names.
func (d *Directory) applyStanding(e domain.Event) {
	var id string
	switch e := e.(type) {
	case domain.PartnerCredentialRecorded:
		id = e.PartnerID
	case domain.PartnerSuspended:
		id = e.PartnerID
	case domain.PartnerReinstated:
		id = e.PartnerID
	case domain.PartnerTerminated:
		id = e.PartnerID
	case domain.RegistrationViolationRecorded:
		id = e.PartnerID
	}
	p, ok := d.partners[id]
	if !ok {
		return
	}
	p.Standing.Apply(e)
	d.markPartner(id)
}

// newStanding is the standing of a partner just enrolled, with empty lists
// rather than none.
func newStanding() domain.PartnerStanding {
	return domain.PartnerStanding{Credentials: []domain.Credential{}, Suspensions: []domain.Suspension{}, Violations: []domain.ViolationSummary{}}
}

// describeViolation summarises a violation for the audit trail.
func describeViolation(e domain.RegistrationViolationRecorded) string {
	s := fmt.Sprintf("Violation recorded under policy v%d: %s", e.PolicyVersion, strings.ReplaceAll(e.Kind, "_", " "))
	switch {
	case e.Sanction.Terminate:
		s += "; partner terminated"
	case !e.Sanction.SuspendedUntil.IsZero():
		s += "; partner suspended until " + e.Sanction.SuspendedUntil.UTC().Format("2006-01-02")
	}
	return s
}

// Tokens returns every token, revoked or not, oldest first.
func (d *Directory) Tokens() []TokenView {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]TokenView, 0, len(d.tokens))
	for _, t := range d.tokens {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b TokenView) int {
		if c := a.IssuedAt.Compare(b.IssuedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out
}
