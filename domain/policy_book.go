package domain

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// PolicyStream is the stream of the program's policy versions: proposals,
// publications and withdrawals, in order.
const PolicyStream = "policy"

// PolicyAckStream returns the stream of partner id's acknowledgements of
// published policies, "policy-ack-<id>": one stream per partner, so that
// partners acknowledging at once do not contend for the policy stream.
func PolicyAckStream(partnerID string) string { return "policy-ack-" + partnerID }

// RoleChannelLeader owns the program's policy: proposes, publishes and
// withdraws its versions.
const RoleChannelLeader Role = "channel_leader"

// Limits of policy commands.
const MaxPolicyRationaleLen = 2000

// The states of a policy version at an instant (PolicyBook.State).
const (
	StateDraft      = "draft"      // proposed, never published
	StateScheduled  = "scheduled"  // published, not in force yet
	StateInForce    = "in_force"   // the version decisions use now
	StateSuperseded = "superseded" // was in force; a later version is
	StateWithdrawn  = "withdrawn"  // withdrawn before it took effect
)

// AudienceAllPartners is the audience of a partner notice that every
// partner of the program must receive.
const AudienceAllPartners = "all_partners"

// PartnerNotice is who must be told of a published version and when: the
// audience from From (the publication), acknowledging by AcknowledgeBy (the
// effective date). A partner enrolled later is told from its enrolment.
type PartnerNotice struct {
	Audience      string    `json:"audience"`
	From          time.Time `json:"from"`
	AcknowledgeBy time.Time `json:"acknowledge_by"`
}

// PolicyProposed records a proposed policy version, the whole document.
// A proposal is a draft: nothing applies it until it is published.
type PolicyProposed struct {
	Version    int       `json:"version"`
	Document   Policy    `json:"document"`
	ProposedBy string    `json:"proposed_by"`
	At         time.Time `json:"at"`
}

// PolicyPublished records the publication of a proposed version, effective
// from EffectiveFrom. RequiredNotice is the notice period of the version in
// force at publication (InForceVersion); an emergency publication gave
// less, by an executive, with a rationale. Periods are written in human
// units, as in the document.
type PolicyPublished struct {
	Version        int           `json:"version"`
	EffectiveFrom  time.Time     `json:"effective_from"`
	InForceVersion int           `json:"in_force_version"`
	RequiredNotice string        `json:"required_notice"`
	NoticeGiven    string        `json:"notice_given"`
	Emergency      bool          `json:"emergency,omitempty"`
	Rationale      string        `json:"rationale,omitempty"`
	Notice         PartnerNotice `json:"partner_notice"`
	PublishedBy    string        `json:"published_by"`
	PublisherRole  Role          `json:"publisher_role"`
	At             time.Time     `json:"at"`
}

// PolicyWithdrawn records that a draft, or a published version not yet in
// force, was withdrawn: it will never apply.
type PolicyWithdrawn struct {
	Version     int       `json:"version"`
	Reason      string    `json:"reason"`
	WithdrawnBy string    `json:"withdrawn_by"`
	At          time.Time `json:"at"`
}

// PolicyAcknowledged records that a partner acknowledged a published
// version.
type PolicyAcknowledged struct {
	Version        int       `json:"version"`
	PartnerID      string    `json:"partner_id"`
	AcknowledgedBy string    `json:"acknowledged_by"`
	At             time.Time `json:"at"`
}

// EventType returns "PolicyProposed".
func (PolicyProposed) EventType() string { return "PolicyProposed" }

// EventType returns "PolicyPublished".
func (PolicyPublished) EventType() string { return "PolicyPublished" }

// EventType returns "PolicyWithdrawn".
func (PolicyWithdrawn) EventType() string { return "PolicyWithdrawn" }

// EventType returns "PolicyAcknowledged".
func (PolicyAcknowledged) EventType() string { return "PolicyAcknowledged" }

// PolicyVersion is one version in the book and what happened to it.
type PolicyVersion struct {
	// Policy is the document; its EffectiveFrom is set once published.
	Policy     Policy
	ProposedBy string
	ProposedAt time.Time
	// Published is set once published (version 1 is built in: published
	// and in force since the beginning).
	Published   bool
	Publication PolicyPublished
	Withdrawn   bool
	Withdrawal  PolicyWithdrawn
}

