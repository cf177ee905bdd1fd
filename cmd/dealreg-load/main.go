// Command dealreg-load drives a running `dealreg serve` over real HTTP with
// vegeta (as a library) and reports throughput and latency percentiles:
// submissions of distinct accounts by one client and by many, then list
// and detail reads by many. `make load` starts a server on a generated
// ledger and runs it; it is a measurement, never a test.
//
// It needs an admin token (-token, or DEALREG_TOKEN). It enrols its own
// partners and issues their tokens, so it can run against any ledger.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func main() {
	addr := flag.String("addr", "http://127.0.0.1:8080", "base URL of the server")
	token := flag.String("token", os.Getenv("DEALREG_TOKEN"), "admin token")
	clients := flag.Int("clients", 64, "concurrent clients for the submission phase")
	readers := flag.Int("readers", 50, "concurrent clients for the read phase")
	dur := flag.Duration("duration", 15*time.Second, "length of each phase")
	partners := flag.Int("partners", 16, "partners to submit as")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the account names")
	webhooks := flag.Bool("webhook-receiver", false, "subscribe a local webhook receiver to every event and report deliveries/s and the append-to-delivery lag (serve needs --allow-private-webhooks)")
	readRate := flag.Int("read-rate", 0, "also run the read phase at this many requests per second (open loop, same clients), to report latency below saturation")
	only := flag.String("phases", "one,many,read,rate", "the phases to run, comma-separated: one (submissions by 1 client), many (by -clients), read (list + detail by -readers), rate (the same at -read-rate), pipeline (list pages with filters and sorts and the summary over the whole pipeline, by -readers, as admin), analytics (program analytics over the whole period by -analytics-clients), asof (as of the last quarter end, by 1 client), pages (the console's and the portal's pages by -page-clients signed-in users)")
	analyticsClients := flag.Int("analytics-clients", 10, "concurrent clients for the analytics phase")
	analyticsKinds := flag.String("analytics-kinds", "", "the kinds of query the analytics phase asks, separated by ';' (all when empty): e.g. \"consistency\" alone")
	pageClients := flag.Int("page-clients", 10, "concurrent clients for the pages phase")
	consoleUser := flag.String("console-user", "", "EMAIL:PASSWORD of a console user (a channel manager) for the pages phase (dealreg user invite --password)")
	partnerUser := flag.String("partner-user", "", "EMAIL:PASSWORD of a portal user of -partner for the pages phase")
	partnerOfUser := flag.String("partner", "", "the partner of -partner-user")
	topPartner := flag.Bool("top-partner", false, "print the partner with the most registrations and exit (to make a portal user of it)")
	flag.Parse()
	run := map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		run[strings.TrimSpace(p)] = true
	}
	if *token == "" {
		fmt.Fprintln(os.Stderr, "dealreg-load: -token (an admin token) is required")
		os.Exit(2)
	}
	l := &load{base: strings.TrimRight(*addr, "/"), admin: *token, rng: rand.New(rand.NewPCG(*seed, 7)), run: fmt.Sprintf("%x", *seed),
		analyticsKinds: *analyticsKinds}
	if *topPartner {
		if err := l.printTopPartner(); err != nil {
			fmt.Fprintln(os.Stderr, "dealreg-load:", err)
			os.Exit(1)
		}
		return
	}
	if err := l.setUp(*partners); err != nil {
		fmt.Fprintln(os.Stderr, "dealreg-load:", err)
		os.Exit(1)
	}
	var recv *receiver
	if *webhooks {
		var err error
		if recv, err = startReceiver(); err == nil {
			err = l.subscribe(recv)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "dealreg-load: webhook receiver:", err)
			os.Exit(1)
		}
		l.recv = recv
	}
	fmt.Printf("%-28s %9s %9s %9s %9s %9s %8s\n", "phase", "requests", "rate/s", "p50", "p90", "p99", "success")
	if run["one"] {
		l.phase("submit, 1 client", 1, *dur, 0, l.submitTarget)
	}
	if run["many"] {
		l.phase(fmt.Sprintf("submit, %d clients", *clients), *clients, *dur, 0, l.submitTarget)
	}
	if recv != nil {
		recv.report(2*time.Second, time.Minute)
	}
	if run["read"] {
		l.phase(fmt.Sprintf("list + detail, %d clients", *readers), *readers, *dur, 0, l.readTarget)
	}
	if *readRate > 0 && run["rate"] {
		l.phase(fmt.Sprintf("  the same at %d/s", *readRate), *readers, *dur, *readRate, l.readTarget)
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "dealreg-load:", err)
		os.Exit(1)
	}
	if run["pipeline"] {
		ts, err := l.pipelineTargets()
		if err != nil {
			fail(err)
		}
		l.mixed(fmt.Sprintf("pipeline, %d clients", *readers), *readers, *dur, ts)
	}
	if run["analytics"] {
		l.mixed(fmt.Sprintf("analytics, %d clients", *analyticsClients), *analyticsClients, *dur, l.analyticsTargets())
	}
	if run["asof"] {
		ts, err := l.asOfTargets()
		if err != nil {
			fail(err)
		}
		l.mixed("as of a quarter end, 1 client", 1, *dur, ts)
	}
	if run["pages"] {
		ts, err := l.pageTargets(*consoleUser, *partnerUser, *partnerOfUser)
		if err != nil {
			fail(err)
		}
		l.mixed(fmt.Sprintf("pages, %d clients", *pageClients), *pageClients, *dur, ts)
	}
}

