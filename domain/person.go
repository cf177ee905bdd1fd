package domain

import (
	"net/mail"
	"time"
)

// PeopleStream is the stream of the people dealreg notifies by e-mail.
const PeopleStream = "people"

// Delivery preferences of one kind of notification.
const (
	NotifyImmediate = "immediate" // one message per event, as it happens (the default)
	NotifyDigest    = "digest"    // gathered into one message a day
	NotifyOff       = "off"       // never sent
)

// Person is someone who must act on or know about what dealreg records:
// a partner's user (Role partner, PartnerID set) or a vendor reviewer
// (Groups: the review groups they work in). Language is "es" or "en".
// Preferences map a notification kind to immediate, digest or off.
type Person struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Email       string            `json:"email"`
	Role        Role              `json:"role"`
	PartnerID   string            `json:"partner_id,omitempty"`
	Language    string            `json:"language"`
	Groups      []string          `json:"groups,omitempty"`
	Preferences map[string]string `json:"preferences,omitempty"`
}

// Preference returns how the person wants notifications of kind.
func (p Person) Preference(kind string) string {
	if v, ok := p.Preferences[kind]; ok {
		return v
	}
	return NotifyImmediate
}

// PersonRecorded records a person, or new details of one (the same ID
// replaces what was recorded before).
type PersonRecorded struct {
	Person Person    `json:"person"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// EventType implements Event.
func (PersonRecorded) EventType() string { return "PersonRecorded" }

// ValidatePerson checks a person's record.
func ValidatePerson(p Person) error {
	var fields []FieldError
	if p.ID == "" || len(p.ID) > 64 {
		fields = append(fields, FieldError{Field: "id", Code: FieldRequired, Message: "1 to 64 characters"})
	}
	if p.Name == "" {
		fields = append(fields, FieldError{Field: "name", Code: FieldRequired, Message: "required"})
	}
	if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email {
		fields = append(fields, FieldError{Field: "email", Code: FieldInvalid, Message: "a plain e-mail address, name@example.com"})
	}
	if !p.Role.Valid() {
		fields = append(fields, FieldError{Field: "role", Code: FieldInvalid, Message: "not a role"})
	}
	if (p.Role == RolePartner) != (p.PartnerID != "") {
		fields = append(fields, FieldError{Field: "partner_id", Code: FieldInvalid, Message: "required for role partner, and only for it"})
	}
	if p.Language != "es" && p.Language != "en" {
		fields = append(fields, FieldError{Field: "language", Code: FieldInvalid, Message: `"es" or "en"`})
	}
	for k, v := range p.Preferences {
		if v != NotifyImmediate && v != NotifyDigest && v != NotifyOff {
			fields = append(fields, FieldError{Field: "preferences." + k, Code: FieldInvalid, Message: "immediate, digest or off"})
		}
	}
	if len(fields) > 0 {
		return &Error{Code: EINVALID, Message: "the person is invalid", Fields: fields}
	}
	return nil
}