// BuiltIn reports whether the version is dealreg's version 1, which no
// event proposed.
func (v PolicyVersion) BuiltIn() bool { return v.Policy.Version == 1 }

// State returns the version's state at t in book b.
func (v PolicyVersion) state(inForce int, t time.Time) string {
	switch {
	case v.Withdrawn:
		return StateWithdrawn
	case !v.Published:
		return StateDraft
	case t.Before(v.Policy.EffectiveFrom):
		return StateScheduled
	case v.Policy.Version == inForce:
		return StateInForce
	}
	return StateSuperseded
}

// PolicyBook is the policy stream folded: every version, starting with the
// built-in version 1 (DefaultPolicy, in force since the beginning). Exactly
// one version is in force at any instant: the highest published, not
// withdrawn version whose effective instant has come. Publication keeps
// effective dates increasing with the version number and never in the past,
// so the version in force at an instant never changes once it has passed.
type PolicyBook struct {
	versions []*PolicyVersion // index = version - 1
	log      []Event
}

// NewPolicyBook returns the book of a ledger without policy events.
func NewPolicyBook() *PolicyBook {
	return &PolicyBook{versions: []*PolicyVersion{{Policy: DefaultPolicy(), ProposedBy: "dealreg", Published: true,
		Publication: PolicyPublished{Version: 1, PublishedBy: "dealreg", Notice: PartnerNotice{Audience: AudienceAllPartners}}}}}
}

