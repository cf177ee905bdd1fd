package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/net/netutil"
)

// Config is what a Server needs.
type Config struct {
	// Addr is the host:port to listen on; ":0" picks a free port.
	Addr  string
	Store domain.EventStore
	// App runs commands and holds the views the API reads; routes answer
	// 503 until it is ready (app.Service.Begin).
	App *app.Service
	// Attachments stores proof documents; nil disables uploads.
	Attachments *attachments.Store
	Logger      *slog.Logger
	// Limits bound what one client may hold: zero fields take the
	// defaults of DefaultLimits.
	Limits Limits
	// Metrics are served at /metrics; nil: the server makes its own (the
	// ledger's commits are observed only when the store was opened with
	// Metrics.ObserveCommit).
	Metrics *Metrics
	// Proofs serves receipts and checkpoints (proofs.go); nil: the Store's,
	// if it has them. VerifierKey is the ledger's public key; empty: the
	// server signs nothing and the proof routes answer 503.
	Proofs      Proofs
	VerifierKey string
	// Pages serves the web pages (package web) at PagePaths, echo route
	// patterns outside /v1 ("/", "/portal/*"); nil serves none.
	Pages     http.Handler
	PagePaths []string
}

// Limits protect the server from slow and greedy clients: a client that
// sends or reads too slowly is cut off, and past MaxConnections new
// connections wait in the kernel's accept queue until one closes.
type Limits struct {
	// HeaderTimeout is how long the request line and headers may take to
	// arrive.
	HeaderTimeout time.Duration
	// BodyTimeout is how long the body may take to arrive, counted from
	// the end of the headers. A late body is answered 408 and the
	// connection closed; nothing of it is kept.
	BodyTimeout time.Duration
	// WriteTimeout is how long the answer may take once the body's time
	// is up: the whole response must be written within BodyTimeout +
	// WriteTimeout of the headers, or the connection is closed.
	WriteTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its
	// next request.
	IdleTimeout time.Duration
	// MaxConnections caps the connections served at once.
	MaxConnections int
}

// DefaultLimits are the limits a zero Limits field takes. BodyTimeout
// lets a proof document of the default maximum size (20 MiB) arrive at
// about 1.4 Mbit/s.
var DefaultLimits = Limits{
	HeaderTimeout:  10 * time.Second,
	BodyTimeout:    2 * time.Minute,
	WriteTimeout:   time.Minute,
	IdleTimeout:    2 * time.Minute,
	MaxConnections: 1024,
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.HeaderTimeout <= 0 {
		l.HeaderTimeout = d.HeaderTimeout
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = d.BodyTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxConnections <= 0 {
		l.MaxConnections = d.MaxConnections
	}
	return l
}

// Server serves the HTTP API. Open starts it; Close shuts it down
// gracefully, letting requests in flight finish.
type Server struct {
	cfg         Config
	logger      *slog.Logger
	store       domain.EventStore
	app         *app.Service
	attachments *attachments.Store
	echo        *echo.Echo
	ln          net.Listener
	done        chan error

	metricsOf      *Metrics
	metricsHandler http.Handler
}

// NewServer builds the server and its routes; it does not listen yet.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Limits = cfg.Limits.withDefaults()
	s := &Server{cfg: cfg, logger: cfg.Logger, store: cfg.Store, app: cfg.App, attachments: cfg.Attachments}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.JSONSerializer = jsonSerializer{}
	e.Server.ReadHeaderTimeout = cfg.Limits.HeaderTimeout
	e.Server.IdleTimeout = cfg.Limits.IdleTimeout
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.logger.Error("panic in handler", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.RequestID())
	// Request bodies are bounded where they are read: JSON bodies by
	// readBody (MaxJSONBody), documents by the attachment store.
	e.Use(s.logRequests)
	// The body and write deadlines are set per request, inside
	// logRequests, so that a late body is answered (and logged) as 408.
	e.Use(s.deadlines)
	s.echo = e

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/v1/openapi.json", s.openAPI)
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	s.metricsOf, s.metricsHandler = cfg.Metrics, s.newMetricsHandler(cfg.Metrics)
	// Metrics answer while the views catch up (the lag is one of them).
	e.GET("/metrics", s.metrics, s.authenticate)
	// Everything else under /v1 is the versioned API; every request
	// carries a bearer token.
	//
	// The middleware is attached per route, not with Group.Use, which would
	// turn a wrong method on a known path into 404 instead of 405.
	v1 := router{g: e.Group("/v1"), mw: []echo.MiddlewareFunc{s.requireReady, s.authenticate}}
	v1.GET("/ledger/events", s.ledgerEvents)
	s.registrationRoutes(v1)
	s.directoryRoutes(v1)
	s.pipelineRoutes(v1)
	s.conflictRoutes(v1)
	s.policyRoutes(v1)
	s.partnerProgramRoutes(v1)
	s.reviewGroupRoutes(v1)
	s.mdfRoutes(v1)
	s.presalesRoutes(v1)
	s.webhookRoutes(v1)
	s.peopleRoutes(v1)
	s.handoffRoutes(v1)
	s.proofRoutes(v1)
	s.analyticsRoutes(v1)
	s.simulateRoutes(v1)
	s.crmRoutes(e)
	if cfg.Pages != nil {
		// The pages authenticate with their own session cookie and check
		// CSRF on every POST; they act through the same app.Caller rules.
		pages := echo.WrapHandler(cfg.Pages)
		for _, p := range cfg.PagePaths {
			e.GET(p, pages)
			e.POST(p, pages)
		}
	}
	return s
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		took := time.Since(start)
		s.metricsOf.observe(c.Path(), req.Method, res.Status, took)
		s.logger.Info("request", "method", req.Method, "path", req.URL.Path, "status", res.Status,
			"bytes", res.Size, "duration", took, "request_id", res.Header().Get(echo.HeaderXRequestID))
		return nil
	}
}

// Handler returns the server's HTTP handler, for tests with httptest.
func (s *Server) Handler() http.Handler { return s.echo }

// Open listens on the configured address and serves in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	// Past the cap, Accept waits for a connection to close: the kernel
	// queues newcomers (or refuses them once its backlog is full).
	ln = netutil.LimitListener(ln, s.cfg.Limits.MaxConnections)
	s.ln = ln
	s.done = make(chan error, 1)
	s.echo.Listener = ln
	go func() {
		err := s.echo.Server.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Addr returns the address the server listens on, once open.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting connections and waits for requests in flight, up
// to ctx's deadline.
func (s *Server) Close(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	err := s.echo.Shutdown(ctx)
	if serveErr := <-s.done; err == nil {
		err = serveErr
	}
	return err
}

// router registers routes on a group with the same middleware each.
type router struct {
	g  *echo.Group
	mw []echo.MiddlewareFunc
}

func (r router) GET(path string, h echo.HandlerFunc)    { r.g.GET(path, h, r.mw...) }
func (r router) POST(path string, h echo.HandlerFunc)   { r.g.POST(path, h, r.mw...) }
func (r router) PATCH(path string, h echo.HandlerFunc)  { r.g.PATCH(path, h, r.mw...) }
func (r router) PUT(path string, h echo.HandlerFunc)    { r.g.PUT(path, h, r.mw...) }
func (r router) DELETE(path string, h echo.HandlerFunc) { r.g.DELETE(path, h, r.mw...) }
