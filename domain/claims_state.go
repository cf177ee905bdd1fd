package domain

import (
	"time"

	"github.com/google/uuid"
)

// ClaimRecord is one claim of a ClaimBook as it is kept between runs: what
// the book knows of a submitted registration or an open direct
// opportunity.
type ClaimRecord struct {
	ID            uuid.UUID        `json:"id"`
	Direct        bool             `json:"direct,omitempty"`
	Owner         string           `json:"owner,omitempty"`
	PartnerID     string           `json:"partner_id,omitempty"`
	Type          RegistrationType `json:"type"`
	Account       Account          `json:"account"`
	ProductLines  []string         `json:"product_lines,omitempty"`
	Status        Status           `json:"status"`
	FirstPosition uint64           `json:"first_position"`
	ClaimedAt     time.Time        `json:"claimed_at"`
	FirstContact  time.Time        `json:"first_contact,omitzero"`
	HasProof      bool             `json:"has_proof,omitempty"`
	Value         Money            `json:"value"`
	ProtectionEnd time.Time        `json:"protection_end,omitzero"`
	Extension     time.Duration    `json:"extension,omitempty"`
}

func (c *claim) record() ClaimRecord {
	return ClaimRecord{
		ID: c.id, Direct: c.direct, Owner: c.owner, PartnerID: c.partnerID, Type: c.typ, Account: c.account,
		ProductLines: c.productLines, Status: c.status, FirstPosition: c.firstPosition, ClaimedAt: c.claimedAt,
		FirstContact: c.firstContact, HasProof: c.hasProof, Value: c.value, ProtectionEnd: c.protectionEnd, Extension: c.extension,
	}
}

// TrackChanges makes the book remember which claims change, for Changes.
func (b *ClaimBook) TrackChanges() {
	if b.changed == nil {
		b.changed = map[uuid.UUID]struct{}{}
	}
}

// Changes returns the claims changed since the last call (or since
// TrackChanges), and the IDs of those the book forgot, then starts over.
func (b *ClaimBook) Changes() (changed []ClaimRecord, forgotten []uuid.UUID) {
	for id := range b.changed {
		if c, ok := b.claims[id]; ok {
			changed = append(changed, c.record())
		} else {
			forgotten = append(forgotten, id)
		}
	}
	clear(b.changed)
	return changed, forgotten
}

// Restore puts claims kept by an earlier run back into the book. Apply the
// book's other inputs (partners, grants, account decisions, subsidiaries)
// first: they are replayed as events, claims are not.
func (b *ClaimBook) Restore(recs ...ClaimRecord) {
	for _, r := range recs {
		c := &claim{
			id: r.ID, direct: r.Direct, owner: r.Owner, partnerID: r.PartnerID, typ: r.Type, account: r.Account,
			productLines: r.ProductLines, status: r.Status, firstPosition: r.FirstPosition, claimedAt: r.ClaimedAt,
			firstContact: r.FirstContact, hasProof: r.HasProof, value: r.Value, protectionEnd: r.ProtectionEnd, extension: r.Extension,
		}
		b.claims[c.id] = c
		b.reindex(c)
	}
	clear(b.changed)
}

// Reset empties the book.
func (b *ClaimBook) Reset() {
	fresh := NewClaimBook()
	fresh.changed = b.changed
	clear(fresh.changed)
	*b = *fresh
}

// IsBookInput reports whether the book follows event type typ of a stream
// other than a registration's or a direct opportunity's: those are kept as
// events and applied again on restore.
func IsBookInput(e Event) bool {
	switch e.(type) {
	case TerritoryGranted, TerritoryGrantRevoked, PartnerAdded, PartnerUpdated, AccountMatchDecided, SubsidiaryLinked:
		return true
	}
	return false
}
