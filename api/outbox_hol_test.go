package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A receiver that hangs does not hold up another subscription: while the
// hanging one's first delivery waits (until the test lets it answer), the
// healthy one gets every event, including those appended after the hang
// began and sent by a later dispatcher round. The hanging one then gets
// all of its deliveries, in ledger order.
func TestOutbox_HangingReceiverDoesNotBlockOthers(t *testing.T) {
	h := newOutboxHarness(t)
	healthy := newReceiver(t)
	slow := newReceiver(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(entered) })
		<-release
		slow.srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(gate.Close)
	from := h.eventCount()
	h.subscribe(t, slow, map[string]any{"url": gate.URL + "/hooks", "event_types": []string{"*"}})
	h.subscribe(t, healthy, map[string]any{"event_types": []string{"*"}})

	h.register(t, "acme", "Hospital Central", "hospitalcentral.mx", http.StatusCreated)
	first := make(chan error, 1)
	go func() { _, err := h.app.DeliverDue(context.Background()); first <- err }()
	<-entered
	want := len(h.deliverable(t, from))
	require.Eventually(t, func() bool { return len(healthy.deliveries()) == want }, 10*time.Second, 10*time.Millisecond)

	// Events appended while the slow receiver still hangs reach the
	// healthy one through the next round.
	h.register(t, "acme", "Clínica del Norte", "clinicadelnorte.mx", http.StatusCreated)
	want = len(h.deliverable(t, from))
	second := make(chan error, 1)
	go func() { _, err := h.app.DeliverDue(context.Background()); second <- err }()
	require.Eventually(t, func() bool { return len(healthy.deliveries()) == want }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, <-second)
	require.Empty(t, slow.deliveries(), "the slow receiver is still hanging")

	close(release)
	require.NoError(t, <-first)
	h.deliver(t)
	got := slow.deliveries()
	require.Len(t, got, want)
	for i := 1; i < len(got); i++ {
		require.Less(t, got[i-1].Position, got[i].Position, "ledger order per subscription")
	}
	require.Equal(t, healthy.deliveries()[len(got)-1].Position, got[len(got)-1].Position)
}
