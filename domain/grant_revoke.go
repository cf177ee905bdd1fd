package domain

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// TerritoryGrantRevoked records that a territory grant was ended before
// its term: from At on it covers nothing (the duplicate check, the
// directory and the grant term's scheduler read its ValidTo as At). It
// belongs to the partner's stream.
type TerritoryGrantRevoked struct {
	GrantID   uuid.UUID `json:"grant_id"`
	PartnerID string    `json:"partner_id"`
	Reason    string    `json:"reason"`
	RevokedBy string    `json:"revoked_by"`
	At        time.Time `json:"at"`
}

// EventType returns "TerritoryGrantRevoked".
func (TerritoryGrantRevoked) EventType() string { return "TerritoryGrantRevoked" }

// Revoked applies a revocation at at to the grant: it ends then, if it
// had not ended before.
func (g TerritoryGrant) Revoked(at time.Time) TerritoryGrant {
	if at.Before(g.ValidTo) {
		g.ValidTo = at
		if g.ValidTo.Before(g.ValidFrom) {
			g.ValidTo = g.ValidFrom // revoked before it began: it never covers anything
		}
	}
	return g
}

// RevokeGrant ends grant id of partner partnerID, whose stream holds the
// events stored, at now, for reason. The roles that grant territories
// revoke them; a grant that does not exist on the stream is not found,
// and one already revoked or ended is a conflict.
func RevokeGrant(actor Actor, partnerID string, id uuid.UUID, stored []Event, reason string, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	switch actor.Role {
	case RoleChannelDirector, RoleExecutive, RoleAdmin:
	default:
		return nil, Errorf(EFORBIDDEN, "role %q may not revoke territory grants", actor.Role)
	}
	var grant *TerritoryGrant
	revoked := false
	for _, e := range stored {
		switch e := e.(type) {
		case TerritoryGranted:
			if e.GrantID == id {
				g := e.Grant
				grant = &g
			}
		case TerritoryGrantRevoked:
			if e.GrantID == id {
				revoked = true
			}
		}
	}
	if grant == nil {
		return nil, Errorf(ENOTFOUND, "grant not found")
	}
	reason = strings.TrimSpace(reason)
	var v validator
	v.requiredText("reason", reason, MaxStandingReasonLen, true)
	if err := v.err("the revocation is invalid"); err != nil {
		return nil, err
	}
	now = canonicalTime(now)
	switch {
	case revoked:
		return nil, Errorf(ECONFLICT, "grant %s is already revoked", id)
	case !now.Before(grant.ValidTo):
		return nil, Errorf(ECONFLICT, "grant %s has already ended", id)
	}
	return []Event{TerritoryGrantRevoked{GrantID: id, PartnerID: partnerID, Reason: reason, RevokedBy: actor.ID, At: now}}, nil
}
