package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/dealreg/dealreg/web"
	"github.com/spf13/cobra"
)

// serveProfiles serves net/http/pprof's handlers on addr, on a mux of
// their own (never the API's), until stop is called.
func serveProfiles(addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// shutdownTimeout bounds how long requests in flight may take to finish.
const shutdownTimeout = 15 * time.Second

func newServeCommand() *cobra.Command {
	var dataDir, addr, debugAddr string
	var catchUpBatch int
	var secureCookies bool
	var signing signingFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API on the embedded ledger",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), cmd, dataDir, addr, debugAddr, catchUpBatch, signing, secureCookies)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&debugAddr, "debug-addr", "", "also serve Go's profiles (net/http/pprof, under /debug/pprof/) on this address, unauthenticated: keep it on loopback (empty: off)")
	cmd.Flags().IntVar(&catchUpBatch, "catch-up-batch", 0, "events applied and committed together while the views catch up (0: the default, 131072)")
	cmd.Flags().BoolVar(&secureCookies, "secure-cookies", false, "mark the pages' cookies Secure: set it when browsers reach serve over HTTPS (a TLS-terminating proxy)")
	cmd.Flags().BoolVar(&allowPrivateWebhooks, "allow-private-webhooks", false, "let webhook subscriptions call loopback and private-range addresses (refused by default: SSRF)")
	cmd.Flags().StringVar(&smtpAddr, "smtp", "", "host:port of the mail server for e-mail notifications (empty: none sent); password in DEALREG_SMTP_PASSWORD")
	cmd.Flags().StringVar(&smtpFrom, "smtp-from", "dealreg@localhost", "sender address of e-mail notifications")
	cmd.Flags().StringVar(&smtpUser, "smtp-user", "", "SMTP user name (PLAIN authentication)")
	cmd.Flags().BoolVar(&smtpTLS, "smtp-tls", false, "require STARTTLS (otherwise used when offered)")
	cmd.Flags().StringVar(&publicURL, "public-url", "", "the portal's address as people reach it, for e-mailed sign-in links, invitations and customer attestation links (empty: http://ADDR)")
	cmd.Long = "Serve the HTTP API on the embedded ledger.\n\nThe inbound CRM endpoint (POST /v1/crm/events) is on when DEALREG_CRM_INBOUND_SECRET holds its shared secret (whsec_…); see docs/crm.md."
	signing.register(cmd)
	return cmd
}

func serve(ctx context.Context, cmd *cobra.Command, dataDir, addr, debugAddr string, catchUpBatch int, signing signingFlags, secureCookies bool) error {
	logger := newLogger(cmd.ErrOrStderr())
	if debugAddr != "" {
		stop, err := serveProfiles(debugAddr)
		if err != nil {
			return fmt.Errorf("debug address: %w", err)
		}
		defer stop()
		logger.Info("profiles served", "addr", debugAddr)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	unlock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	metrics := api.NewMetrics()
	key, err := signing.load(cmd, dataDir)
	if err != nil {
		return err
	}
	store, err := eventstore.OpenSQLite(ledgerPath(dataDir), eventstore.Options{Logger: logger, OnCommit: metrics.ObserveCommit, Signer: key.signer})
	if err != nil {
		return err
	}
	if err := store.Damaged(); err != nil {
		store.Close()
		return err
	}
	if err := signing.checkContradiction(store, logger); err != nil {
		store.Close()
		return err
	}
	docs, err := attachments.Open(filepath.Join(dataDir, attachmentsDir), attachments.Options{})
	if err != nil {
		store.Close()
		return err
	}
	outbox, err := outboxConfig(dataDir)
	if err != nil {
		store.Close()
		return err
	}
	if publicURL == "" {
		publicURL = "http://" + addr
	}
	svc := app.New(app.Config{Store: store, Logger: logger, StatePath: statePath(dataDir), CatchUpBatch: catchUpBatch, Outbox: outbox,
		CRM: app.CRMConfig{InboundSecret: os.Getenv("DEALREG_CRM_INBOUND_SECRET")}, PublicURL: publicURL})
	// Listen at once: /healthz answers, /readyz and the API answer 503
	// with Retry-After until the views have caught up with the ledger.
	pagesCfg := web.Config{App: svc, Attachments: docs, Logger: logger, Secure: secureCookies, Store: store, PublicURL: publicURL}
	if key.verifier != "" {
		// The portal offers the receipts the API answers.
		pagesCfg.Proofs, pagesCfg.VerifierKey = store, key.verifier
	}
	pages := web.New(pagesCfg)
	srv := api.NewServer(api.Config{Addr: addr, Store: store, App: svc, Attachments: docs, Logger: logger, Metrics: metrics, VerifierKey: key.verifier,
		Pages: pages, PagePaths: web.Prefixes})
	if err := srv.Open(); err != nil {
		store.Close()
		return fmt.Errorf("listen: %w", err)
	}
	if err := svc.Begin(true); err != nil {
		_ = srv.Close(context.Background())
		store.Close()
		return err
	}
	applied, _ := svc.CaughtUp(ctx)
	logger.Info("dealreg serving", "addr", srv.Addr(), "ledger", store.Path(), "events", store.Head(), "state_checkpoint", applied, "version", version)
	go func() {
		if svc.WaitReady(ctx) == nil {
			logger.Info("ready: views caught up with the ledger", "events", store.Head())
		}
	}()

	<-ctx.Done()
	logger.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	httpErr := srv.Close(shutdownCtx)
	svc.Stop()
	// Closing the store commits every append already queued before it
	// returns, so nothing acknowledged or in flight is lost.
	storeErr := store.Close()
	if httpErr != nil {
		return fmt.Errorf("http shutdown: %w", httpErr)
	}
	if storeErr != nil {
		return fmt.Errorf("close ledger: %w", storeErr)
	}
	logger.Info("stopped")
	return nil
}
