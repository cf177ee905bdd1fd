package domain

import (
	"fmt"
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

// FieldQuotaExceeded is the field error code of a document that would
// take a registration's attachments over their total size quota.
const FieldQuotaExceeded = "quota_exceeded"

// CheckAttachment checks, before the document is read, what AddAttachment
// will check of it: that actor may attach documents to the registration,
// that it is not final, the file name, the number of attachments and, when
// size is known (positive), the quota (see AddAttachment). It returns the
// error AddAttachment would return, or nil.
func (r *Registration) CheckAttachment(actor Actor, filename string, size, quota int64) error {
	if err := r.authorize(actor, byPartner, "attach documents to"); err != nil {
		return err
	}
	if r.status.Final() {
		return Errorf(ECONFLICT, "cannot attach documents to registration %s: it is %s", r.id, r.status)
	}
	var v validator
	checkAttachmentName(&v, strings.TrimSpace(filename))
	r.checkAttachmentRoom(&v)
	if err := v.err("the attachment is invalid"); err != nil {
		return err
	}
	return r.checkQuota(size, quota)
}

// AddAttachment attaches a stored document to a registration that is not
// final. Only the registering partner may attach; attaching the same
// document twice is a conflict. With a positive quota, the documents of
// the registration may total at most quota bytes: one that would exceed it
// is refused with ETOOLARGE (field "file", code FieldQuotaExceeded).
func (r *Registration) AddAttachment(actor Actor, a Attachment, quota int64, now time.Time) ([]Event, error) {
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
	checkAttachmentName(&v, a.Filename)
	r.checkAttachmentRoom(&v)
	if err := v.err("the attachment is invalid"); err != nil {
		return nil, err
	}
	if r.HasAttachment(a.SHA256) {
		return nil, Errorf(ECONFLICT, "the document is already attached to registration %s", r.id)
	}
	if err := r.checkQuota(a.Size, quota); err != nil {
		return nil, err
	}
	return []Event{RegistrationAttachmentAdded{RegistrationID: r.id, Attachment: a, AddedBy: actor.ID, At: canonicalTime(now)}}, nil
}

func checkAttachmentName(v *validator, filename string) {
	if v.text("filename", filename, MaxAttachmentFilenameLen, false) && strings.ContainsAny(filename, `/\`) {
		v.add("filename", FieldInvalid, "must be a file name without a path")
	}
}

func (r *Registration) checkAttachmentRoom(v *validator) {
	if len(r.attachments) >= MaxAttachments {
		v.add("file", FieldTooMany, "a registration has at most 50 attachments")
	}
}

// checkQuota refuses a document of size bytes that would take the
// registration's attachments over quota; a size or quota of zero or less
// is not checked.
func (r *Registration) checkQuota(size, quota int64) error {
	if size <= 0 || quota <= 0 {
		return nil
	}
	used := r.AttachmentsSize()
	if used <= quota && size <= quota-used {
		return nil
	}
	msg := fmt.Sprintf("the registration's documents would total %d bytes, over its quota of %d bytes (%d bytes used)", used+size, quota, used)
	return &Error{Code: ETOOLARGE, Message: msg, Fields: []FieldError{{Field: "file", Code: FieldQuotaExceeded, Message: msg}}}
}

// AttachmentsSize returns the total size of the documents attached to the
// registration, in bytes.
func (r *Registration) AttachmentsSize() int64 {
	var n int64
	for _, a := range r.attachments {
		n += a.Size
	}
	return n
}

// Attachments returns the documents attached to the registration, oldest
// first.
func (r *Registration) Attachments() []Attachment { return slices.Clone(r.attachments) }

// HasAttachment reports whether the document with this SHA-256 is attached.
func (r *Registration) HasAttachment(sha256 string) bool {
	return slices.ContainsFunc(r.attachments, func(a Attachment) bool { return a.SHA256 == sha256 })
}
