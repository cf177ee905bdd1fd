package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/domain/match"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// mainEnv, when set, makes the test binary behave as the dealreg binary, so
// tests can run it as a real process and signal it.
const mainEnv = "DEALREG_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) != "" {
		main()
	}
	os.Exit(m.Run())
}

// runCLI runs the command line in-process.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// seedLedger writes n events into a new ledger in dir.
func seedLedger(t *testing.T, dir string, n int) {
	t.Helper()
	store, err := eventstore.OpenSQLite(ledgerPath(dir), eventstore.Options{})
	require.NoError(t, err)
	for i := range n {
		_, err := store.Append(context.Background(), fmt.Sprintf("seed-%d", i%4), domain.Any(), domain.EventData{
			ID: uuid.New(), Type: "RegistrationSubmitted", SchemaVersion: 1,
			Data:     json.RawMessage(fmt.Sprintf(`{"company":"Empresa %d S.A.","value":"150000.00"}`, i)),
			Metadata: json.RawMessage(`{"actor":"seed"}`),
		})
		require.NoError(t, err)
	}
	require.NoError(t, store.Close())
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	seedLedger(t, dir, 40)
	code, out, _ := runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 0, code)
	require.Regexp(t, `^ok: 40 events verified, tree root [0-9a-f]{64}\n$`, out)

	tamper := `UPDATE events SET data = replace(data, 'Empresa 17', 'Empresa 71') WHERE position = 17`
	if bin, err := exec.LookPath("sqlite3"); err == nil {
		b, err := exec.Command(bin, ledgerPath(dir), tamper).CombinedOutput()
		require.NoError(t, err, "%s", b)
	} else {
		t.Log("sqlite3 not installed; tampering through database/sql")
		db, err := sqlOpen(ledgerPath(dir))
		require.NoError(t, err)
		_, err = db.Exec(tamper)
		require.NoError(t, err)
		db.Close()
	}
	code, _, errOut := runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 1, code, "tampering makes verify exit 1")
	require.Contains(t, errOut, "position 17")
}

func TestVerify_NoLedger(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no ledger")
	_, err := os.Stat(ledgerPath(dir))
	require.ErrorIs(t, err, os.ErrNotExist, "verify does not create a ledger")
}

var rootRE = regexp.MustCompile(`(\d+) events, tree root ([0-9a-f]{64})`)

func TestExportImport(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "restored")
	seedLedger(t, src, 120)
	dump := filepath.Join(t.TempDir(), "backup.tar")

	code, _, exported := runCLI(t, "", "export", "--data", src, "--out", dump)
	require.Equal(t, 0, code, exported)
	code, _, imported := runCLI(t, "", "import", "--data", dst, "--in", dump)
	require.Equal(t, 0, code, imported)

	e, i := rootRE.FindStringSubmatch(exported), rootRE.FindStringSubmatch(imported)
	require.NotNil(t, e, exported)
	require.NotNil(t, i, imported)
	require.Equal(t, "120", e[1])
	require.Equal(t, e[1:], i[1:], "the restored ledger has the same size and tree root")

	_, verified, _ := runCLI(t, "", "verify", "--data", dst)
	require.Contains(t, verified, e[2])

	// Export to standard output gives the same bytes as to a file.
	code, stdout, _ := runCLI(t, "", "export", "--data", dst)
	require.Equal(t, 0, code)
	want, err := os.ReadFile(dump)
	require.NoError(t, err)
	require.Equal(t, string(want), stdout)

	t.Run("IntoExistingLedger", func(t *testing.T) {
		code, _, errOut := runCLI(t, "", "import", "--data", dst, "--in", dump)
		require.Equal(t, 2, code)
		require.Contains(t, errOut, "already holds a ledger")
	})
	t.Run("BrokenFileLeavesNothing", func(t *testing.T) {
		code, events, _ := runCLI(t, "", "export", "--data", dst, "--events-only")
		require.Equal(t, 0, code)
		broken := strings.Join(strings.Split(events, "\n")[:50], "\n") + "\n{\"id\": oops\n"
		dir := t.TempDir()
		code, _, errOut := runCLI(t, broken, "import", "--data", dir)
		require.Equal(t, 2, code)
		require.Contains(t, errOut, "line 51")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Empty(t, entries, "a failed import leaves no ledger behind")
	})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestServe runs the real binary, serves requests, and stops it with SIGTERM.
