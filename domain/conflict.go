package domain

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Conflicts.
//
// A conflict is opened when two or more claims compete for one customer
// account: two partners' registrations (partner_vs_partner) or partners'
// registrations and a direct-sales opportunity (partner_vs_direct). It is
// resolved by a person at one of three levels, each with its own SLA from
// the policy:
//
//	level 1  channel manager   initial review, by the documented policy
//	level 2  channel director  high-value deals, strategic partners, or an
//	                           unclear policy (a decision that departs from
//	                           the policy's recommendation)
//	level 3  executive         rare; significant business impact
//
// A role decides at level L when its rank (manager 1, director 2, executive
// 3) is at least L; admins, auditors, partners and direct sales never
// decide. The lifecycle is
//
//	open ──request/submit evidence, escalate──▶ open ──decide──▶ decided(end)
//
// The aggregate is pure: commands return events (or a *Error) and never
// change it; the caller appends the events to ConflictStream(id) and
// applies them.

// ConflictStream returns the stream of conflict id, "conflict-<uuid>".
func ConflictStream(id uuid.UUID) string { return "conflict-" + id.String() }

// ConflictKind says who competes in a conflict.
type ConflictKind string

// The conflict kinds.
const (
	ConflictPartnerVsPartner ConflictKind = "partner_vs_partner"
	ConflictPartnerVsDirect  ConflictKind = "partner_vs_direct"
)

// Valid reports whether k is a known conflict kind.
func (k ConflictKind) Valid() bool {
	return k == ConflictPartnerVsPartner || k == ConflictPartnerVsDirect
}

// PartyKind says whether a party of a conflict is a partner's registration
// or the vendor's direct-sales opportunity.
type PartyKind string

// The party kinds.
const (
	PartyPartner PartyKind = "partner"
	PartyDirect  PartyKind = "direct"
)

// PartyKeyRegistration returns the key of the party that claims through
// registration id, "registration:<uuid>".
func PartyKeyRegistration(id uuid.UUID) string { return "registration:" + id.String() }

// PartyKeyDirect returns the key of the direct-sales party that claims
// through direct opportunity id, "direct:<uuid>".
func PartyKeyDirect(id uuid.UUID) string { return "direct:" + id.String() }

// Party is one claimant of a conflict, as it stood when the conflict was
// opened.
type Party struct {
	// Key identifies the party within the conflict: PartyKeyRegistration
	// of its registration, or PartyKeyDirect of the direct opportunity.
	// OpenConflict fills it in when it is empty.
	Key                 string    `json:"key"`
	Kind                PartyKind `json:"kind"`
	PartnerID           string    `json:"partner_id,omitempty"`           // partner parties
	RegistrationID      uuid.UUID `json:"registration_id,omitzero"`       // partner parties
	DirectOpportunityID uuid.UUID `json:"direct_opportunity_id,omitzero"` // the direct party
	Owner               string    `json:"owner,omitempty"`                // the direct party: the sales rep
	// ClaimPosition is the global ledger position of the party's claim (a
	// registration's first submission, a direct opportunity's record). It
	// alone decides who was first (DESIGN §3).
	ClaimPosition uint64      `json:"claim_position"`
	ClaimedAt     time.Time   `json:"claimed_at"`             // recorded time of the claim
	FirstContact  time.Time   `json:"first_contact,omitzero"` // first contact with the customer, as declared
	HasProof      bool        `json:"has_proof"`              // the claim carries documented proof
	Tier          PartnerTier `json:"tier,omitempty"`         // partner parties
}

// ConflictStatus is where a conflict is.
type ConflictStatus string

// The conflict statuses.
const (
	ConflictStatusOpen    ConflictStatus = "open"
	ConflictStatusDecided ConflictStatus = "decided"
)

// The conflict levels.
const (
	ConflictLevelManager   = 1
	ConflictLevelDirector  = 2
	ConflictLevelExecutive = 3
	// ConflictLevels is the number of levels, the top one.
	ConflictLevels = 3
)

// Why a conflict starts above level 1, as listed in
// ConflictOpened.EscalationReasons.
const (
	EscalationHighValue     = "high value"
	EscalationStrategicTier = "strategic partner tier"
)

// The policy clauses Recommendation applies.
const (
	// ClausePartnerFirst: the partner registered first with documented
	// proof, and the direct relationship does not demonstrably predate it.
	ClausePartnerFirst = "partner-first"
	// ClausePriorDirectRelationship: the direct relationship's first
	// contact is strictly before the partner's.
	ClausePriorDirectRelationship = "prior-direct-relationship"
	// ClauseFirstToRegister: the earliest claim in ledger order.
	ClauseFirstToRegister = "first-to-register"
)

// Limits of conflict inputs.
const (
	MaxConflictParties      = 20
	MaxConflictReasonLen    = MaxReasonLen // opening and escalation reasons
	MaxEvidenceRequestLen   = 2000
	MaxEvidenceStatementLen = 4000
	MaxEvidenceTimeline     = MaxActivities
	MaxEvidenceDocuments    = 20
	// MaxEvidenceSubmissions is how many times one party may submit
	// evidence to one conflict.
	MaxEvidenceSubmissions = 20
	MaxRationaleLen        = 4000
	MaxPolicyClauseLen     = 200
	MaxResponsibilitiesLen = 1000
)

// ConflictRank returns the highest conflict level role r may decide and
// escalate at: 1 for a channel manager, 2 for a channel director, 3 for an
// executive, and 0 for every other role (they never decide conflicts).
func (r Role) ConflictRank() int {
	switch r {
	case RoleChannelManager:
		return ConflictLevelManager
	case RoleChannelDirector:
		return ConflictLevelDirector
	case RoleExecutive:
		return ConflictLevelExecutive
	}
	return 0
}

// DefaultConflictSLA returns the default time to resolve a conflict at each
// level: 48 hours, 5 days and 10 days.
func DefaultConflictSLA() []time.Duration {
	return []time.Duration{48 * time.Hour, 5 * Day, 10 * Day}
}

// ConflictSLAFor returns how long level (1–3, clamped) has to resolve a
// conflict under p; an empty p.ConflictSLA means DefaultConflictSLA.
func (p Policy) ConflictSLAFor(level int) time.Duration {
	sla := p.ConflictSLA
	if len(sla) != ConflictLevels {
		sla = DefaultConflictSLA()
	}
	return sla[min(max(level, 1), ConflictLevels)-1]
}

