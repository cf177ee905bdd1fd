package domain

import (
	"time"

	"github.com/google/uuid"
)

// UserNotificationsRead records that a user saw the notifications of the
// portal's inbox up to the ledger position Through (the newest one shown):
// later ones are unread. It is the user's, on the user's stream, and tells
// when a partner's person saw a decision, a reminder or a policy change.
type UserNotificationsRead struct {
	UserID  uuid.UUID `json:"user_id"`
	Through uint64    `json:"through"`
	At      time.Time `json:"at"`
}

// EventType returns "UserNotificationsRead".
func (UserNotificationsRead) EventType() string { return "UserNotificationsRead" }

// MarkNotificationsRead records that user id (invited says whether it
// exists) saw the notifications through position through, having seen
// those through read before; nothing is recorded when that is no news.
func MarkNotificationsRead(id uuid.UUID, invited bool, read, through uint64, now time.Time) ([]Event, error) {
	if !invited {
		return nil, Errorf(ENOTFOUND, "user not found")
	}
	if through <= read {
		return nil, nil
	}
	return []Event{UserNotificationsRead{UserID: id, Through: through, At: canonicalTime(now)}}, nil
}