func TestServe(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			addr := freeAddr(t)
			cmd := exec.Command(os.Args[0], "serve", "--data", dir, "--addr", addr)
			cmd.Env = append(os.Environ(), mainEnv+"=1")
			var stderr lockedBuffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { cmd.Process.Kill() })

			var res *http.Response
			var err error
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if res, err = http.Get("http://" + addr + "/readyz"); err == nil && res.StatusCode == http.StatusOK {
					break
				}
			}
			require.NoError(t, err, "server did not come up: %s", stderr.String())
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)

			res, err = http.Get("http://" + addr + "/v1/ledger/events?from=0&limit=10")
			require.NoError(t, err)
			var page struct {
				Events []json.RawMessage `json:"events"`
				Next   uint64            `json:"next"`
			}
			require.NoError(t, json.NewDecoder(res.Body).Decode(&page))
			res.Body.Close()
			require.Empty(t, page.Events)

			require.NoError(t, cmd.Process.Signal(sig))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				require.NoError(t, err, "exit status; stderr: %s", stderr.String())
			case <-time.After(20 * time.Second):
				t.Fatal("server did not stop")
			}
			require.Contains(t, stderr.String(), "stopped")
			code, out, _ := runCLI(t, "", "verify", "--data", dir)
			require.Equal(t, 0, code)
			require.Contains(t, out, "ok: 0 events")
		})
	}
}

// TestServe_ShutdownUnderLoad stops the server with SIGTERM while clients
// are writing: every write it acknowledged is in the ledger afterwards, the
// ledger verifies, and no write appears twice.
func TestServe_ShutdownUnderLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	code, out, errOut := runCLI(t, "", "token", "create", "--data", dir, "--role", "admin", "--name", "ops")
	require.Equal(t, 0, code, errOut)
	admin := strings.TrimSpace(out)

	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve", "--data", dir, "--addr", addr)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "server did not come up: %s", stderr.String())
	}

	// Eight clients enrol partners until the server stops answering.
	client := &http.Client{Timeout: 30 * time.Second}
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("p-%d-%d", c, i)
				body := fmt.Sprintf(`{"id":%q,"name":"Partner %s","tier":"gold","regions":["EMEA"]}`, id, id)
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/partners", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+admin)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return // the server has stopped listening
				}
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					return // refused while shutting down: not acknowledged
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 50 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no writes acknowledged: %s", stderr.String())
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "exit status; stderr: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	wg.Wait()

	store, err := eventstore.OpenSQLite(ledgerPath(dir), eventstore.Options{})
	require.NoError(t, err)
	defer store.Close()
	_, err = store.Verify(context.Background())
	require.NoError(t, err)
	events, err := store.ReadAll(context.Background(), domain.ReadAllOptions{})
	require.NoError(t, err)
	added := map[string]int{}
	for _, e := range events {
		if e.Type == "PartnerAdded" {
			added[strings.TrimPrefix(e.Stream, "partner-")]++
		}
	}
	for _, id := range acked {
		require.Equal(t, 1, added[id], "acknowledged partner %s is in the ledger once", id)
	}
	t.Logf("%d writes acknowledged before and during shutdown, %d partners in the ledger", len(acked), len(added))
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "demo", "--data", dir)
	require.Equal(t, 0, code, errOut)
	for _, status := range []string{"draft", "cleared", "duplicate", "possible_duplicate", "under_review", "returned",
		"active", "extension_requested", "rejected", "expired", "closed_won", "closed_lost", "withdrawn", "revoked"} {
		require.Regexp(t, regexp.MustCompile(`(?m)^  `+status+` +\d+$`), out, "the demo has a registration %s", status)
	}
	require.Contains(t, out, "partner stark suspended until", "the demo has a suspended partner")
	for _, state := range []string{"requested", "approved", "rejected", "claimed", "reimbursed", "claim_rejected"} {
		require.Regexp(t, regexp.MustCompile(`(?m)^  mdf `+state+` +1$`), out, "the demo has an MDF request %s", state)
	}
	require.Regexp(t, regexp.MustCompile(`(?m)^  ana\.ruiz +60 of 120 hours assigned$`), out)
	// Two policy versions: version 2, published with notice, approves a
	// proven partner's clean deal at once and routes the other reviews;
	// approvals before its effective date keep version 1.
	require.Regexp(t, regexp.MustCompile(`(?m)^  policy v1 superseded +from the beginning$`), out)
	require.Regexp(t, regexp.MustCompile(`(?m)^  policy v2 in_force +from \d{4}-\d{2}-\d{2}$`), out)
	require.Regexp(t, regexp.MustCompile(`(?m)^  auto-approved 1$`), out)
	for _, group := range []string{"enterprise", "northeast"} {
		require.Regexp(t, regexp.MustCompile(`(?m)^  routed to `+group+` +\d+$`), out, "a review routed to %s", group)
	}
	for _, v := range []string{"1", "2"} {
		require.Regexp(t, regexp.MustCompile(`(?m)^  approved under policy v`+v+` +\d+$`), out, "approvals under version %s", v)
	}
	code, _, errOut = runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = runCLI(t, "", "demo", "--data", dir)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "only an empty one")
}

