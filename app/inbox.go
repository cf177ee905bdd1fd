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

// LatestNotifications returns the ledger events behind the partner user
// u's newest notifications, newest first, at most limit (none for anyone
// else): the inbox index's positions, each event read at its position.
func (s *Service) LatestNotifications(ctx context.Context, u projections.UserView, limit int) ([]domain.RecordedEvent, error) {
	if u.Role != domain.RolePartner || u.PartnerID == "" {
		return nil, nil
	}
	positions, err := s.Inbox.Latest(ctx, u.PartnerID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]domain.RecordedEvent, 0, len(positions))
	for _, p := range positions {
		recs, err := s.store.ReadAll(ctx, domain.ReadAllOptions{From: p, Count: 1})
		if err != nil {
			return nil, err
		}
		if len(recs) == 1 && recs[0].Position == p {
			out = append(out, recs[0])
		}
	}
	return out, nil
}
