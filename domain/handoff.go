package domain

import (
	"time"

	"github.com/google/uuid"
)

// HandoffStream returns the stream of registration id's field locks: the
// handoffs its partner granted to direct sales and the takeovers refused
// while it was protected, "handoff-<uuid>". It is a stream of its own so
// that the registration's aggregate never has to know about CRM writes.
func HandoffStream(id uuid.UUID) string { return "handoff-" + id.String() }

// RegistrationHandoffGranted records that the partner allowed direct
// sales to engage on its protected deal (Scope says how, e.g. "joint
// call" or "take over"), until Until.
type RegistrationHandoffGranted struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Scope          string    `json:"scope"`
	Until          time.Time `json:"until"`
	GrantedBy      string    `json:"granted_by"`
	At             time.Time `json:"at"`
}

// RegistrationTakeoverRefused records a direct-sales or CRM write that
// would have taken over a protected deal and was refused: a competing
// direct opportunity on the same account ("record"), an owner change
// ("update") or a close ("close") of DirectID.
type RegistrationTakeoverRefused struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	DirectID       uuid.UUID `json:"direct_id"`
	Action         string    `json:"action"`
	ProtectionEnd  time.Time `json:"protection_end"`
	By             string    `json:"by"`
	At             time.Time `json:"at"`
}

// EventType implements Event.
func (RegistrationHandoffGranted) EventType() string { return "RegistrationHandoffGranted" }

// EventType implements Event.
func (RegistrationTakeoverRefused) EventType() string { return "RegistrationTakeoverRefused" }

// HandoffOpen reports whether the handoff stream's events grant direct
// sales a handoff in force at now.
func HandoffOpen(events []Event, now time.Time) bool {
	for _, e := range events {
		if g, ok := e.(RegistrationHandoffGranted); ok && now.Before(g.Until) {
			return true
		}
	}
	return false
}
