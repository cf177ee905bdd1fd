package main

// The read side as channel ops, auditors and people in the pages use it,
// on whatever ledger the server holds (a generated one: `dealreg
// generate`): pipeline list pages with filters and sorts, the pipeline
// summary, the program analytics, answers as of a past quarter end, and
// the portal's and the console's pages by signed-in users. Each phase
// reports its latency per kind of request as well as in all.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// kindTarget is one request of a mixed phase and the kind it reports under.
type kindTarget struct {
	kind, url string
	header    http.Header
}

// mixed runs workers clients for d over targets in turn (closed loop) and
// prints the latency of each kind, then of them all.
func (l *load) mixed(name string, workers int, d time.Duration, targets []kindTarget) {
	if len(targets) == 0 {
		fmt.Printf("%-28s skipped: nothing to ask\n", name)
		return
	}
	kindOf := map[string]string{}
	var kinds []string
	for _, t := range targets {
		if _, ok := kindOf[t.url]; ok && kindOf[t.url] != t.kind {
			panic("load: one URL under two kinds: " + t.url)
		}
		kindOf[t.url] = t.kind
		if !slices.Contains(kinds, t.kind) {
			kinds = append(kinds, t.kind)
		}
	}
	var n atomic.Uint64
	targeter := func(t *vegeta.Target) error {
		k := targets[int(n.Add(1)-1)%len(targets)]
		*t = vegeta.Target{Method: http.MethodGet, URL: k.url, Header: k.header}
		return nil
	}
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)),
		vegeta.Connections(workers), vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second), vegeta.Redirects(vegeta.NoFollow))
	var all vegeta.Metrics
	per := map[string]*vegeta.Metrics{}
	var firstErr string
	for res := range atk.Attack(targeter, vegeta.Rate{}, d, name) {
		all.Add(res)
		k := kindOf[res.URL]
		m := per[k]
		if m == nil {
			m = &vegeta.Metrics{}
			per[k] = m
		}
		m.Add(res)
		if firstErr == "" && (res.Code < 200 || res.Code >= 300) {
			firstErr = fmt.Sprintf("%s %d %s", res.URL, res.Code, strings.TrimSpace(string(res.Body[:min(len(res.Body), 300)])))
		}
	}
	line := func(name string, m *vegeta.Metrics) {
		m.Close()
		fmt.Printf("%-28s %9d %9.0f %9s %9s %9s %7.2f%%\n", name, m.Requests, m.Throughput,
			m.Latencies.P50.Round(10*time.Microsecond), m.Latencies.P90.Round(10*time.Microsecond), m.Latencies.P99.Round(10*time.Microsecond), 100*m.Success)
	}
	line(name, &all)
	for _, k := range kinds {
		if m := per[k]; m != nil {
			line("  "+k, m)
		}
	}
	if firstErr != "" {
		fmt.Println("  first failure:", firstErr)
	}
}

// adder returns a function appending a GET of path, with header h, to out.
func (l *load) adder(out *[]kindTarget, h http.Header) func(kind, path string) {
	return func(kind, path string) { *out = append(*out, kindTarget{kind: kind, url: l.base + path, header: h}) }
}

func (l *load) adminHeader() http.Header {
	return http.Header{"Authorization": {"Bearer " + l.admin}}
}

// summaryGroups returns the keys of the pipeline summary grouped by key,
// largest group first.
func (l *load) summaryGroups(key string) ([]string, error) {
	var s struct {
		Groups []struct {
			Key   map[string]string `json:"key"`
			Count int               `json:"count"`
		} `json:"groups"`
	}
	if err := l.do(http.MethodGet, "/v1/pipeline/summary?group_by="+key, l.admin, nil, &s); err != nil {
		return nil, err
	}
	slices.SortStableFunc(s.Groups, func(a, b struct {
		Key   map[string]string `json:"key"`
		Count int               `json:"count"`
	}) int {
		return b.Count - a.Count
	})
	out := make([]string, 0, len(s.Groups))
	for _, g := range s.Groups {
		if v := g.Key[key]; v != "" {
			out = append(out, v)
		}
	}
	return out, nil
}

// TopPartner returns the partner with the most registrations.
func (l *load) topPartner() (string, error) {
	ps, err := l.summaryGroups("partner")
	if err != nil || len(ps) == 0 {
		return "", fmt.Errorf("no partner with registrations: %v", err)
	}
	return ps[0], nil
}

// registrationIDs returns up to n registration IDs, as admin, of partner
// (any when empty), spread over the list.
func (l *load) registrationIDs(partner string, n int) ([]string, error) {
	q := url.Values{"limit": {"200"}, "sort": {"value"}}
	if partner != "" {
		q.Set("partner", partner)
	}
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := l.do(http.MethodGet, "/v1/registrations?"+q.Encode(), l.admin, nil, &page); err != nil {
		return nil, err
	}
	var out []string
	for i, it := range page.Items {
		if i%max(1, len(page.Items)/n) == 0 && len(out) < n {
			out = append(out, it.ID)
		}
	}
	return out, nil
}