type load struct {
	base, admin, run string
	rng              *rand.Rand
	mu               sync.Mutex
	tokens           []string
	ids              []string // registrations created, for detail reads
	n                atomic.Uint64
	recv             *receiver // with -webhook-receiver: told when each submission is acknowledged
	analyticsKinds   string    // -analytics-kinds
}

func (l *load) do(method, path, token string, body any, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, l.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s %s", method, path, res.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// setUp enrols the partners and issues one token each.
func (l *load) setUp(n int) error {
	for i := range n {
		id := fmt.Sprintf("load-%s-%d", l.run, i)
		if err := l.do(http.MethodPost, "/v1/partners", l.admin, map[string]any{
			"id": id, "name": "Load partner " + id, "tier": "gold", "regions": []string{"Madrid"},
		}, nil); err != nil {
			return err
		}
		var t struct {
			Secret string `json:"token"`
		}
		if err := l.do(http.MethodPost, "/v1/tokens", l.admin, map[string]any{"name": id, "role": "partner", "partner_id": id}, &t); err != nil {
			return err
		}
		l.tokens = append(l.tokens, t.Secret)
	}
	return nil
}

var syllables = strings.Fields("ka lo mi ra ne tu vo si pe da zu fi go ha je xo qui bre tla nor vel mar sun dro")

// company returns a name no other request of this run shares a word with
// beyond chance: three invented words.
func (l *load) company() (string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	word := func() string {
		var b strings.Builder
		for range 3 + l.rng.IntN(2) {
			b.WriteString(syllables[l.rng.IntN(len(syllables))])
		}
		return b.String()
	}
	a, b, c := word(), word(), word()
	name := strings.ToUpper(a[:1]) + a[1:] + " " + strings.ToUpper(b[:1]) + b[1:] + " " + strings.ToUpper(c[:1]) + c[1:]
	return name, a + b + c + ".example"
}

func (l *load) submitTarget(t *vegeta.Target) error {
	name, site := l.company()
	i := l.n.Add(1)
	now := time.Now().UTC()
	body, err := json.Marshal(map[string]any{
		"type": "opportunity", "submit": true,
		"details": map[string]any{
			"account": map[string]any{"company_name": name, "domain": site, "country": "ES", "region": "Madrid", "industry": "Retail"},
			"opportunity": map[string]any{
				"product_lines": []string{"HR Management"}, "estimated_value": map[string]any{"amount": "42000.00", "currency": "EUR"},
				"expected_close_date": now.Add(60 * 24 * time.Hour).Format(time.RFC3339),
			},
			"relationship": map[string]any{"how_found": "referral", "first_contact_date": now.Add(-7 * 24 * time.Hour).Format(time.RFC3339)},
		},
	})
	if err != nil {
		return err
	}
	*t = vegeta.Target{Method: http.MethodPost, URL: l.base + "/v1/registrations", Body: body, Header: http.Header{
		"Authorization": {"Bearer " + l.tokens[int(i)%len(l.tokens)]}, "Content-Type": {"application/json"},
	}}
	return nil
}

func (l *load) readTarget(t *vegeta.Target) error {
	i := l.n.Add(1)
	tok := l.tokens[int(i)%len(l.tokens)]
	url := l.base + "/v1/registrations?limit=50"
	l.mu.Lock()
	if i%2 == 0 && len(l.ids) > 0 {
		url = l.base + "/v1/registrations/" + l.ids[l.rng.IntN(len(l.ids))]
		tok = l.admin
	}
	l.mu.Unlock()
	*t = vegeta.Target{Method: http.MethodGet, URL: url, Header: http.Header{"Authorization": {"Bearer " + tok}}}
	return nil
}

// phase runs workers clients for d: as fast as the server answers them
// (closed loop) when rate is 0, else rate requests per second in all
// (open loop: a request waits for a free client, never for the schedule).
func (l *load) phase(name string, workers int, d time.Duration, rate int, targeter vegeta.Targeter) {
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)),
		vegeta.Connections(workers), vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second))
	var m vegeta.Metrics
	for res := range atk.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, d, name) {
		m.Add(res)
		if res.Code == http.StatusCreated {
			var r struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(res.Body, &r) == nil && r.ID != "" {
				l.mu.Lock()
				l.ids = append(l.ids, r.ID)
				l.mu.Unlock()
				if l.recv != nil {
					l.recv.acknowledged(r.ID, res.Timestamp.Add(res.Latency))
				}
			}
		}
	}
	m.Close()
	fmt.Printf("%-28s %9d %9.0f %9s %9s %9s %7.2f%%\n", name, m.Requests, m.Throughput,
		m.Latencies.P50.Round(10*time.Microsecond), m.Latencies.P90.Round(10*time.Microsecond), m.Latencies.P99.Round(10*time.Microsecond), 100*m.Success)
	if len(m.Errors) > 0 {
		fmt.Printf("  errors (%d kinds), first: %s\n", len(m.Errors), m.Errors[0])
	}
}
