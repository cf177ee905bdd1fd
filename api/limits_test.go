package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
)

// openServer serves h's ledger on a real listener with limits.
func openServer(tb testing.TB, h *harness, limits api.Limits) *api.Server {
	tb.Helper()
	srv := api.NewServer(api.Config{Addr: "127.0.0.1:0", Store: h.store, App: h.app,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: limits})
	require.NoError(tb, srv.Open())
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return srv
}

// TestServer_SlowBody trickles a request body a byte at a time, far slower
// than the body deadline allows: the server answers 408 and closes the
// connection long before the body is in, and appends nothing.
func TestServer_SlowBody(t *testing.T) {
	h := newHarness(t)
	srv := openServer(t, h, api.Limits{BodyTimeout: 300 * time.Millisecond})
	head := h.store.Head()

	body := `{"id":"slowpoke","name":"Slow Partner","tier":"gold","regions":["EMEA"]}`
	conn, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /v1/partners HTTP/1.1\r\nHost: dealreg\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", h.tokens["admin"], len(body))
	require.NoError(t, err)

	// At a byte per 100 ms the body would take seconds; the deadline is
	// 300 ms.
	var sent atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := range len(body) {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
			sent.Add(1)
		}
	}()

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	require.Less(t, sent.Load(), int64(len(body)), "answered before the body was in")
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusRequestTimeout, res.StatusCode, "%s", raw)
	require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	var p api.Problem
	require.NoError(t, json.Unmarshal(raw, &p))
	require.Equal(t, "request_timeout", p.Code)

	// The server closes the connection after the 408 (a reset, when the
	// trickle wrote into the closed socket).
	_, err = r.ReadByte()
	require.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "connection still open: %v", err)
	require.Less(t, sent.Load(), int64(len(body)), "closed before the body was in")

	require.Equal(t, head, h.store.Head(), "nothing appended")
	_, ok := h.app.Directory.Partner("slowpoke")
	require.False(t, ok)
}

// TestServer_MaxConnections holds the cap's worth of connections open: the
// next one is not served until one of them closes.
func TestServer_MaxConnections(t *testing.T) {
	h := newHarness(t)
	const maxConns = 3
	srv := openServer(t, h, api.Limits{MaxConnections: maxConns})

	healthz := func(conn net.Conn, r *bufio.Reader) (*http.Response, error) {
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: dealreg\r\n\r\n"); err != nil {
			return nil, err
		}
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res, err
	}
	var open []net.Conn
	for range maxConns {
		conn, err := net.Dial("tcp", srv.Addr())
		require.NoError(t, err)
		defer conn.Close()
		// A request answered on it proves the server accepted it; keep-alive
		// keeps it open.
		res, err := healthz(conn, bufio.NewReader(conn))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode)
		open = append(open, conn)
	}

	// The kernel completes the handshake, but the server does not take
	// the connection while maxConns are open.
	extra, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer extra.Close()
	r := bufio.NewReader(extra)
	require.NoError(t, extra.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	_, err = healthz(extra, r)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "served past the cap")

	// One closes: the waiting connection is served.
	require.NoError(t, open[0].Close())
	require.NoError(t, extra.SetReadDeadline(time.Now().Add(10*time.Second)))
	res, err := http.ReadResponse(r, nil)
	require.NoError(t, err, "served once a connection closed")
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}
