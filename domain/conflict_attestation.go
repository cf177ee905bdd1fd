package domain

import (
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Customer attestation (the seed's "Conflictos Partner vs. Partner", step 2:
// contact the prospect, with its permission, to learn whom it really works
// with). On an open partner-vs-partner case a decider sends the prospect's
// contact a signed, expiring, single-use link; the contact answers which of
// the named partners it works with, if any, and for which solution. The
// request records only the SHA-256 of the link's token; the answer is
// evidence on the case, and the recommendation follows it.

// Limits of customer attestations.
const (
	// AttestationLifetime is how long an attestation link can be answered.
	AttestationLifetime = 7 * Day
	// MaxAttestations is how many attestations one case may request.
	MaxAttestations = 5
	// MaxAttestationSolutionLen bounds the solution the customer names.
	MaxAttestationSolutionLen = 500
)

// ClauseCustomerAttestation: the prospect's contact attested that it works
// with this partner.
const ClauseCustomerAttestation = "customer-attestation"

// AttestationContact is the prospect's contact an attestation link is
// sent to: personal data, kept apart (DESIGN §8).
type AttestationContact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
	// Language is the contact's language (en, es) when the requester
	// knows it; the link's e-mail is written in both otherwise.
	Language string `json:"language,omitempty"`
}

// ConflictAttestationRequested records that a decider sent the prospect's
// contact an attestation link. TokenHash is the lower-case hex SHA-256 of
// the link's token; the token itself is never stored.
type ConflictAttestationRequested struct {
	ConflictID    uuid.UUID          `json:"conflict_id"`
	AttestationID uuid.UUID          `json:"attestation_id"`
	TokenHash     string             `json:"token_hash"`
	ExpiresAt     time.Time          `json:"expires_at"`
	Personal      AttestationContact `json:"personal"`
	RequestedBy   string             `json:"requested_by"`
	At            time.Time          `json:"at"`
}

// ConflictAttested records the customer's answer to an attestation: the
// party it works with (empty: none of the named partners) and for which
// solution.
type ConflictAttested struct {
	ConflictID    uuid.UUID `json:"conflict_id"`
	AttestationID uuid.UUID `json:"attestation_id"`
	PartyKey      string    `json:"party_key,omitempty"`
	Solution      string    `json:"solution,omitempty"`
	At            time.Time `json:"at"`
}

// EventType returns "ConflictAttestationRequested".
func (ConflictAttestationRequested) EventType() string { return "ConflictAttestationRequested" }

// EventType returns "ConflictAttested".
func (ConflictAttested) EventType() string { return "ConflictAttested" }

// ConflictAggregateID returns the conflict ID.
func (e ConflictAttestationRequested) ConflictAggregateID() uuid.UUID { return e.ConflictID }

// ConflictAggregateID returns the conflict ID.
func (e ConflictAttested) ConflictAggregateID() uuid.UUID { return e.ConflictID }

// OccurredAt returns the command time.
func (e ConflictAttestationRequested) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e ConflictAttested) OccurredAt() time.Time { return e.At }

// Attestation is one attestation of a case: the request and, once
// answered, the answer.
type Attestation struct {
	Request  ConflictAttestationRequested
	Answered bool
	Answer   ConflictAttested
}

// Attestations returns a copy of the case's attestations, oldest first.
func (c *Conflict) Attestations() []Attestation { return slices.Clone(c.attestations) }