func TestTokenAndPartnerCommands(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "", "token", "create", "--data", dir, "--role", "partner", "--partner", "acme")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "partner_id: no such partner")

	code, out, errOut := runCLI(t, "", "partner", "add", "--data", dir, "--id", "acme", "--name", "Acme Integradores", "--tier", "gold", "--regions", "Northeast,Bajío")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"tier": "gold"`)
	code, _, errOut = runCLI(t, "", "partner", "add", "--data", dir, "--id", "acme", "--name", "Again")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "already exists")

	code, out, errOut = runCLI(t, "", "token", "create", "--data", dir, "--role", "partner", "--partner", "acme", "--name", "lucia@acme")
	require.Equal(t, 0, code, errOut)
	secret := strings.TrimSpace(out)
	require.Regexp(t, `^drt_[A-Za-z0-9_-]{43}$`, secret)
	require.Contains(t, errOut, "shown only once")

	// Only the hash is in the ledger.
	store, err := eventstore.OpenSQLite(ledgerPath(dir), eventstore.Options{})
	require.NoError(t, err)
	defer store.Close()
	events, err := store.ReadAll(context.Background(), domain.ReadAllOptions{})
	require.NoError(t, err)
	var issued int
	for _, e := range events {
		require.NotContains(t, string(e.Data), secret)
		if e.Type == "TokenIssued" {
			issued++
			require.Contains(t, string(e.Metadata), `"role":"admin"`)
		}
	}
	require.Equal(t, 1, issued)
}

func TestMatchEval(t *testing.T) {
	pairs := filepath.Join(t.TempDir(), "pairs.csv")
	require.NoError(t, os.WriteFile(pairs, []byte("name_a,name_b,same,source,kind\n"+
		"Telefónica S.A.,TELEFONICA,1,t,pos_variant\n"+
		"IBM,International Business Machines,1,t,pos_acronym\n"+
		"Acme Corp,acme.com,1,t,pos_domain\n"+
		"Acme Corp,Globex Corp,0,t,neg_shared_word\n"), 0o600))
	code, out, errOut := runCLI(t, "", "match", "eval", "--pairs", pairs, "--json")
	require.Equal(t, 0, code, errOut)
	var report struct {
		Duplicate, Possible struct {
			Precision, Recall float64
			ByKind            map[string]json.RawMessage `json:"by_kind"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	require.Equal(t, 1.0, report.Possible.Recall, out)
	require.Equal(t, 1.0, report.Possible.Precision, out)
	require.Contains(t, report.Duplicate.ByKind, "pos_acronym")

	code, out, _ = runCLI(t, "", "match", "eval", "--pairs", pairs)
	require.Equal(t, 0, code)
	require.Contains(t, out, "4 pairs")

	require.NoError(t, os.WriteFile(pairs, []byte("a,b\n"), 0o600))
	code, _, errOut = runCLI(t, "", "match", "eval", "--pairs", pairs)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "missing column")
}

