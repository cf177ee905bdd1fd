package app

import (
	"context"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// The portal inbox's read mark: a partner user's unread notifications are
// those after the newest one the user saw (UserNotificationsRead, on the
// user's stream), counted from the inbox index (projections.Inbox).

// UnreadNotifications returns how many notifications the partner user u
// has not seen, counting no further than limit (0 for anyone else).
func (s *Service) UnreadNotifications(ctx context.Context, u projections.UserView, limit int) (int, error) {
	if u.Role != domain.RolePartner || u.PartnerID == "" {
		return 0, nil
	}
	return s.Inbox.Unread(ctx, u.PartnerID, u.ReadThrough, limit)
}

// MarkNotificationsRead records that the signed-in user saw the inbox's
// notifications through ledger position through; it records nothing
// when the user had seen them already.
func (s *Service) MarkNotificationsRead(ctx context.Context, sess Session, through uint64) error {
	id := sess.User.ID
	_, err := s.execute(ctx, Call{Caller: sess.Caller}, domain.UserStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		var read uint64
		for _, e := range stored {
			if r, ok := e.(domain.UserNotificationsRead); ok {
				read = max(read, r.Through)
			}
		}
		return domain.MarkNotificationsRead(id, len(stored) > 0, read, through, s.clock.Now())
	})
	return err
}
