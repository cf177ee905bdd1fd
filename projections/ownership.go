package projections

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	json "github.com/goccy/go-json"

	"github.com/dealreg/dealreg/domain/match"
)

// Claim is one registration that claimed an account, with the window in
// which it held (or was first in line for) it.
type Claim struct {
	RegistrationView
	// MatchedBy says how the query found it: "name" (the same normalised
	// company name) or "domain" (the same registrable web domain).
	MatchedBy string `json:"matched_by"`
	// HeldFrom is its first submission; HeldUntil is when it stopped
	// holding the account (it became rejected, a duplicate, withdrawn,
	// expired, revoked or closed): absent while it still does.
	HeldFrom  time.Time `json:"held_from"`
	HeldUntil time.Time `json:"held_until,omitzero"`
}

// Ownership returns every submitted registration whose account has the
// normalised company name of name or the registrable domain of site, in
// ledger order of first submission, as they stand at moment m (now, for the
// zero Moment): who claimed the account over time, and when. Registrations
// not submitted by then are left out.
func (p *Registrations) Ownership(ctx context.Context, name, site string, m Moment) ([]Claim, error) {
	db := p.database()
	if db == nil {
		return nil, fmt.Errorf("ownership: registrations are not loaded yet")
	}
	key, dom := match.Normalise(name), match.RegistrableDomain(site)
	if key == "" && dom == "" {
		return []Claim{}, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT d.view, r.account_key = ? FROM registrations r JOIN registration_docs d ON d.pos = r.pos
		WHERE (r.account_key = ? AND ? != '') OR r.domain_key = ? ORDER BY r.pos`,
		key, key, key, dom)
	if err != nil {
		return nil, fmt.Errorf("ownership: %w", err)
	}
	type hit struct {
		view   []byte
		byName bool
	}
	var hits []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.view, &h.byName); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ownership: %w", err)
		}
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ownership: %w", err)
	}
	out := []Claim{}
	for _, h := range hits {
		var v RegistrationView
		if err := json.Unmarshal(h.view, &v); err != nil {
			return nil, fmt.Errorf("ownership: %w", err)
		}
		if !m.IsNow() {
			d, _, ok, err := p.DetailAt(ctx, v.ID, m)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			v = d.RegistrationView
		}
		if !v.Submitted {
			continue
		}
		c := Claim{RegistrationView: v, MatchedBy: "domain", HeldFrom: v.SubmittedAt}
		if h.byName {
			c.MatchedBy = "name"
		}
		if v.Status.Final() {
			c.HeldUntil = v.UpdatedAt
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b Claim) int { return cmp.Compare(a.SubmittedPosition, b.SubmittedPosition) })
	return out, nil
}