// quarterEnd is the end of the quarter before the last full one before
// the ledger's newest registration: a quarter end well inside the
// ledger's history (the generated ledger's clock runs ahead of the wall
// clock, so it is read off the data, not now).
func (l *load) quarterEnd() (time.Time, error) {
	var page struct {
		Items []struct {
			CreatedAt time.Time `json:"created_at"`
		} `json:"items"`
	}
	if err := l.do(http.MethodGet, "/v1/registrations?limit=1&sort=-created", l.admin, nil, &page); err != nil {
		return time.Time{}, err
	}
	if len(page.Items) == 0 {
		return time.Time{}, fmt.Errorf("no registrations")
	}
	t := page.Items[0].CreatedAt.UTC()
	q := time.Date(t.Year(), time.Month(3*((int(t.Month())-1)/3)+1), 1, 0, 0, 0, 0, time.UTC)
	return q.AddDate(0, -3, 0), nil
}

// pipelineTargets are list pages as channel ops ask for them over the
// whole pipeline.
func (l *load) pipelineTargets() ([]kindTarget, error) {
	partners, err := l.summaryGroups("partner")
	if err != nil {
		return nil, err
	}
	regions, err := l.summaryGroups("region")
	if err != nil {
		return nil, err
	}
	h := l.adminHeader()
	var out []kindTarget
	add := l.adder(&out, h)
	add("list, all", "/v1/registrations?limit=50")
	add("list, by status", "/v1/registrations?limit=50&status=active")
	add("list, by status", "/v1/registrations?limit=50&status=under_review")
	for _, p := range partners[:min(4, len(partners))] {
		add("list, by partner", "/v1/registrations?limit=50&partner="+url.QueryEscape(p))
		add("list, by partner, by value", "/v1/registrations?limit=50&sort=-value&partner="+url.QueryEscape(p))
	}
	for _, r := range regions[:min(3, len(regions))] {
		add("list, by region", "/v1/registrations?limit=50&region="+url.QueryEscape(r))
	}
	add("list, sorted", "/v1/registrations?limit=50&sort=-value&currency=USD")
	add("list, sorted", "/v1/registrations?limit=50&sort=expires&status=active")
	add("list, sorted", "/v1/registrations?limit=50&sort=-updated")
	add("list, expiring", "/v1/registrations?limit=50&expiring_within_days=30")
	add("list, stale", "/v1/registrations?limit=50&stale_days=30")
	return out, nil
}

// analyticsTargets are the program analytics over the whole period and
// the pipeline summary: the grouped queries of the dashboards.
func (l *load) analyticsTargets() []kindTarget {
	h := l.adminHeader()
	var out []kindTarget
	add := l.adder(&out, h)
	add("registrations", "/v1/analytics/registrations")
	add("registrations, grouped", "/v1/analytics/registrations?group_by=partner")
	add("registrations, grouped", "/v1/analytics/registrations?group_by=region,tier")
	add("registrations, by partner and tier", "/v1/analytics/registrations?group_by=partner,tier")
	add("conflicts", "/v1/analytics/conflicts")
	add("consistency", "/v1/analytics/consistency")
	add("top partners", "/v1/analytics/top-partners")
	add("ratings", "/v1/analytics/ratings")
	add("pipeline summary", "/v1/pipeline/summary?group_by=status")
	add("pipeline summary", "/v1/pipeline/summary?group_by=partner")
	add("pipeline summary", "/v1/pipeline/summary?group_by=region,quarter")
	return onlyKinds(out, l.analyticsKinds)
}

// onlyKinds keeps the targets of the kinds named, separated by ';' (all
// when none is): one query's latency alone, without the others of the mix.
func onlyKinds(ts []kindTarget, kinds string) []kindTarget {
	if kinds == "" {
		return ts
	}
	keep := map[string]bool{}
	for _, k := range strings.Split(kinds, ";") {
		keep[strings.TrimSpace(k)] = true
	}
	var out []kindTarget
	for _, t := range ts {
		if keep[t.kind] {
			out = append(out, t)
		}
	}
	return out
}