// RequestAttestation records that a decider sends the prospect's contact an
// attestation link whose token hashes to tokenHash, answerable until
// expiresAt (after now, at most AttestationLifetime later). Only partner-vs-partner cases are
// attested, while open, at most MaxAttestations times.
func (c *Conflict) RequestAttestation(actor Actor, id uuid.UUID, tokenHash string, expiresAt time.Time, contact AttestationContact, now time.Time) ([]Event, error) {
	if err := c.authorizeDecider(actor, "request a customer attestation in", false); err != nil {
		return nil, err
	}
	if c.kind != ConflictPartnerVsPartner {
		return nil, Errorf(ECONFLICT, "cannot request a customer attestation in conflict %s: only partner_vs_partner cases are attested", c.id)
	}
	if len(c.attestations) >= MaxAttestations {
		return nil, Errorf(ECONFLICT, "conflict %s has already requested %d customer attestations", c.id, MaxAttestations)
	}
	var v validator
	contact.Name = strings.TrimSpace(contact.Name)
	contact.Email = NormalizeEmail(contact.Email)
	v.text("name", contact.Name, MaxUserNameLen, false)
	switch addr, err := mail.ParseAddress(contact.Email); {
	case contact.Email == "":
		v.add("email", FieldRequired, "is required")
	case err != nil || addr.Address != contact.Email || len(contact.Email) > MaxEmailLen:
		v.add("email", FieldInvalid, "must be an e-mail address")
	}
	if contact.Language != "" && !ValidLanguage(contact.Language) {
		v.add("language", FieldInvalid, "must be one of: en, es")
	}
	if id == uuid.Nil || !sha256Hex.MatchString(tokenHash) || !expiresAt.After(now) || expiresAt.Sub(now) > AttestationLifetime {
		return nil, Errorf(EINTERNAL, "an attestation needs an ID, a token hash and an expiry within its lifetime")
	}
	if err := v.err("the attestation request is invalid"); err != nil {
		return nil, err
	}
	now = canonicalTime(now)
	return []Event{ConflictAttestationRequested{
		ConflictID: c.id, AttestationID: id, TokenHash: tokenHash, ExpiresAt: canonicalTime(expiresAt),
		Personal: contact, RequestedBy: actor.ID, At: now,
	}}, nil
}

// errAttestationSpent is the one answer to a link that cannot be answered:
// unknown, expired, already answered, or its case decided.
func errAttestationSpent() error {
	return Errorf(ENOTFOUND, "attestation link not valid")
}

// PendingAttestation returns the attestation whose token hashes to
// tokenHash if it can still be answered at now: requested on this case,
// not answered, not expired, the case open.
func (c *Conflict) PendingAttestation(tokenHash string, now time.Time) (ConflictAttestationRequested, error) {
	if c == nil || c.version == 0 || c.status != ConflictStatusOpen {
		return ConflictAttestationRequested{}, errAttestationSpent()
	}
	for _, a := range c.attestations {
		if a.Request.TokenHash == tokenHash {
			if a.Answered || !now.Before(a.Request.ExpiresAt) {
				break
			}
			return a.Request, nil
		}
	}
	return ConflictAttestationRequested{}, errAttestationSpent()
}

// Attest records the customer's answer to the attestation whose token
// hashes to tokenHash: partyKey names a partner party of the case, or is
// empty for none of them; a named partner needs the solution it works on.
// A link that cannot be answered (see PendingAttestation) is ENOTFOUND.
func (c *Conflict) Attest(tokenHash, partyKey, solution string, now time.Time) ([]Event, error) {
	req, err := c.PendingAttestation(tokenHash, now)
	if err != nil {
		return nil, err
	}
	partyKey, solution = strings.TrimSpace(partyKey), strings.TrimSpace(solution)
	var v validator
	if partyKey != "" {
		if p, ok := c.Party(partyKey); !ok || p.Kind != PartyPartner {
			v.add("party_key", FieldInvalid, "must be one of the named partners, or none")
		}
		v.requiredText("solution", solution, MaxAttestationSolutionLen, true)
	} else {
		v.text("solution", solution, MaxAttestationSolutionLen, true)
	}
	if err := v.err("the attestation is invalid"); err != nil {
		return nil, err
	}
	return []Event{ConflictAttested{
		ConflictID: c.id, AttestationID: req.AttestationID, PartyKey: partyKey, Solution: solution, At: canonicalTime(now),
	}}, nil
}

// attested returns the party the latest answer (in ledger order) names,
// if it names one.
func (c *Conflict) attested() (string, bool) {
	return c.attestedParty, c.attestedParty != ""
}
