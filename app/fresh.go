package app

import (
	"context"
	"errors"
	"time"

	"github.com/dealreg/dealreg/domain"
)

// Decisions that read what the follower folded (the directory's partners
// and tokens, the policies) can be behind the ledger when another process
// wrote it: `dealreg partner add` or `token create` while serve runs is
// seen by serve's store at its next poll (about 200 ms). Before such a
// decision refuses, the service looks at the ledger's head now and lets the
// follower reach it, then decides again (see catchUpFresh).

// freshWait bounds how long a refusal waits for the follower to reach a
// freshly read head before it is given as decided.
const freshWait = 2 * time.Second

// headRefresher is a store that can look for other processes' commits now
// rather than at its next poll (eventstore.SQLite).
type headRefresher interface {
	Refresh(ctx context.Context) error
}

// catchUpFresh brings the store's head up to date with every commit made
// before the call, by any process, and waits until the follower has
// applied and committed up to it; a decision taken after it sees every
// such commit. A store that cannot refresh is taken at its head as it
// stands. A refresh shares one look with concurrent calls and costs one
// pragma when nothing was committed, and the follower is then usually at
// the head already, so a flood of refusals stays cheap.
func (s *Service) catchUpFresh(ctx context.Context) error {
	f := s.Follower()
	if f == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, freshWait)
	defer cancel()
	if r, ok := s.store.(headRefresher); ok {
		if err := r.Refresh(ctx); err != nil {
			return err
		}
	}
	head, err := s.head(ctx)
	if err != nil || head == 0 {
		return err
	}
	return f.WaitFor(ctx, head-1)
}

// refusalOnFolded reports whether err refuses a command on state the
// follower folds, which may be behind the ledger: the partner's
// eligibility or standing, or something the directory does not know yet.
func refusalOnFolded(err error) bool {
	var de *domain.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Code {
	case domain.ENOTELIGIBLE, domain.ESUSPENDED, domain.ENOTFOUND:
		return true
	}
	return false
}