// asOfTargets are the auditor's questions about a past quarter end.
func (l *load) asOfTargets() ([]kindTarget, error) {
	q, err := l.quarterEnd()
	if err != nil {
		return nil, err
	}
	at := url.QueryEscape(q.Format(time.RFC3339))
	var owned struct {
		Items []struct {
			Company string `json:"company_name"`
			Domain  string `json:"domain"`
		} `json:"items"`
	}
	if err := l.do(http.MethodGet, "/v1/registrations?limit=3&status=active", l.admin, nil, &owned); err != nil {
		return nil, err
	}
	h := l.adminHeader()
	var out []kindTarget
	add := l.adder(&out, h)
	add("summary as of", "/v1/pipeline/summary?group_by=status&as_of="+at)
	add("summary as of", "/v1/pipeline/summary?group_by=partner&as_of="+at)
	add("list as of", "/v1/registrations?limit=50&as_of="+at)
	add("list as of", "/v1/registrations?limit=50&sort=-value&currency=USD&as_of="+at)
	add("analytics as of", "/v1/analytics/registrations?group_by=partner&as_of="+at)
	for _, o := range owned.Items {
		add("ownership as of", "/v1/accounts/ownership?name="+url.QueryEscape(o.Company)+"&as_of="+at)
		if o.Domain != "" {
			add("ownership as of", "/v1/accounts/ownership?domain="+url.QueryEscape(o.Domain)+"&as_of="+at)
		}
	}
	return out, nil
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in through the sign-in page as a person would and returns
// the cookies of the session.
func (l *load) signIn(cred string) (http.Header, error) {
	email, password, ok := strings.Cut(cred, ":")
	if !ok {
		return nil, fmt.Errorf("%q: want EMAIL:PASSWORD", cred)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var last error
	// A user made by `dealreg user invite` while serve runs reaches the
	// server's views within a moment.
	for try := 0; try < 20; try++ {
		res, err := c.Get(l.base + "/login")
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrfInput.FindSubmatch(b)
		if m == nil {
			return nil, fmt.Errorf("sign-in page: no CSRF token (%s)", res.Status)
		}
		res, err = c.PostForm(l.base+"/login", url.Values{"email": {email}, "password": {password}, "csrf": {string(m[1])}})
		if err != nil {
			return nil, err
		}
		res.Body.Close()
		if res.StatusCode == http.StatusSeeOther {
			u, _ := url.Parse(l.base)
			var parts []string
			for _, ck := range jar.Cookies(u) {
				parts = append(parts, ck.Name+"="+ck.Value)
			}
			return http.Header{"Cookie": {strings.Join(parts, "; ")}}, nil
		}
		last = fmt.Errorf("sign-in as %s: %s", email, res.Status)
		time.Sleep(250 * time.Millisecond)
	}
	return nil, last
}

// pageTargets are the portal's pages for a partner's user and the
// console's for a channel manager, over the ledger's data.
func (l *load) pageTargets(consoleCred, partnerCred, partner string) ([]kindTarget, error) {
	var out []kindTarget
	if consoleCred != "" {
		h, err := l.signIn(consoleCred)
		if err != nil {
			return nil, err
		}
		ids, err := l.registrationIDs("", 8)
		if err != nil {
			return nil, err
		}
		var cases struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := l.do(http.MethodGet, "/v1/conflicts", l.admin, nil, &cases); err != nil {
			return nil, err
		}
		partners, err := l.summaryGroups("partner")
		if err != nil {
			return nil, err
		}
		q, err := l.quarterEnd()
		if err != nil {
			return nil, err
		}
		add := l.adder(&out, h)
		add("console: review queue", "/console")
		for _, id := range ids {
			add("console: review page", "/console/registrations/"+id)
		}
		add("console: conflict desk", "/console/conflicts")
		for _, c := range cases.Items[:min(4, len(cases.Items))] {
			add("console: conflict case", "/console/conflicts/"+c.ID)
		}
		add("console: partners", "/console/partners")
		for _, p := range partners[:min(2, len(partners))] {
			add("console: partner", "/console/partners/"+url.PathEscape(p))
		}
		add("console: analytics", "/console/analytics")
		add("console: audit as of", "/console/audit?as_of="+url.QueryEscape(q.Format("2006-01-02")))
		add("console: policies", "/console/policies")
	}
	if partnerCred != "" {
		h, err := l.signIn(partnerCred)
		if err != nil {
			return nil, err
		}
		ids, err := l.registrationIDs(partner, 8)
		if err != nil {
			return nil, err
		}
		add := l.adder(&out, h)
		add("portal: dashboard", "/portal")
		add("portal: form", "/portal/registrations/new")
		for _, id := range ids {
			add("portal: registration", "/portal/registrations/"+id)
		}
		add("portal: notifications", "/portal/notifications")
		add("portal: policies", "/portal/policies")
		add("portal: reports", "/portal/reports")
	}
	return out, nil
}

// printTopPartner prints the partner with the most registrations, for a
// script that makes a portal user of it.
func (l *load) printTopPartner() error {
	p, err := l.topPartner()
	if err != nil {
		return err
	}
	fmt.Println(p)
	return nil
}
