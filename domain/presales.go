package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// PresalesStream is the stream of the presales desk: the named presales
// resources (people with a capacity in hours) and their assignments to
// registrations. One stream for all of it is what keeps a person's
// capacity, and a registration's pooled hours, from being given twice: every
// assignment is decided against the stream as read and appended expecting
// it unchanged. The desk is small (people, not deals), so the stream is too.
const PresalesStream = "presales"

// Limits of presales inputs.
const (
	MaxPresalesCapacity  = 2000
	MaxPresalesResources = 1000
)

// How an assignment draws on a registration's entitlement.
const (
	PresalesDedicated = "dedicated" // one of the entitlement's dedicated kinds
	PresalesPooled    = "pooled"    // hours of the entitlement's pooled support
)

// PresalesResource is a named person of the vendor's presales team.
type PresalesResource struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is PresalesEngineer, SolutionsArchitect or TechnicalSpecialist.
	Kind string `json:"kind"`
	// CapacityHours is how many hours of assignments the person carries
	// at once.
	CapacityHours int `json:"capacity_hours"`
}

// PresalesResourceAdded records a new presales resource.
type PresalesResourceAdded struct {
	Resource PresalesResource `json:"resource"`
	AddedBy  string           `json:"added_by"`
	At       time.Time        `json:"at"`
}

// PresalesAssigned records that channel operations assigned a resource to
// an entitled registration for Hours, drawing on its entitlement as Basis
// says; the entitlement is the approval's (PolicyVersion, Level).
type PresalesAssigned struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	PartnerID      string    `json:"partner_id"`
	ResourceID     string    `json:"resource_id"`
	Kind           string    `json:"kind"`
	Basis          string    `json:"basis"`
	Hours          int       `json:"hours"`
	Level          string    `json:"level"`
	PolicyVersion  int       `json:"policy_version"`
	AssignedBy     string    `json:"assigned_by"`
	At             time.Time `json:"at"`
}

// PresalesUnassigned records that an assignment ended; its hours are free
// again.
type PresalesUnassigned struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	ResourceID     string    `json:"resource_id"`
	Hours          int       `json:"hours"`
	Reason         string    `json:"reason,omitempty"`
	UnassignedBy   string    `json:"unassigned_by"`
	At             time.Time `json:"at"`
}

// EventType returns "PresalesResourceAdded".
func (PresalesResourceAdded) EventType() string { return "PresalesResourceAdded" }

// EventType returns "PresalesAssigned".
func (PresalesAssigned) EventType() string { return "PresalesAssigned" }

// EventType returns "PresalesUnassigned".
func (PresalesUnassigned) EventType() string { return "PresalesUnassigned" }

// PresalesAssignment is one current assignment.
type PresalesAssignment struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	PartnerID      string    `json:"partner_id"`
	ResourceID     string    `json:"resource_id"`
	Kind           string    `json:"kind"`
	Basis          string    `json:"basis"`
	Hours          int       `json:"hours"`
	AssignedBy     string    `json:"assigned_by"`
	AssignedAt     time.Time `json:"assigned_at"`
}

// PresalesBook is the aggregate of the presales desk, built by replaying
// the presales stream.
type PresalesBook struct {
	resources   map[string]PresalesResource
	order       []string
	assignments []PresalesAssignment // current, in the order made
	version     int
}