// RebuildPolicyBook folds the events of the policy stream.
func RebuildPolicyBook(events ...Event) (*PolicyBook, error) {
	b := NewPolicyBook()
	for _, e := range events {
		if err := b.Apply(e); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Apply folds one event of the policy stream. The effective instant of a
// publication is its EffectiveFrom, or the publication's own time if that
// is later: a version never applies before it was published.
func (b *PolicyBook) Apply(e Event) error {
	switch e := e.(type) {
	case PolicyProposed:
		if e.Version != len(b.versions)+1 {
			return fmt.Errorf("policy book: proposal of version %d after version %d", e.Version, len(b.versions))
		}
		p := e.Document
		p.Version = e.Version
		b.versions = append(b.versions, &PolicyVersion{Policy: p, ProposedBy: e.ProposedBy, ProposedAt: e.At})
	case PolicyPublished:
		v, ok := b.get(e.Version)
		if !ok {
			return fmt.Errorf("policy book: publication of unknown version %d", e.Version)
		}
		v.Published, v.Publication = true, e
		v.Policy.EffectiveFrom = e.EffectiveFrom
		if e.At.After(e.EffectiveFrom) {
			v.Policy.EffectiveFrom = e.At
		}
	case PolicyWithdrawn:
		v, ok := b.get(e.Version)
		if !ok {
			return fmt.Errorf("policy book: withdrawal of unknown version %d", e.Version)
		}
		v.Withdrawn, v.Withdrawal = true, e
	default:
		return fmt.Errorf("policy book: unexpected event %s", e.EventType())
	}
	b.log = append(b.log, e)
	return nil
}

func (b *PolicyBook) get(n int) (*PolicyVersion, bool) {
	if n < 1 || n > len(b.versions) {
		return nil, false
	}
	return b.versions[n-1], true
}

// Events returns the events folded, in order: the policy stream.
func (b *PolicyBook) Events() []Event { return slices.Clone(b.log) }

// Latest returns the highest version number.
func (b *PolicyBook) Latest() int { return len(b.versions) }

// Version returns version n.
func (b *PolicyBook) Version(n int) (PolicyVersion, bool) {
	v, ok := b.get(n)
	if !ok {
		return PolicyVersion{}, false
	}
	return *v, true
}

// InForce returns the policy in force at t.
func (b *PolicyBook) InForce(t time.Time) Policy {
	for i := len(b.versions) - 1; i >= 0; i-- {
		v := b.versions[i]
		if v.Published && !v.Withdrawn && !t.Before(v.Policy.EffectiveFrom) {
			return v.Policy
		}
	}
	return b.versions[0].Policy
}

// State returns the state of version n at t ("" for an unknown version).
func (b *PolicyBook) State(n int, t time.Time) string {
	v, ok := b.get(n)
	if !ok {
		return ""
	}
	return v.state(b.InForce(t).Version, t)
}

// mayOwnPolicy reports whether role may propose, publish and withdraw.
func mayOwnPolicy(r Role) bool { return r == RoleChannelLeader || r == RoleAdmin }

// MayPublishEmergency reports whether role may publish an emergency change
// with less than the notice period: executives (and admins).
func MayPublishEmergency(r Role) bool { return r == RoleExecutive || r == RoleAdmin }

// Propose proposes p as the next version. p.Version 0 takes the next
// number; any other number must be the next one (ECONFLICT otherwise, so a
// proposal written against an old book is not filed under a surprise
// number). The document must be valid.
func (b *PolicyBook) Propose(actor Actor, p Policy, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	if !mayOwnPolicy(actor.Role) {
		return nil, Errorf(EFORBIDDEN, "role %q may not propose policies: channel leaders and admins may", actor.Role)
	}
	next := len(b.versions) + 1
	switch p.Version {
	case 0:
		p.Version = next
	case next:
	default:
		return nil, Errorf(ECONFLICT, "the next policy version is %d, not %d", next, p.Version)
	}
	p.EffectiveFrom = time.Time{}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return []Event{PolicyProposed{Version: p.Version, Document: p, ProposedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Publication is what publishing a version takes.
type Publication struct {
	Version       int
	EffectiveFrom time.Time
	// Emergency publishes with less notice than the policy in force
	// requires; it takes an executive and a Rationale.
	Emergency bool
	Rationale string
}

// Publish publishes a proposed version from pub.EffectiveFrom, which must
// lie at least the notice period of the policy in force now ahead of now,
// or, for an emergency change by an executive, anywhere from now on (and
// then less than the notice period ahead). Effective dates increase with
// the version number, so the version in force at an instant is never in
// doubt: pub.EffectiveFrom must fall after those of the lower published
// versions and before those of the higher ones. Every partner must be told
// from now until the effective date.
func (b *PolicyBook) Publish(actor Actor, pub Publication, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	now = canonicalTime(now)
	if pub.Emergency {
		if !MayPublishEmergency(actor.Role) {
			return nil, Errorf(EFORBIDDEN, "role %q may not publish an emergency policy change: executives may", actor.Role)
		}
	} else if !mayOwnPolicy(actor.Role) {
		return nil, Errorf(EFORBIDDEN, "role %q may not publish policies: channel leaders and admins may", actor.Role)
	}
	v, ok := b.get(pub.Version)
	if !ok {
		return nil, Errorf(ENOTFOUND, "policy version %d not found", pub.Version)
	}
	switch {
	case v.BuiltIn() || v.Published:
		return nil, Errorf(ECONFLICT, "policy version %d is published already; a version is never edited, propose a new one", pub.Version)
	case v.Withdrawn:
		return nil, Errorf(ECONFLICT, "policy version %d was withdrawn", pub.Version)
	}
	current := b.InForce(now)
	from := canonicalTime(pub.EffectiveFrom)
	notice := from.Sub(now)
	var val validator
	switch {
	case from.IsZero():
		val.add("effective_from", FieldRequired, "is required")
	case from.Before(now):
		val.add("effective_from", FieldOutOfRange, "must not be in the past: a policy never applies to decisions already taken")
	case !pub.Emergency && notice < current.NoticePeriod:
		val.add("effective_from", FieldOutOfRange, fmt.Sprintf("must be at least %s (the notice period of policy v%d in force) after now, from %s; an executive may publish an emergency change with less",
			FormatPeriod(current.NoticePeriod), current.Version, now.Add(current.NoticePeriod).Format(time.RFC3339)))
	case pub.Emergency && notice >= current.NoticePeriod:
		val.add("emergency", FieldInvalid, fmt.Sprintf("an emergency change gives less than the %s notice period; with that much notice publish normally", FormatPeriod(current.NoticePeriod)))
	}
	for _, o := range b.versions {
		if !o.Published || o.Withdrawn || o.Policy.Version == pub.Version || from.IsZero() {
			continue
		}
		lower := o.Policy.Version < pub.Version
		if (lower && !from.After(o.Policy.EffectiveFrom)) || (!lower && !from.Before(o.Policy.EffectiveFrom)) {
			rel := "after"
			if !lower {
				rel = "before"
			}
			val.add("effective_from", FieldInvalid, fmt.Sprintf("must fall %s the effective date of version %d (%s): effective dates follow version numbers",
				rel, o.Policy.Version, o.Policy.EffectiveFrom.UTC().Format(time.RFC3339)))
		}
	}
	if pub.Emergency {
		val.requiredText("rationale", pub.Rationale, MaxPolicyRationaleLen, true)
	} else {
		val.text("rationale", pub.Rationale, MaxPolicyRationaleLen, true)
	}
	if err := val.err("the publication is invalid"); err != nil {
		return nil, err
	}
	return []Event{PolicyPublished{
		Version: pub.Version, EffectiveFrom: from, InForceVersion: current.Version,
		RequiredNotice: FormatPeriod(current.NoticePeriod), NoticeGiven: FormatPeriod(notice),
		Emergency: pub.Emergency, Rationale: pub.Rationale,
		Notice:      PartnerNotice{Audience: AudienceAllPartners, From: now, AcknowledgeBy: from},
		PublishedBy: actor.ID, PublisherRole: actor.Role, At: now,
	}}, nil
}

// Withdraw withdraws a draft, or a published version before it takes
// effect, with a reason.
func (b *PolicyBook) Withdraw(actor Actor, version int, reason string, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	if !mayOwnPolicy(actor.Role) {
		return nil, Errorf(EFORBIDDEN, "role %q may not withdraw policies: channel leaders and admins may", actor.Role)
	}
	now = canonicalTime(now)
	v, ok := b.get(version)
	if !ok {
		return nil, Errorf(ENOTFOUND, "policy version %d not found", version)
	}
	switch v.state(b.InForce(now).Version, now) {
	case StateWithdrawn:
		return nil, Errorf(ECONFLICT, "policy version %d is withdrawn already", version)
	case StateInForce, StateSuperseded:
		return nil, Errorf(ECONFLICT, "policy version %d has taken effect; a later version supersedes it", version)
	}
	var val validator
	val.requiredText("reason", reason, MaxPolicyRationaleLen, true)
	if err := val.err("the withdrawal is invalid"); err != nil {
		return nil, err
	}
	return []Event{PolicyWithdrawn{Version: version, Reason: reason, WithdrawnBy: actor.ID, At: now}}, nil
}

// AcknowledgePolicy records that the calling partner acknowledged published
// version of book; acknowledged lists the versions it acknowledged before
// (acknowledging again appends nothing).
func AcknowledgePolicy(actor Actor, book *PolicyBook, version int, acknowledged []int, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	if actor.Role != RolePartner {
		return nil, Errorf(EFORBIDDEN, "only partners acknowledge policies")
	}
	v, ok := book.get(version)
	if !ok || !v.Published {
		return nil, Errorf(ENOTFOUND, "policy version not found")
	}
	if v.Withdrawn {
		return nil, Errorf(ECONFLICT, "policy version %d was withdrawn; there is nothing to acknowledge", version)
	}
	if slices.Contains(acknowledged, version) {
		return nil, nil
	}
	return []Event{PolicyAcknowledged{Version: version, PartnerID: actor.PartnerID, AcknowledgedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// NamePolicy names policy p in those of events that record a decision whose
// rule does not read the policy yet (a rejection, a return, a denial, a
// verdict), so that every decision names the version in force when it was
// taken. Events that name a version already keep it.
func NamePolicy(events []Event, p Policy) []Event {
	for i, e := range events {
		switch x := e.(type) {
		case RegistrationVerdictRecorded:
			x.PolicyVersion = cmp.Or(x.PolicyVersion, p.Version)
			events[i] = x
		case RegistrationRejected:
			x.PolicyVersion = cmp.Or(x.PolicyVersion, p.Version)
			events[i] = x
		case RegistrationReturned:
			x.PolicyVersion = cmp.Or(x.PolicyVersion, p.Version)
			events[i] = x
		case RegistrationExtensionDenied:
			x.PolicyVersion = cmp.Or(x.PolicyVersion, p.Version)
			events[i] = x
		}
	}
	return events
}