// make eval and make train: several --pairs files, the cross-validated
// report, and a retrained model identical to the committed one.
func TestMatchEvalCVAndTrain(t *testing.T) {
	dev, negs := filepath.Join("..", "..", "testdata", "company-names", "dev.csv"), filepath.Join("..", "..", "testdata", "company-names", "dev-negatives.csv")
	code, out, errOut := runCLI(t, "", "match", "eval", "--pairs", dev, "--pairs", negs, "--cv", "5", "--json")
	require.Equal(t, 0, code, errOut)
	var report struct {
		Model         string  `json:"model"`
		Pairs         int     `json:"pairs"`
		NegativeShare float64 `json:"negative_share"`
		OutOfFold     *struct {
			Duplicate, Possible struct {
				Precision          float64 `json:"precision"`
				Recall             float64 `json:"recall"`
				RealWorldPrecision float64 `json:"real_world_precision"`
			}
		} `json:"out_of_fold"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	require.Equal(t, match.ModelVersion(), report.Model)
	require.Greater(t, report.Pairs, 9000)
	require.NotNil(t, report.OutOfFold, out)
	require.GreaterOrEqual(t, report.OutOfFold.Duplicate.Precision, 0.998)
	require.GreaterOrEqual(t, report.OutOfFold.Possible.Recall, 0.90)
	require.Greater(t, report.OutOfFold.Possible.RealWorldPrecision, 0.0)

	code, out, _ = runCLI(t, "", "match", "eval", "--pairs", dev+","+negs, "--cv", "5")
	require.Equal(t, 0, code)
	require.Contains(t, out, "cross-validated: 5 folds")
	require.Contains(t, out, "real-world P")

	model := filepath.Join(t.TempDir(), "model.json")
	code, out, errOut = runCLI(t, "", "match", "train", "--pairs", dev, "--pairs", negs, "--out", model)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, match.ModelVersion())
	body, err := os.ReadFile(model)
	require.NoError(t, err)
	m, err := match.ParseModel(body)
	require.NoError(t, err)
	require.Equal(t, match.ModelVersion(), m.Version())
}

// replay prints the demo's history as an auditor reads it, and its
// filters keep what they say.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "", "demo", "--data", dir)
	require.Zero(t, code, errOut)
	code, all, errOut := runCLI(t, "", "replay", "--data", dir)
	require.Zero(t, code, errOut)
	lines := strings.Split(strings.TrimSpace(all), "\n")
	require.Greater(t, len(lines), 20)
	require.Regexp(t, `^#0 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S+ \S+ by .+: .+$`, lines[0])
	require.Contains(t, all, "RegistrationSubmitted")
	require.Regexp(t, `RegistrationSubmitted by .* \[policy v\d+\]: Submitted \(attempt 1\) under policy v\d+`, all)

	// --json: one event per line, in ledger order, with its stream.
	code, js, errOut := runCLI(t, "", "replay", "--data", dir, "--json")
	require.Zero(t, code, errOut)
	var regID, partnerID string
	var last int64 = -1
	for _, l := range strings.Split(strings.TrimSpace(js), "\n") {
		var e struct {
			Position uint64          `json:"position"`
			Stream   string          `json:"stream"`
			Type     string          `json:"type"`
			Data     json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &e), l)
		require.Greater(t, int64(e.Position), last)
		last = int64(e.Position)
		if e.Type == "RegistrationDrafted" && regID == "" {
			var d struct {
				RegistrationID string `json:"registration_id"`
				PartnerID      string `json:"partner_id"`
			}
			require.NoError(t, json.Unmarshal(e.Data, &d))
			regID, partnerID = d.RegistrationID, d.PartnerID
		}
	}
	require.Len(t, strings.Split(strings.TrimSpace(js), "\n"), len(lines))
	require.NotEmpty(t, regID)

	code, one, errOut := runCLI(t, "", "replay", "--data", dir, "--registration", regID)
	require.Zero(t, code, errOut)
	for _, l := range strings.Split(strings.TrimSpace(one), "\n") {
		require.Contains(t, l, " registration-"+regID+" ")
	}
	code, mine, errOut := runCLI(t, "", "replay", "--data", dir, "--partner", partnerID)
	require.Zero(t, code, errOut)
	require.Contains(t, mine, " registration-"+regID+" ")
	require.Less(t, len(strings.Split(mine, "\n")), len(lines))

	// --as-of stops at a moment: nothing after it.
	mid, err := time.Parse(time.RFC3339, strings.Fields(lines[len(lines)/2])[1])
	require.NoError(t, err)
	code, early, errOut := runCLI(t, "", "replay", "--data", dir, "--as-of", mid.Format(time.RFC3339))
	require.Zero(t, code, errOut)
	kept := strings.Split(strings.TrimSpace(early), "\n")
	require.NotEmpty(t, kept[0])
	require.Less(t, len(kept), len(lines))
	for _, l := range kept {
		at, err := time.Parse(time.RFC3339, strings.Fields(l)[1])
		require.NoError(t, err)
		require.False(t, at.After(mid), l)
	}
	code, _, errOut = runCLI(t, "", "replay", "--data", dir, "--as-of", "yesterday")
	require.NotZero(t, code)
	require.Contains(t, errOut, "RFC 3339")
}