// EscalationValueFor returns the threshold that applies to a conflict
// value in currency: its own in p.EscalationValues, else p.EscalationValue.
func (p Policy) EscalationValueFor(currency string) decimal.Decimal {
	if v, ok := p.EscalationValues[currency]; ok {
		return v
	}
	return p.EscalationValue
}

// StartLevel returns the level a conflict of value, among parties, starts
// at under p and why it starts above level 1: a value amount at or above
// the threshold for its currency (EscalationValueFor; when that is
// positive), or a partner party whose tier is one of p.StrategicTiers.
func (p Policy) StartLevel(value Money, parties []Party) (int, []string) {
	var reasons []string
	if limit := p.EscalationValueFor(value.Currency); limit.IsPositive() && value.Amount.GreaterThanOrEqual(limit) {
		reasons = append(reasons, EscalationHighValue)
	}
	for _, party := range parties {
		if party.Kind == PartyPartner && party.Tier != "" && slices.Contains(p.StrategicTiers, party.Tier) {
			reasons = append(reasons, EscalationStrategicTier)
			break
		}
	}
	if len(reasons) > 0 {
		return ConflictLevelDirector, reasons
	}
	return ConflictLevelManager, nil
}

// validateConflicts checks the conflict fields of the policy.
func (p Policy) validateConflicts(v *validator) {
	if n := len(p.ConflictSLA); n != 0 && n != ConflictLevels {
		v.add("conflicts.level_sla", FieldInvalid, fmt.Sprintf("must hold %d durations, one per level (or none for the defaults)", ConflictLevels))
	} else {
		for i, d := range p.ConflictSLA {
			v.durationIn(fmt.Sprintf("conflicts.level_sla[%d]", i), d, time.Hour, 90*Day)
		}
	}
	if p.EscalationValue.IsNegative() {
		v.add("conflicts.escalation_value", FieldOutOfRange, "must be 0 or more")
	}
	for _, currency := range slices.Sorted(maps.Keys(p.EscalationValues)) {
		field := fmt.Sprintf("conflicts.escalation_values.%s", currency)
		if !ValidCurrency(currency) {
			v.add(field, FieldInvalid, "must be an ISO 4217 currency code in upper case")
		} else if p.EscalationValues[currency].IsNegative() {
			v.add(field, FieldOutOfRange, "must be 0 or more")
		}
	}
	for i, t := range p.StrategicTiers {
		field := fmt.Sprintf("conflicts.strategic_tiers[%d]", i)
		if !slices.Contains(partnerTiers, string(t)) {
			v.add(field, FieldInvalid, "must be one of: "+strings.Join(partnerTiers, ", "))
		} else if slices.Contains(p.StrategicTiers[:i], t) {
			v.add(field, FieldDuplicate, "appears more than once")
		}
	}
}

// ConflictOpening is everything OpenConflict needs.
type ConflictOpening struct {
	ID uuid.UUID
	// Kind is the conflict kind.
	Kind ConflictKind
	// Parties are at least 2 claimants with distinct keys and distinct
	// claim positions; a partner_vs_direct conflict has exactly one direct
	// party, a partner_vs_partner conflict none.
	Parties []Party
	// Account is the contested customer account.
	Account Account
	// Value is the largest estimated value among the parties, compared
	// with the policy's escalation value. It may be zero (unknown).
	Value Money
	// Reason says why the conflict was opened (e.g. the match explanation).
	Reason string
	// Automatic: opened by the duplicate checker.
	Automatic bool
}

// ConflictEvent is an event of one conflict's stream.
type ConflictEvent interface {
	Event
	// ConflictAggregateID is the conflict the event belongs to.
	ConflictAggregateID() uuid.UUID
	// OccurredAt is the command time the event was decided at.
	OccurredAt() time.Time
}

// ConflictOpened records a new conflict; it starts the conflict's stream.
type ConflictOpened struct {
	ConflictID        uuid.UUID    `json:"conflict_id"`
	Kind              ConflictKind `json:"kind"`
	Parties           []Party      `json:"parties"`
	Account           Account      `json:"account"`
	Value             Money        `json:"value,omitzero"`
	Reason            string       `json:"reason,omitempty"`
	Automatic         bool         `json:"automatic"`
	Level             int          `json:"level"`
	DueAt             time.Time    `json:"due_at"`
	PolicyVersion     int          `json:"policy_version"`
	EscalationReasons []string     `json:"escalation_reasons,omitempty"`
	OpenedBy          string       `json:"opened_by"`
	At                time.Time    `json:"at"`
}

// ConflictEvidenceRequested records that a reviewer asked a party for
// evidence.
type ConflictEvidenceRequested struct {
	ConflictID  uuid.UUID `json:"conflict_id"`
	PartyKey    string    `json:"party_key"`
	Request     string    `json:"request"`
	RequestedBy string    `json:"requested_by"`
	At          time.Time `json:"at"`
}

// Evidence is what a party submits to support its claim.
type Evidence struct {
	Statement    string       `json:"statement"`
	FirstContact time.Time    `json:"first_contact,omitzero"`
	Timeline     []Activity   `json:"timeline,omitempty"`
	Documents    []Attachment `json:"documents,omitempty"` // already stored; referenced by SHA-256
}

// Clone returns a deep copy of ev.
func (ev Evidence) Clone() Evidence {
	ev.Timeline = slices.Clone(ev.Timeline)
	ev.Documents = slices.Clone(ev.Documents)
	return ev
}

// ConflictEvidenceSubmitted records evidence a party submitted.
type ConflictEvidenceSubmitted struct {
	ConflictID  uuid.UUID `json:"conflict_id"`
	PartyKey    string    `json:"party_key"`
	Evidence    Evidence  `json:"evidence"`
	SubmittedBy string    `json:"submitted_by"`
	At          time.Time `json:"at"`
}

// ConflictEscalated records that a conflict moved up one level, with a new
// due time.
type ConflictEscalated struct {
	ConflictID  uuid.UUID `json:"conflict_id"`
	FromLevel   int       `json:"from_level"`
	ToLevel     int       `json:"to_level"`
	Reason      string    `json:"reason"`
	DueAt       time.Time `json:"due_at"`
	EscalatedBy string    `json:"escalated_by"`
	// PolicyVersion is the policy in force when it was decided (0 in
	// events recorded before decisions named it: version 1).
	PolicyVersion int       `json:"policy_version,omitempty"`
	At            time.Time `json:"at"`
}

