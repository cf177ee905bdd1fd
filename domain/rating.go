package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The bounds of a satisfaction rating.
const (
	MinRatingScore   = 1
	MaxRatingScore   = 5
	MaxRatingComment = 2000
)

// RatingStream returns the name of the stream that holds the partner's
// rating of registration id, "rating-<uuid>". The rating is kept out of the
// registration's own stream: it says how the partner felt about the
// process, it changes nothing of the registration.
func RatingStream(id uuid.UUID) string { return "rating-" + id.String() }

// RegistrationRated records that the registering partner rated how its
// registration was handled (the seed's "satisfacción del partner con el
// proceso de registro"): a score from 1 to 5 and an optional comment, given
// once the registration was decided. Outcome is the decision it rated.
type RegistrationRated struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	PartnerID      string    `json:"partner_id"`
	Score          int       `json:"score"`
	Comment        string    `json:"comment,omitempty"`
	Outcome        Status    `json:"outcome"`
	RatedBy        string    `json:"rated_by"`
	At             time.Time `json:"at"`
}

// EventType returns "RegistrationRated".
func (RegistrationRated) EventType() string { return "RegistrationRated" }

// Decided reports whether the registration has been decided, and how: it
// was approved (whatever happened since), rejected, or found a duplicate.
func (r *Registration) Decided() (Status, bool) {
	if r == nil {
		return "", false
	}
	if r.approved {
		return StatusActive, true
	}
	switch r.status {
	case StatusRejected, StatusDuplicate:
		return r.status, true
	}
	return "", false
}

// RateRegistration decides a partner's rating of reg (nil when it does not
// exist); rated says whether the partner rated it already. Only the
// registering partner may rate, once, after the decision. Another
// partner's registration is not found, as one that does not exist.
func RateRegistration(actor Actor, reg *Registration, rated bool, score int, comment string, now time.Time) ([]Event, error) {
	if err := reg.authorize(actor, byPartner, "rate the registration"); err != nil {
		return nil, err
	}
	comment = strings.TrimSpace(comment)
	var fields []FieldError
	if score < MinRatingScore || score > MaxRatingScore {
		fields = append(fields, FieldError{Field: "score", Code: FieldOutOfRange, Message: fmt.Sprintf("must be a whole number from %d to %d", MinRatingScore, MaxRatingScore)})
	}
	if !utf8.ValidString(comment) {
		fields = append(fields, FieldError{Field: "comment", Code: FieldInvalidUTF8, Message: "must be valid UTF-8"})
	} else if utf8.RuneCountInString(comment) > MaxRatingComment {
		fields = append(fields, FieldError{Field: "comment", Code: FieldTooLong, Message: fmt.Sprintf("must be at most %d characters", MaxRatingComment)})
	}
	if fields != nil {
		return nil, &Error{Code: EINVALID, Message: "invalid rating", Fields: fields}
	}
	outcome, decided := reg.Decided()
	if !decided {
		return nil, Errorf(ECONFLICT, "cannot rate registration %s: it is %s, not decided yet", reg.id, reg.status)
	}
	if rated {
		return nil, Errorf(ECONFLICT, "registration %s is rated already", reg.id)
	}
	return []Event{RegistrationRated{
		RegistrationID: reg.id, PartnerID: reg.partnerID, Score: score, Comment: comment,
		Outcome: outcome, RatedBy: actor.ID, At: canonicalTime(now),
	}}, nil
}