// RebuildPresales replays the presales stream, oldest first.
func RebuildPresales(events ...Event) (*PresalesBook, error) {
	b := &PresalesBook{resources: map[string]PresalesResource{}}
	for _, e := range events {
		if err := b.Apply(e); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Apply changes the book by one of its events.
func (b *PresalesBook) Apply(e Event) error {
	switch e := e.(type) {
	case PresalesResourceAdded:
		b.resources[e.Resource.ID] = e.Resource
		b.order = append(b.order, e.Resource.ID)
	case PresalesAssigned:
		b.assignments = append(b.assignments, PresalesAssignment{
			RegistrationID: e.RegistrationID, PartnerID: e.PartnerID, ResourceID: e.ResourceID, Kind: e.Kind,
			Basis: e.Basis, Hours: e.Hours, AssignedBy: e.AssignedBy, AssignedAt: e.At,
		})
	case PresalesUnassigned:
		i := b.find(e.RegistrationID, e.ResourceID)
		if i < 0 {
			return Errorf(EINTERNAL, "apply PresalesUnassigned: %s is not assigned to %s", e.ResourceID, e.RegistrationID)
		}
		b.assignments = slices.Delete(b.assignments, i, i+1)
	default:
		return Errorf(EINTERNAL, "apply: %T is not a presales event", e)
	}
	b.version++
	return nil
}

func (b *PresalesBook) find(reg uuid.UUID, resource string) int {
	return slices.IndexFunc(b.assignments, func(a PresalesAssignment) bool { return a.RegistrationID == reg && a.ResourceID == resource })
}

// Resources returns the resources in the order they were added.
func (b *PresalesBook) Resources() []PresalesResource {
	out := make([]PresalesResource, len(b.order))
	for i, id := range b.order {
		out[i] = b.resources[id]
	}
	return out
}

// Resource returns resource id.
func (b *PresalesBook) Resource(id string) (PresalesResource, bool) {
	r, ok := b.resources[id]
	return r, ok
}

// Load returns the hours of resource id's current assignments.
func (b *PresalesBook) Load(id string) int {
	n := 0
	for _, a := range b.assignments {
		if a.ResourceID == id {
			n += a.Hours
		}
	}
	return n
}

// Assignments returns the current assignments of resource (all when "")
// to registration (all when uuid.Nil), in the order they were made.
func (b *PresalesBook) Assignments(resource string, registration uuid.UUID) []PresalesAssignment {
	out := []PresalesAssignment{}
	for _, a := range b.assignments {
		if (resource == "" || a.ResourceID == resource) && (registration == uuid.Nil || a.RegistrationID == registration) {
			out = append(out, a)
		}
	}
	return out
}

// Version returns the number of events applied.
func (b *PresalesBook) Version() int { return b.version }

// channelOps checks that actor runs the presales desk: the reviewer roles.
func channelOps(actor Actor, action string) error {
	if err := actor.Validate(); err != nil {
		return err
	}
	if !actor.Role.Reviewer() {
		return Errorf(EFORBIDDEN, "role %q may not %s: channel operations do", actor.Role, action)
	}
	return nil
}

// AddResource adds a named presales resource.
func (b *PresalesBook) AddResource(actor Actor, r PresalesResource, now time.Time) ([]Event, error) {
	if err := channelOps(actor, "add presales resources"); err != nil {
		return nil, err
	}
	r.ID, r.Name, r.Kind = strings.TrimSpace(r.ID), strings.TrimSpace(r.Name), strings.TrimSpace(r.Kind)
	var v validator
	switch {
	case r.ID == "":
		v.add("id", FieldRequired, "is required")
	case !ValidPartnerID(r.ID):
		v.add("id", FieldInvalid, "must be 1-64 lower-case letters, digits, '.', '_' or '-'")
	}
	v.requiredText("name", r.Name, MaxPersonNameLen, false)
	if r.Kind == "" {
		v.add("kind", FieldRequired, "is required")
	} else {
		v.oneOf("kind", r.Kind, presalesKinds)
	}
	if r.CapacityHours < 1 || r.CapacityHours > MaxPresalesCapacity {
		v.add("capacity_hours", FieldOutOfRange, fmt.Sprintf("must be between 1 and %d", MaxPresalesCapacity))
	}
	if err := v.err("the presales resource is invalid"); err != nil {
		return nil, err
	}
	if _, ok := b.resources[r.ID]; ok {
		return nil, Errorf(ECONFLICT, "presales resource %s already exists", r.ID)
	}
	if len(b.order) >= MaxPresalesResources {
		return nil, Errorf(ECONFLICT, "the presales desk has %d resources, the most it takes", MaxPresalesResources)
	}
	return []Event{PresalesResourceAdded{Resource: r, AddedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// presalesRegistration checks actor against the registration (another
// partner's, or one that does not exist, is "registration not found") and
// returns its entitlement.
func presalesRegistration(actor Actor, reg *Registration, action string) (GrantedBenefits, error) {
	if err := actor.Validate(); err != nil {
		return GrantedBenefits{}, err
	}
	if reg == nil || reg.version == 0 || (actor.Role == RolePartner && actor.PartnerID != reg.partnerID) {
		return GrantedBenefits{}, Errorf(ENOTFOUND, "registration not found")
	}
	if err := channelOps(actor, action); err != nil {
		return GrantedBenefits{}, err
	}
	if reg.benefits == nil || !reg.benefits.Presales.Entitled() {
		return GrantedBenefits{}, Errorf(ECONFLICT, "registration %s has no presales entitlement", reg.id)
	}
	return *reg.benefits, nil
}

// Assign assigns resource to an entitled, protected registration for hours:
// as one of the entitlement's dedicated kinds if the resource is of a kind
// the entitlement names and no one of that kind is assigned yet, else as
// pooled support within the pooled hours left. The resource must have the
// hours free.
func (b *PresalesBook) Assign(actor Actor, reg *Registration, resource string, hours int, now time.Time) ([]Event, error) {
	g, err := presalesRegistration(actor, reg, "assign presales resources")
	if err != nil {
		return nil, err
	}
	if !reg.status.Protected() {
		return nil, Errorf(ECONFLICT, "cannot assign presales resources to registration %s: it is %s", reg.id, reg.status)
	}
	res, ok := b.resources[resource]
	var v validator
	if !ok {
		v.add("resource_id", FieldInvalid, "no such presales resource")
	}
	if hours < 1 || hours > MaxPresalesCapacity {
		v.add("hours", FieldOutOfRange, fmt.Sprintf("must be between 1 and %d", MaxPresalesCapacity))
	}
	if err := v.err("the assignment is invalid"); err != nil {
		return nil, err
	}
	if b.find(reg.id, resource) >= 0 {
		return nil, Errorf(ECONFLICT, "%s is already assigned to registration %s", resource, reg.id)
	}
	current := b.Assignments("", reg.id)
	basis := ""
	if slices.Contains(g.Presales.Dedicated, res.Kind) &&
		!slices.ContainsFunc(current, func(a PresalesAssignment) bool { return a.Basis == PresalesDedicated && a.Kind == res.Kind }) {
		basis = PresalesDedicated
	} else if g.Presales.PooledHours > 0 {
		used := 0
		for _, a := range current {
			if a.Basis == PresalesPooled {
				used += a.Hours
			}
		}
		if left := g.Presales.PooledHours - used; hours > left {
			return nil, &Error{Code: ECONFLICT, Message: fmt.Sprintf("registration %s has %d of its %d pooled presales hours left", reg.id, left, g.Presales.PooledHours),
				Fields: []FieldError{{Field: "hours", Code: FieldOutOfRange, Message: fmt.Sprintf("must be at most %d, the pooled hours left", left)}}}
		}
		basis = PresalesPooled
	} else {
		return nil, Errorf(ECONFLICT, "registration %s is entitled to %s, and already has them assigned", reg.id, strings.Join(g.Presales.Dedicated, ", "))
	}
	if free := res.CapacityHours - b.Load(resource); hours > free {
		return nil, &Error{Code: ECONFLICT, Message: fmt.Sprintf("%s has %d of %d hours free", resource, free, res.CapacityHours),
			Fields: []FieldError{{Field: "hours", Code: FieldOutOfRange, Message: fmt.Sprintf("must be at most %d, the resource's free hours", free)}}}
	}
	return []Event{PresalesAssigned{
		RegistrationID: reg.id, PartnerID: reg.partnerID, ResourceID: resource, Kind: res.Kind, Basis: basis, Hours: hours,
		Level: g.Presales.Level, PolicyVersion: g.PolicyVersion, AssignedBy: actor.ID, At: canonicalTime(now),
	}}, nil
}

// Unassign ends resource's assignment to the registration, freeing its
// hours; it works whatever the registration's status, so that a closed
// deal's people can be freed.
func (b *PresalesBook) Unassign(actor Actor, reg *Registration, resource, reason string, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	if reg == nil || reg.version == 0 || (actor.Role == RolePartner && actor.PartnerID != reg.partnerID) {
		return nil, Errorf(ENOTFOUND, "registration not found")
	}
	if err := channelOps(actor, "unassign presales resources"); err != nil {
		return nil, err
	}
	i := b.find(reg.id, resource)
	if i < 0 {
		return nil, Errorf(ENOTFOUND, "presales assignment not found")
	}
	var v validator
	v.text("reason", reason, MaxReasonLen, true)
	if err := v.err("the unassignment is invalid"); err != nil {
		return nil, err
	}
	return []Event{PresalesUnassigned{RegistrationID: reg.id, ResourceID: resource, Hours: b.assignments[i].Hours, Reason: reason, UnassignedBy: actor.ID, At: canonicalTime(now)}}, nil
}