// ConflictOutcome is how a conflict was resolved.
type ConflictOutcome string

// The outcomes.
const (
	OutcomeAward      ConflictOutcome = "award"       // one party gets full protection
	OutcomeCoRegister ConflictOutcome = "co_register" // 2+ partners share, with defined splits
	OutcomeRejectAll  ConflictOutcome = "reject_all"  // no party has adequate proof
)

// Valid reports whether o is a known outcome.
func (o ConflictOutcome) Valid() bool {
	return o == OutcomeAward || o == OutcomeCoRegister || o == OutcomeRejectAll
}

// Share is one partner's part of a co-registration.
type Share struct {
	PartyKey         string          `json:"party_key"`
	Percent          decimal.Decimal `json:"percent"`
	Responsibilities string          `json:"responsibilities"`
}

// ConflictDecision is a decider's resolution of a conflict.
type ConflictDecision struct {
	Outcome ConflictOutcome
	// Winner is the awarded party's key (award only).
	Winner string
	// Shares split a co-registration between 2+ partner parties (never a
	// direct party); percents are > 0, have at most 2 decimals and sum to
	// exactly 100.
	Shares []Share
	// Rationale explains the decision (required).
	Rationale string
	// PolicyClause names the documented clause applied (required), e.g.
	// "partner-first 4.2".
	PolicyClause string
}

// ConflictDecided records the resolution of a conflict. Recommended and
// RecommendedClause are the policy's recommendation at decision time
// (empty when there was none); Overrode says the decision departed from it.
type ConflictDecided struct {
	ConflictID        uuid.UUID       `json:"conflict_id"`
	Outcome           ConflictOutcome `json:"outcome"`
	Winner            string          `json:"winner,omitempty"`
	Shares            []Share         `json:"shares,omitempty"`
	Rationale         string          `json:"rationale"`
	PolicyClause      string          `json:"policy_clause"`
	Level             int             `json:"level"`
	DecidedBy         string          `json:"decided_by"`
	Recommended       string          `json:"recommended,omitempty"`
	RecommendedClause string          `json:"recommended_clause,omitempty"`
	Overrode          bool            `json:"overrode"`
	// PolicyVersion is the policy in force when it was decided (0 in
	// events recorded before decisions named it: version 1).
	PolicyVersion int       `json:"policy_version,omitempty"`
	At            time.Time `json:"at"`
}

// EventType returns "ConflictOpened".
func (ConflictOpened) EventType() string { return "ConflictOpened" }

// EventType returns "ConflictEvidenceRequested".
func (ConflictEvidenceRequested) EventType() string { return "ConflictEvidenceRequested" }

// EventType returns "ConflictEvidenceSubmitted".
func (ConflictEvidenceSubmitted) EventType() string { return "ConflictEvidenceSubmitted" }

// EventType returns "ConflictEscalated".
func (ConflictEscalated) EventType() string { return "ConflictEscalated" }

// EventType returns "ConflictDecided".
func (ConflictDecided) EventType() string { return "ConflictDecided" }

// ConflictAggregateID returns the conflict ID.
func (e ConflictOpened) ConflictAggregateID() uuid.UUID { return e.ConflictID }

// ConflictAggregateID returns the conflict ID.
func (e ConflictEvidenceRequested) ConflictAggregateID() uuid.UUID { return e.ConflictID }

// ConflictAggregateID returns the conflict ID.
func (e ConflictEvidenceSubmitted) ConflictAggregateID() uuid.UUID { return e.ConflictID }

// ConflictAggregateID returns the conflict ID.
func (e ConflictEscalated) ConflictAggregateID() uuid.UUID { return e.ConflictID }

// ConflictAggregateID returns the conflict ID.
func (e ConflictDecided) ConflictAggregateID() uuid.UUID { return e.ConflictID }

// OccurredAt returns the command time.
func (e ConflictOpened) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e ConflictEvidenceRequested) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e ConflictEvidenceSubmitted) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e ConflictEscalated) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e ConflictDecided) OccurredAt() time.Time { return e.At }

// OpenConflict opens conflict o under policy p. Channel managers, directors,
// executives and admins (the system actor of the duplicate checker) may open
// conflicts. The conflict starts at level 1, or at level 2 for a high value
// or a strategic partner tier (see Policy.StartLevel), and is due after the
// level's SLA.
func OpenConflict(actor Actor, o ConflictOpening, p Policy, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	if actor.Role.ConflictRank() == 0 && actor.Role != RoleAdmin {
		return nil, Errorf(EFORBIDDEN, "role %q may not open conflicts", actor.Role)
	}
	if err := p.checkUsable(now); err != nil {
		return nil, err
	}
	now = canonicalTime(now)
	o = o.normalize()
	if err := o.validate(now); err != nil {
		return nil, err
	}
	level, reasons := p.StartLevel(o.Value, o.Parties)
	return []Event{ConflictOpened{
		ConflictID:        o.ID,
		Kind:              o.Kind,
		Parties:           o.Parties,
		Account:           o.Account,
		Value:             o.Value,
		Reason:            o.Reason,
		Automatic:         o.Automatic,
		Level:             level,
		DueAt:             now.Add(p.ConflictSLAFor(level)),
		PolicyVersion:     p.Version,
		EscalationReasons: reasons,
		OpenedBy:          actor.ID,
		At:                now,
	}}, nil
}

// key returns the key a party of its kind must have, or "" for an unknown
// kind.
func (p Party) key() string {
	switch p.Kind {
	case PartyPartner:
		return PartyKeyRegistration(p.RegistrationID)
	case PartyDirect:
		return PartyKeyDirect(p.DirectOpportunityID)
	}
	return ""
}

