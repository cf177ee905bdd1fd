package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// deadlines gives each request Limits.BodyTimeout for its body to arrive
// and BodyTimeout + WriteTimeout for its answer to be written, both from
// the end of its headers. http.Server's own ReadTimeout and WriteTimeout
// would do the same but could not answer 408: when the body is late the
// write deadline would have passed too.
//
// A body read that hits the deadline fails inside the handler, which then
// refuses the request (nothing is appended from half a body); the error it
// returns is replaced by a 408, and the connection is closed after it
// since the rest of the body was never read.
func (s *Server) deadlines(next echo.HandlerFunc) echo.HandlerFunc {
	limits := s.cfg.Limits
	return func(c echo.Context) error {
		now := time.Now()
		rc := http.NewResponseController(c.Response())
		// Not every ResponseWriter has deadlines (a test's recorder): then
		// there is no connection to protect either.
		if err := rc.SetReadDeadline(now.Add(limits.BodyTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if err := rc.SetWriteDeadline(now.Add(limits.BodyTimeout + limits.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		req := c.Request()
		if req.Body == nil || req.Body == http.NoBody {
			return next(c)
		}
		body := &deadlineBody{ReadCloser: req.Body}
		req.Body = body
		err := next(c)
		if body.late.Load() && !c.Response().Committed {
			c.Response().Header().Set(echo.HeaderConnection, "close")
			return echo.NewHTTPError(http.StatusRequestTimeout, fmt.Sprintf("the request body did not arrive within %s", limits.BodyTimeout))
		}
		return err
	}
}

// deadlineBody notes whether a read of the body failed on the read
// deadline.
type deadlineBody struct {
	io.ReadCloser
	late atomic.Bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.late.Store(true)
	}
	return n, err
}
