package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Limits of attachment metadata.
const (
	MaxAttachments           = 50
	MaxAttachmentFilenameLen = 255
	MaxContentTypeLen        = 127
)

// Attachment is a proof document stored content-addressed beside the
// ledger. The event that adds it records its SHA-256, so the ledger proves
// exactly which bytes the partner submitted.
type Attachment struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Filename    string `json:"filename,omitempty"`
}

// RegistrationAttachmentAdded records that the partner attached a proof
// document to the registration.
type RegistrationAttachmentAdded struct {
	RegistrationID uuid.UUID  `json:"registration_id"`
	Attachment     Attachment `json:"attachment"`
	AddedBy        string     `json:"added_by"`
	At             time.Time  `json:"at"`
}

// EventType returns "RegistrationAttachmentAdded".
func (RegistrationAttachmentAdded) EventType() string { return "RegistrationAttachmentAdded" }

// AggregateID returns the registration.
func (e RegistrationAttachmentAdded) AggregateID() uuid.UUID { return e.RegistrationID }

// OccurredAt returns the command time.
func (e RegistrationAttachmentAdded) OccurredAt() time.Time { return e.At }

// AddAttachment attaches a stored document to a registration that is not
// final. Only the registering partner may attach; attaching the same
// document twice is a conflict.
func (r *Registration) AddAttachment(actor Actor, a Attachment, now time.Time) ([]Event, error) {
	if err := r.authorize(actor, byPartner, "attach documents to"); err != nil {
		return nil, err
	}
	if r.status.Final() {
		return nil, Errorf(ECONFLICT, "cannot attach documents to registration %s: it is %s", r.id, r.status)
	}
	var v validator
	a.Filename = strings.TrimSpace(a.Filename)
	if !sha256Hex.MatchString(a.SHA256) {
		v.add("sha256", FieldInvalid, "must be 64 lower-case hex digits")
	}
	if a.Size <= 0 {
		v.add("size", FieldOutOfRange, "must be positive")
	}
	v.requiredText("content_type", a.ContentType, MaxContentTypeLen, false)
	if v.text("filename", a.Filename, MaxAttachmentFilenameLen, false) && strings.ContainsAny(a.Filename, `/\`) {
		v.add("filename", FieldInvalid, "must be a file name without a path")
	}
	if len(r.attachments) >= MaxAttachments {
		v.add("file", FieldTooMany, "a registration has at most 50 attachments")
	}
	if err := v.err("the attachment is invalid"); err != nil {
		return nil, err
	}
	if r.HasAttachment(a.SHA256) {
		return nil, Errorf(ECONFLICT, "the document is already attached to registration %s", r.id)
	}
	return []Event{RegistrationAttachmentAdded{RegistrationID: r.id, Attachment: a, AddedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Attachments returns the documents attached to the registration, oldest
// first.
func (r *Registration) Attachments() []Attachment { return slices.Clone(r.attachments) }

// HasAttachment reports whether the document with this SHA-256 is attached.
func (r *Registration) HasAttachment(sha256 string) bool {
	return slices.ContainsFunc(r.attachments, func(a Attachment) bool { return a.SHA256 == sha256 })
}