func (o ConflictOpening) normalize() ConflictOpening {
	o.Account = Details{Account: o.Account}.Normalize().Account
	o.Value = o.Value.normalize()
	o.Reason = strings.TrimSpace(o.Reason)
	parties := make([]Party, len(o.Parties))
	for i, p := range o.Parties {
		p.Key = strings.TrimSpace(p.Key)
		p.Kind = PartyKind(strings.TrimSpace(string(p.Kind)))
		p.PartnerID = strings.TrimSpace(p.PartnerID)
		p.Owner = strings.TrimSpace(p.Owner)
		p.Tier = PartnerTier(strings.TrimSpace(string(p.Tier)))
		p.ClaimedAt = canonicalTime(p.ClaimedAt)
		p.FirstContact = canonicalTime(p.FirstContact)
		if p.Key == "" {
			p.Key = p.key()
		}
		parties[i] = p
	}
	o.Parties = parties
	return o
}

func (o ConflictOpening) validate(now time.Time) error {
	var v validator
	if o.ID == uuid.Nil {
		v.add("id", FieldRequired, "is required")
	}
	if !o.Kind.Valid() {
		v.add("kind", FieldInvalid, "must be one of: partner_vs_partner, partner_vs_direct")
	}
	switch n := len(o.Parties); {
	case n < 2:
		v.add("parties", FieldRequired, "name at least 2 parties")
	case n > MaxConflictParties:
		v.add("parties", FieldTooMany, fmt.Sprintf("must have at most %d items", MaxConflictParties))
	}
	if len(o.Parties) <= MaxConflictParties {
		directs := 0
		keys := make(map[string]bool, len(o.Parties))
		positions := make(map[uint64]bool, len(o.Parties))
		for i, p := range o.Parties {
			path := fmt.Sprintf("parties[%d]", i)
			validateParty(&v, path, p, now)
			if p.Kind == PartyDirect {
				directs++
				if o.Kind == ConflictPartnerVsPartner {
					v.add(path+".kind", FieldInvalid, "a partner_vs_partner conflict has partner parties only")
				}
			}
			if p.Key != "" && keys[p.Key] {
				v.add(path+".key", FieldDuplicate, "appears more than once")
			}
			keys[p.Key] = true
			if positions[p.ClaimPosition] {
				v.add(path+".claim_position", FieldDuplicate, "two claims cannot share a ledger position")
			}
			positions[p.ClaimPosition] = true
		}
		if o.Kind == ConflictPartnerVsDirect && directs != 1 && len(o.Parties) >= 2 {
			v.add("parties", FieldInvalid, "a partner_vs_direct conflict has exactly one direct party")
		}
	}
	if strings.TrimSpace(o.Account.CompanyName) == "" {
		v.add("account.company_name", FieldRequired, "is required")
	}
	Details{Account: o.Account}.validateShape(&v)
	if !o.Value.IsZero() {
		validateMoney(&v, "value", o.Value)
	}
	v.text("reason", o.Reason, MaxConflictReasonLen, true)
	return v.err("the conflict is invalid")
}

func validateParty(v *validator, path string, p Party, now time.Time) {
	switch p.Kind {
	case PartyPartner:
		switch {
		case p.PartnerID == "":
			v.add(path+".partner_id", FieldRequired, "is required for a partner party")
		case !ValidPartnerID(p.PartnerID):
			v.add(path+".partner_id", FieldInvalid, "must be 1-64 lower-case letters, digits, '.', '_' or '-'")
		}
		if p.RegistrationID == uuid.Nil {
			v.add(path+".registration_id", FieldRequired, "is required for a partner party")
		}
		if p.DirectOpportunityID != uuid.Nil {
			v.add(path+".direct_opportunity_id", FieldInvalid, "only the direct party has one")
		}
		if p.Owner != "" {
			v.add(path+".owner", FieldInvalid, "only the direct party has one")
		}
		if p.Tier != "" {
			v.oneOf(path+".tier", string(p.Tier), partnerTiers)
		}
	case PartyDirect:
		if p.DirectOpportunityID == uuid.Nil {
			v.add(path+".direct_opportunity_id", FieldRequired, "is required for the direct party")
		}
		v.requiredText(path+".owner", p.Owner, MaxOwnerLen, false)
		if p.PartnerID != "" {
			v.add(path+".partner_id", FieldInvalid, "only partner parties have one")
		}
		if p.RegistrationID != uuid.Nil {
			v.add(path+".registration_id", FieldInvalid, "only partner parties have one")
		}
		if p.Tier != "" {
			v.add(path+".tier", FieldInvalid, "only partner parties have one")
		}
	default:
		v.add(path+".kind", FieldInvalid, "must be one of: partner, direct")
	}
	if want := p.key(); want != "" && p.Key != want {
		v.add(path+".key", FieldInvalid, "must be "+want)
	}
	if p.ClaimedAt.IsZero() {
		v.add(path+".claimed_at", FieldRequired, "is required")
	} else {
		v.date(path+".claimed_at", p.ClaimedAt)
	}
	v.date(path+".first_contact", p.FirstContact)
	if p.FirstContact.After(now) {
		v.add(path+".first_contact", FieldOutOfRange, "must not be in the future")
	}
}

// Conflict is the aggregate of one conflict. Like Registration, it is built
// only by replaying its events through Apply.
type Conflict struct {
	id                uuid.UUID
	kind              ConflictKind
	status            ConflictStatus
	parties           []Party
	account           Account
	value             Money
	reason            string
	automatic         bool
	level             int
	dueAt             time.Time
	policyVersion     int
	escalationReasons []string
	openedBy          string
	openedAt          time.Time
	requests          []ConflictEvidenceRequested
	evidence          map[string][]ConflictEvidenceSubmitted
	escalations       []ConflictEscalated
	decision          ConflictDecided
	decided           bool
	attestations      []Attestation // conflict_attestation.go
	attestedParty     string        // the party the latest answer names
	updatedAt         time.Time
	version           int
}

// RebuildConflict replays events, oldest first, into a new Conflict.
func RebuildConflict(events ...Event) (*Conflict, error) {
	c := &Conflict{}
	for _, e := range events {
		if err := c.Apply(e); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Apply changes the conflict by one of its events. Events are facts, so
// Apply does not re-check business rules; it refuses (EINTERNAL) only
// events that cannot belong to this stream.
func (c *Conflict) Apply(e Event) error {
	ce, ok := e.(ConflictEvent)
	if !ok {
		return Errorf(EINTERNAL, "apply: %T is not a conflict event", e)
	}
	if _, first := e.(ConflictOpened); first != (c.version == 0) {
		return Errorf(EINTERNAL, "apply %s: a conflict stream starts with exactly one ConflictOpened", e.EventType())
	}
	if c.version > 0 && ce.ConflictAggregateID() != c.id {
		return Errorf(EINTERNAL, "apply %s: event of conflict %s applied to %s", e.EventType(), ce.ConflictAggregateID(), c.id)
	}
	switch e := e.(type) {
	case ConflictOpened:
		c.id, c.kind, c.status = e.ConflictID, e.Kind, ConflictStatusOpen
		c.parties = slices.Clone(e.Parties)
		c.account, c.value, c.reason, c.automatic = e.Account, e.Value, e.Reason, e.Automatic
		c.level, c.dueAt, c.policyVersion = e.Level, e.DueAt, e.PolicyVersion
		c.escalationReasons = slices.Clone(e.EscalationReasons)
		c.openedBy, c.openedAt = e.OpenedBy, e.At
		c.evidence = make(map[string][]ConflictEvidenceSubmitted)
	case ConflictEvidenceRequested:
		c.requests = append(c.requests, e)
	case ConflictEvidenceSubmitted:
		e.Evidence = e.Evidence.Clone()
		c.evidence[e.PartyKey] = append(c.evidence[e.PartyKey], e)
	case ConflictEscalated:
		c.escalations = append(c.escalations, e)
		c.level, c.dueAt = e.ToLevel, e.DueAt
	case ConflictDecided:
		e.Shares = slices.Clone(e.Shares)
		c.decision, c.decided = e, true
		c.status = ConflictStatusDecided
	case ConflictAttestationRequested:
		c.attestations = append(c.attestations, Attestation{Request: e})
	case ConflictAttested:
		for i := range c.attestations {
			if c.attestations[i].Request.AttestationID == e.AttestationID {
				c.attestations[i].Answered, c.attestations[i].Answer = true, e
			}
		}
		c.attestedParty = e.PartyKey
	default:
		return Errorf(EINTERNAL, "apply: unknown conflict event %s", e.EventType())
	}
	c.updatedAt = ce.OccurredAt()
	c.version++
	return nil
}

// Commands check, in this order: the actor (a partner not party to the
// conflict gets ENOTFOUND; a wrong role EFORBIDDEN), the status (ECONFLICT
// naming it), the level (EFORBIDDEN below the actor's rank), then the input
// (EINVALID listing every failing field).

// VisibleTo reports whether actor a may see the conflict: a partner only
// when one of its registrations is a party; every other role always.
func (c *Conflict) VisibleTo(a Actor) bool {
	if c == nil || c.version == 0 {
		return false
	}
	if a.Role != RolePartner {
		return true
	}
	return slices.ContainsFunc(c.parties, func(p Party) bool {
		return p.Kind == PartyPartner && p.PartnerID == a.PartnerID
	})
}

func (c *Conflict) authorize(a Actor) error {
	if err := a.Validate(); err != nil {
		return err
	}
	// A conflict the caller may not see is not found, in the same words as
	// one that does not exist.
	if c == nil || c.version == 0 || !c.VisibleTo(a) {
		return Errorf(ENOTFOUND, "conflict not found")
	}
	return nil
}

// authorizeDecider checks that a is a conflict decider (rank ≥ 1), that the
// conflict is open and, when atLevel, that a's rank reaches the current
// level.
func (c *Conflict) authorizeDecider(a Actor, action string, atLevel bool) error {
	if err := c.authorize(a); err != nil {
		return err
	}
	if a.Role.ConflictRank() == 0 {
		return Errorf(EFORBIDDEN, "role %q may not %s", a.Role, action)
	}
	if err := c.requireOpen(action); err != nil {
		return err
	}
	if atLevel && a.Role.ConflictRank() < c.level {
		return Errorf(EFORBIDDEN, "role %q may not %s at level %d: it needs %s", a.Role, action, c.level, levelRole(c.level))
	}
	return nil
}

func levelRole(level int) string {
	switch level {
	case ConflictLevelManager:
		return "a channel manager or above"
	case ConflictLevelDirector:
		return "a channel director or an executive"
	}
	return "an executive"
}

func (c *Conflict) requireOpen(action string) error {
	if c.status != ConflictStatusOpen {
		return Errorf(ECONFLICT, "cannot %s conflict %s: it is %s", action, c.id, c.status)
	}
	return nil
}

// RequestEvidence asks party partyKey for evidence. Any decider (channel
// manager, director, executive) may ask, at any level, while the conflict is
// open.
func (c *Conflict) RequestEvidence(actor Actor, partyKey string, request string, now time.Time) ([]Event, error) {
	if err := c.authorizeDecider(actor, "request evidence in", false); err != nil {
		return nil, err
	}
	var v validator
	partyKey, request = strings.TrimSpace(partyKey), strings.TrimSpace(request)
	if partyKey == "" {
		v.add("party_key", FieldRequired, "is required")
	} else if _, ok := c.Party(partyKey); !ok {
		v.add("party_key", FieldInvalid, "no such party in the conflict")
	}
	v.requiredText("request", request, MaxEvidenceRequestLen, true)
	if err := v.err("the evidence request is invalid"); err != nil {
		return nil, err
	}
	return []Event{ConflictEvidenceRequested{ConflictID: c.id, PartyKey: partyKey, Request: request, RequestedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// SubmitEvidence records evidence for party partyKey, submitted by the
// party itself: a partner party's evidence only by that partner (a partner
// gets ENOTFOUND for any party not its own), the direct party's only by
// direct sales. No request is needed. Each party may submit at most
// MaxEvidenceSubmissions times.
//
// The evidence may cite only documents the party uploaded: uploaded lists
// them, as the ledger records them (for a partner party, the
// RegistrationAttachmentAdded events of its registration). A cited
// document that is not among them is refused with EINVALID on its
// documents[i].sha256 field; one whose size or content type differs from
// the upload on documents[i].size or .content_type. A cited document's
// missing size, content type or file name is taken from the upload, so the
// evidence records what was stored.
func (c *Conflict) SubmitEvidence(actor Actor, partyKey string, ev Evidence, uploaded []Attachment, now time.Time) ([]Event, error) {
	if err := c.authorize(actor); err != nil {
		return nil, err
	}
	partyKey = strings.TrimSpace(partyKey)
	party, ok := c.Party(partyKey)
	switch actor.Role {
	case RolePartner:
		if !ok || party.Kind != PartyPartner || party.PartnerID != actor.PartnerID {
			return nil, Errorf(ENOTFOUND, "party %q not found in conflict %s", partyKey, c.id)
		}
	case RoleDirectSales:
		if !ok {
			return nil, Errorf(ENOTFOUND, "party %q not found in conflict %s", partyKey, c.id)
		}
		if party.Kind != PartyDirect {
			return nil, Errorf(EFORBIDDEN, "only the partner itself may submit evidence for a partner party")
		}
	default:
		return nil, Errorf(EFORBIDDEN, "role %q may not submit evidence: only the party itself may", actor.Role)
	}
	if err := c.requireOpen("submit evidence to"); err != nil {
		return nil, err
	}
	if len(c.evidence[partyKey]) >= MaxEvidenceSubmissions {
		return nil, Errorf(ECONFLICT, "party %q has already submitted evidence %d times to conflict %s", partyKey, MaxEvidenceSubmissions, c.id)
	}
	now = canonicalTime(now)
	ev = ev.normalize()
	if err := ev.validate(now); err != nil {
		return nil, err
	}
	if err := ev.citeUploaded(uploaded); err != nil {
		return nil, err
	}
	return []Event{ConflictEvidenceSubmitted{ConflictID: c.id, PartyKey: partyKey, Evidence: ev, SubmittedBy: actor.ID, At: now}}, nil
}

// citeUploaded checks that every document ev cites is one of uploaded,
// and completes the citation from the upload.
func (ev Evidence) citeUploaded(uploaded []Attachment) error {
	var v validator
	for i := range ev.Documents {
		d := &ev.Documents[i]
		path := fmt.Sprintf("documents[%d]", i)
		j := slices.IndexFunc(uploaded, func(u Attachment) bool { return u.SHA256 == d.SHA256 })
		if j < 0 {
			v.add(path+".sha256", FieldInvalid, fmt.Sprintf("document %s was not uploaded by this party, on this case or on its registration", d.SHA256))
			continue
		}
		u := uploaded[j]
		if d.Size == 0 {
			d.Size = u.Size
		} else if d.Size != u.Size {
			v.add(path+".size", FieldInvalid, fmt.Sprintf("document %s was uploaded with %d bytes", d.SHA256, u.Size))
		}
		if d.ContentType == "" {
			d.ContentType = u.ContentType
		} else if d.ContentType != u.ContentType {
			v.add(path+".content_type", FieldInvalid, fmt.Sprintf("document %s was uploaded as %s", d.SHA256, u.ContentType))
		}
		if d.Filename == "" {
			d.Filename = u.Filename
		}
	}
	return v.err("the evidence cites documents the party did not upload")
}

func (ev Evidence) normalize() Evidence {
	ev = ev.Clone()
	ev.Statement = strings.TrimSpace(ev.Statement)
	ev.FirstContact = canonicalTime(ev.FirstContact)
	for i := range ev.Timeline {
		ev.Timeline[i].Date = canonicalTime(ev.Timeline[i].Date)
	}
	for i := range ev.Documents {
		d := &ev.Documents[i]
		d.SHA256 = strings.ToLower(strings.TrimSpace(d.SHA256))
		d.ContentType = strings.TrimSpace(d.ContentType)
		d.Filename = strings.TrimSpace(d.Filename)
	}
	if len(ev.Timeline) == 0 {
		ev.Timeline = nil
	}
	if len(ev.Documents) == 0 {
		ev.Documents = nil
	}
	return ev
}

func (ev Evidence) validate(now time.Time) error {
	var v validator
	v.requiredText("statement", ev.Statement, MaxEvidenceStatementLen, true)
	v.date("first_contact", ev.FirstContact)
	if ev.FirstContact.After(now) {
		v.add("first_contact", FieldOutOfRange, "must not be in the future")
	}
	if v.listLen("timeline", len(ev.Timeline), MaxEvidenceTimeline) {
		for i, a := range ev.Timeline {
			path := fmt.Sprintf("timeline[%d]", i)
			v.oneOf(path+".kind", string(a.Kind), activityKinds)
			v.date(path+".date", a.Date)
			if a.Date.After(now) {
				v.add(path+".date", FieldOutOfRange, "must not be in the future")
			}
		}
	}
	if v.listLen("documents", len(ev.Documents), MaxEvidenceDocuments) {
		for i, d := range ev.Documents {
			path := fmt.Sprintf("documents[%d]", i)
			if !sha256Hex.MatchString(d.SHA256) {
				v.add(path+".sha256", FieldInvalid, "must be 64 lower-case hex digits")
			} else if slices.ContainsFunc(ev.Documents[:i], func(o Attachment) bool { return o.SHA256 == d.SHA256 }) {
				v.add(path+".sha256", FieldDuplicate, "appears more than once")
			}
			if d.Size < 0 {
				v.add(path+".size", FieldOutOfRange, "must not be negative")
			}
			v.text(path+".content_type", d.ContentType, MaxContentTypeLen, false)
			if v.text(path+".filename", d.Filename, MaxAttachmentFilenameLen, false) && strings.ContainsAny(d.Filename, `/\`) {
				v.add(path+".filename", FieldInvalid, "must be a file name without a path")
			}
		}
	}
	return v.err("the evidence is invalid")
}

// Escalate moves the open conflict one level up, due after the new level's
// SLA under p. A decider whose rank reaches the current level may escalate;
// level 3 is the top.
func (c *Conflict) Escalate(actor Actor, reason string, p Policy, now time.Time) ([]Event, error) {
	if err := c.authorizeDecider(actor, "escalate", true); err != nil {
		return nil, err
	}
	if c.level >= ConflictLevels {
		return nil, Errorf(ECONFLICT, "cannot escalate conflict %s: it is already at level %d, the top level", c.id, c.level)
	}
	if err := p.checkUsable(now); err != nil {
		return nil, err
	}
	var v validator
	reason = strings.TrimSpace(reason)
	v.requiredText("reason", reason, MaxConflictReasonLen, true)
	if err := v.err("the escalation is invalid"); err != nil {
		return nil, err
	}
	now = canonicalTime(now)
	to := c.level + 1
	return []Event{ConflictEscalated{
		ConflictID: c.id, FromLevel: c.level, ToLevel: to, Reason: reason,
		DueAt: now.Add(p.ConflictSLAFor(to)), EscalatedBy: actor.ID, PolicyVersion: p.Version, At: now,
	}}, nil
}

// Decide resolves the open conflict. The actor's rank must reach the current
// level. The decision is validated as a whole (see ConflictDecision). A
// decision that departs from Recommendation — an award to another party,
// or, in a partner_vs_direct conflict, a co-registration or rejecting all —
// means the policy does not clearly apply, which the program handles at
// level 2 or above: at level 1 it is ECONFLICT, and the conflict must be
// escalated first. The event records the recommendation and whether the
// decision overrode it.
func (c *Conflict) Decide(actor Actor, d ConflictDecision, p Policy, now time.Time) ([]Event, error) {
	if err := c.authorizeDecider(actor, "decide", true); err != nil {
		return nil, err
	}
	if err := p.checkUsable(now); err != nil {
		return nil, err
	}
	d = d.normalize()
	if err := c.validateDecision(d); err != nil {
		return nil, err
	}
	rec, clause, ok := c.Recommendation()
	overrode := false
	if ok {
		if d.Outcome == OutcomeAward {
			overrode = d.Winner != rec
		} else {
			overrode = c.kind == ConflictPartnerVsDirect
		}
	}
	if overrode && c.level < ConflictLevelDirector {
		return nil, Errorf(ECONFLICT, "cannot decide conflict %s at level %d against the policy recommendation (%s, %s): policy unclear → escalate to level %d",
			c.id, c.level, rec, clause, ConflictLevelDirector)
	}
	return []Event{ConflictDecided{
		ConflictID:        c.id,
		Outcome:           d.Outcome,
		Winner:            d.Winner,
		Shares:            d.Shares,
		Rationale:         d.Rationale,
		PolicyClause:      d.PolicyClause,
		Level:             c.level,
		DecidedBy:         actor.ID,
		Recommended:       rec,
		RecommendedClause: clause,
		Overrode:          overrode,
		PolicyVersion:     p.Version,
		At:                canonicalTime(now),
	}}, nil
}

func (d ConflictDecision) normalize() ConflictDecision {
	d.Outcome = ConflictOutcome(strings.TrimSpace(string(d.Outcome)))
	d.Winner = strings.TrimSpace(d.Winner)
	d.Rationale = strings.TrimSpace(d.Rationale)
	d.PolicyClause = strings.TrimSpace(d.PolicyClause)
	if len(d.Shares) == 0 {
		d.Shares = nil
	} else {
		shares := make([]Share, len(d.Shares))
		for i, s := range d.Shares {
			s.PartyKey = strings.TrimSpace(s.PartyKey)
			s.Responsibilities = strings.TrimSpace(s.Responsibilities)
			if canonical, err := decimal.NewFromString(s.Percent.String()); err == nil {
				s.Percent = canonical
			}
			shares[i] = s
		}
		d.Shares = shares
	}
	return d
}

var hundred = decimal.NewFromInt(100)

func (c *Conflict) validateDecision(d ConflictDecision) error {
	var v validator
	if !d.Outcome.Valid() {
		v.add("outcome", FieldInvalid, "must be one of: award, co_register, reject_all")
	}
	switch {
	case d.Outcome == OutcomeAward && d.Winner == "":
		v.add("winner", FieldRequired, "an award names the winning party")
	case d.Outcome == OutcomeAward:
		if _, ok := c.Party(d.Winner); !ok {
			v.add("winner", FieldInvalid, "no such party in the conflict")
		}
	case d.Winner != "":
		v.add("winner", FieldInvalid, "only an award names a winner")
	}
	switch {
	case d.Outcome == OutcomeCoRegister:
		c.validateShares(&v, d.Shares)
	case len(d.Shares) > 0:
		v.add("shares", FieldInvalid, "only a co-registration has shares")
	}
	v.requiredText("rationale", d.Rationale, MaxRationaleLen, true)
	v.requiredText("policy_clause", d.PolicyClause, MaxPolicyClauseLen, false)
	return v.err("the decision is invalid")
}

func (c *Conflict) validateShares(v *validator, shares []Share) {
	if len(shares) < 2 {
		v.add("shares", FieldRequired, "a co-registration shares the deal between at least 2 partner parties")
		return
	}
	if !v.listLen("shares", len(shares), MaxConflictParties) {
		return
	}
	sum := decimal.Zero
	for i, s := range shares {
		path := fmt.Sprintf("shares[%d]", i)
		party, ok := c.Party(s.PartyKey)
		switch {
		case s.PartyKey == "":
			v.add(path+".party_key", FieldRequired, "is required")
		case !ok:
			v.add(path+".party_key", FieldInvalid, "no such party in the conflict")
		case party.Kind != PartyPartner:
			v.add(path+".party_key", FieldInvalid, "only partner parties can be co-registered")
		case slices.ContainsFunc(shares[:i], func(o Share) bool { return o.PartyKey == s.PartyKey }):
			v.add(path+".party_key", FieldDuplicate, "appears more than once")
		}
		switch {
		case !s.Percent.IsPositive():
			v.add(path+".percent", FieldOutOfRange, "must be greater than 0")
		case s.Percent.GreaterThan(hundred):
			v.add(path+".percent", FieldOutOfRange, "must be at most 100")
		case !s.Percent.Equal(s.Percent.Truncate(2)):
			v.add(path+".percent", FieldInvalid, "must have at most 2 decimals")
		}
		v.requiredText(path+".responsibilities", s.Responsibilities, MaxResponsibilitiesLen, true)
		sum = sum.Add(s.Percent)
	}
	if !sum.Equal(hundred) {
		v.add("shares", FieldOutOfRange, "the percents must sum to exactly 100, not "+sum.String())
	}
}

// Recommendation returns the party the policy's default rules favour, the
// clause applied, and false only for an empty conflict. It is deterministic
// and takes submitted evidence into account:
//
//   - partner_vs_partner: the partner the prospect's contact named in the
//     latest answered customer attestation, "customer-attestation"
//     (conflict_attestation.go); else the party with the lowest claim
//     position, "first-to-register".
//   - partner_vs_direct, with P the partner party with the lowest claim
//     position and D the direct party:
//     1. D claimed first (lower position): D, "first-to-register".
//     2. D's first contact is known and strictly before P's (also known):
//     D, "prior-direct-relationship" — the direct relationship
//     demonstrably predates the partner's.
//     3. P has documented proof (its claim carried proof, or any of its
//     evidence submissions carries documents): P, "partner-first".
//     4. Otherwise (P first, without proof): partner-first does not apply
//     and plain ledger order decides: P, "first-to-register". Without
//     proof the partner still wins on order, but the clause says that
//     it won on order alone, not under the partner-first policy.
//
// A party's first contact is the one declared in its latest evidence
// submission that declares one, else the one at opening.
func (c *Conflict) Recommendation() (winner string, clause string, ok bool) {
	if c == nil || c.version == 0 || len(c.parties) == 0 {
		return "", "", false
	}
	var first, direct *Party
	for i := range c.parties {
		p := &c.parties[i]
		if p.Kind == PartyDirect {
			direct = p
			continue
		}
		if first == nil || p.ClaimPosition < first.ClaimPosition ||
			(p.ClaimPosition == first.ClaimPosition && p.Key < first.Key) {
			first = p
		}
	}
	if first == nil {
		return "", "", false
	}
	if c.kind != ConflictPartnerVsDirect || direct == nil {
		if key, ok := c.attested(); ok {
			return key, ClauseCustomerAttestation, true
		}
		return first.Key, ClauseFirstToRegister, true
	}
	if direct.ClaimPosition < first.ClaimPosition {
		return direct.Key, ClauseFirstToRegister, true
	}
	dfc, pfc := c.firstContactOf(*direct), c.firstContactOf(*first)
	if !dfc.IsZero() && !pfc.IsZero() && dfc.Before(pfc) {
		return direct.Key, ClausePriorDirectRelationship, true
	}
	if c.hasProof(*first) {
		return first.Key, ClausePartnerFirst, true
	}
	return first.Key, ClauseFirstToRegister, true
}

// firstContactOf returns the party's first contact: from its latest
// evidence that declares one, else from the opening.
func (c *Conflict) firstContactOf(p Party) time.Time {
	subs := c.evidence[p.Key]
	for i := len(subs) - 1; i >= 0; i-- {
		if fc := subs[i].Evidence.FirstContact; !fc.IsZero() {
			return fc
		}
	}
	return p.FirstContact
}

// hasProof reports whether the party's claim carried proof or any of its
// evidence carries documents.
func (c *Conflict) hasProof(p Party) bool {
	if p.HasProof {
		return true
	}
	return slices.ContainsFunc(c.evidence[p.Key], func(e ConflictEvidenceSubmitted) bool {
		return len(e.Evidence.Documents) > 0
	})
}

// ID returns the conflict's ID.
func (c *Conflict) ID() uuid.UUID { return c.id }

// Kind returns the conflict kind.
func (c *Conflict) Kind() ConflictKind { return c.kind }

// Status returns the current status.
func (c *Conflict) Status() ConflictStatus { return c.status }

// Level returns the current level, 1–3.
func (c *Conflict) Level() int { return c.level }

// DueAt returns when the current level must have resolved the conflict.
func (c *Conflict) DueAt() time.Time { return c.dueAt }

// Overdue reports whether the conflict is open past its due time at now.
func (c *Conflict) Overdue(now time.Time) bool {
	return c != nil && c.status == ConflictStatusOpen && !now.Before(c.dueAt)
}

// Parties returns a copy of the parties, in opening order.
func (c *Conflict) Parties() []Party { return slices.Clone(c.parties) }

// Party returns the party with key, and whether there is one.
func (c *Conflict) Party(key string) (Party, bool) {
	if c == nil {
		return Party{}, false
	}
	i := slices.IndexFunc(c.parties, func(p Party) bool { return p.Key == key })
	if i < 0 {
		return Party{}, false
	}
	return c.parties[i], true
}

// Evidence returns a copy of every evidence submission, by party key, oldest
// first.
func (c *Conflict) Evidence() map[string][]ConflictEvidenceSubmitted {
	out := make(map[string][]ConflictEvidenceSubmitted, len(c.evidence))
	for k := range maps.Keys(c.evidence) {
		out[k] = c.EvidenceOf(k)
	}
	return out
}

// EvidenceOf returns a copy of party key's evidence submissions, oldest
// first.
func (c *Conflict) EvidenceOf(key string) []ConflictEvidenceSubmitted {
	subs := c.evidence[key]
	if len(subs) == 0 {
		return nil
	}
	out := make([]ConflictEvidenceSubmitted, len(subs))
	for i, s := range subs {
		s.Evidence = s.Evidence.Clone()
		out[i] = s
	}
	return out
}

// EvidenceRequests returns the evidence requests, oldest first.
func (c *Conflict) EvidenceRequests() []ConflictEvidenceRequested { return slices.Clone(c.requests) }

// Escalations returns the escalations, oldest first.
func (c *Conflict) Escalations() []ConflictEscalated { return slices.Clone(c.escalations) }

// Decision returns the decision and whether the conflict was decided.
func (c *Conflict) Decision() (ConflictDecided, bool) {
	d := c.decision
	d.Shares = slices.Clone(d.Shares)
	return d, c.decided
}

// Account returns the contested account.
func (c *Conflict) Account() Account { return c.account }

// Value returns the conflict's value (the largest estimated value among the
// parties), possibly zero.
func (c *Conflict) Value() Money { return c.value }

// Reason returns why the conflict was opened.
func (c *Conflict) Reason() string { return c.reason }

// Automatic reports whether the duplicate checker opened the conflict.
func (c *Conflict) Automatic() bool { return c.automatic }

// EscalationReasons returns why the conflict started above level 1.
func (c *Conflict) EscalationReasons() []string { return slices.Clone(c.escalationReasons) }

// PolicyVersion returns the version of the policy the conflict was opened
// under.
func (c *Conflict) PolicyVersion() int { return c.policyVersion }

// OpenedBy returns who opened the conflict.
func (c *Conflict) OpenedBy() string { return c.openedBy }

// OpenedAt returns when the conflict was opened.
func (c *Conflict) OpenedAt() time.Time { return c.openedAt }

// UpdatedAt returns the time of the latest event.
func (c *Conflict) UpdatedAt() time.Time { return c.updatedAt }

// Version returns the number of events applied.
func (c *Conflict) Version() int { return c.version }
