package main

import (
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

// The generator is a discrete-event simulation of a partner program. Every
// registration, conflict case and direct-sales deal is a story whose next
// step waits in a queue ordered by simulated time; the loop pops a step,
// moves the clock there and runs it as a command of the app.Service. A
// step first reads the aggregate's state from the ledger and acts on what
// it finds (the verdict, a conflict decision or the scheduler may have
// moved it), so stories never need to predict each other. Everything is
// single-threaded and every choice comes from one seeded generator, so
// the same seed gives the same ledger.

// seededIDs hands out UUIDs shaped like version 7 (the clock's millisecond,
// then seeded random bits): time-ordered like the app's own, and the same
// for the same seed.
type seededIDs struct {
	mu    sync.Mutex
	clock domain.Clock
	rng   *rand.Rand
}

func (s *seededIDs) next() uuid.UUID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var u uuid.UUID
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(s.clock.Now().UnixMilli()))
	copy(u[:6], ms[2:])
	binary.BigEndian.PutUint16(u[6:], uint16(s.rng.Uint32()))
	binary.BigEndian.PutUint64(u[8:], s.rng.Uint64())
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// action is one step waiting in the queue.
type action struct {
	at  time.Time
	seq uint64
	run func() error
}

type actionQueue []*action

func (q actionQueue) Len() int { return len(q) }
func (q actionQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q actionQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *actionQueue) Push(x any)   { *q = append(*q, x.(*action)) }
func (q *actionQueue) Pop() any {
	old := *q
	a := old[len(old)-1]
	*q = old[:len(old)-1]
	return a
}

type genPartner struct {
	p       domain.Partner
	country *genCountry
	users   []app.Call
	weight  int
}

type genGrant struct {
	partner  *genPartner
	region   string
	industry int
}

// What a registration story will do, drawn when it starts.
type plan struct {
	leaveDraft, amendDraft bool
	review                 bool
	decision               int // decApprove, decReject, decReturn, decWithdraw
	afterReturn            int // 0 resubmit, 1 withdraw, 2 leave it
	outcome                int // outWon, outLost, outExpire, outWithdraw
	closeAfter             time.Duration
	progress               int
	extension              bool
	grantExtension         bool
	renewals               int
	renewLate              bool
	territory              bool // registered inside another partner's grant
}

const (
	decApprove = iota
	decReject
	decReturn
	decWithdraw
)

const (
	outWon = iota
	outLost
	outExpire
	outWithdraw
)

type story struct {
	id       uuid.UUID
	partner  *genPartner
	user     app.Call
	typ      domain.RegistrationType
	acct     *genAccount
	det      domain.Details
	plan     plan
	gen      uint64 // the story's current step; older queued steps are stale
	reviewer app.Call
	conflict *conflictStory // open case the story waits for
	amended  bool
	returned bool
	active   bool // the active timeline was laid out
	closeAt  time.Time
	progress []time.Time
	extLead  time.Duration
	renewAt  time.Time
	pool     int // index in gen.alive, -1 when out
}

type conflictStory struct {
	id       uuid.UUID
	kind     domain.ConflictKind
	parties  []domain.Party
	stories  []*story // per party; nil for the direct party or an unknown one
	outcome  int      // cAward, cCoRegister, cRejectAll, cOverride
	open     bool
	escalate bool // once more than needed
}

const (
	cAward = iota
	cCoRegister
	cRejectAll
	cOverride
)

type directStory struct {
	id    uuid.UUID
	acct  *genAccount
	owner app.Call
	opp   domain.DirectOpportunity
	pool  int
}

// gen is one generation run.
type gen struct {
	ctx    context.Context
	svc    *app.Service
	store  *eventstore.SQLite
	clock  *domain.ManualClock
	rng    *rand.Rand
	names  *names
	target uint64
	start  time.Time
	days   int

	queue actionQueue
	seq   uint64

	partners    []*genPartner
	weightTotal int
	byCountry   map[string][]*genPartner
	grants      []genGrant
	managers    []app.Call
	directors   []app.Call
	executives  []app.Call
	sales       []app.Call
	admin       app.Call

	stories  map[uuid.UUID]*story
	alive    []*story // registrations that still claim their account
	closed   []*genAccount
	directs  map[uuid.UUID]*directStory
	openDeal []*directStory
	subs     []*genAccount // subsidiaries linked to a named account's headquarters

	conflicts int // opened so far, to cycle the first outcomes
	started   int
	refused   int // commands the domain refused as out of turn
}

// storyEvents is about how many events a story appends on average with
// this mix: the arrival rate spreads target/storyEvents stories over the
// run's days. Approval automation adds about 1.3 a story (the routing of
// each submission, and the review reminders and escalations).
const storyEvents = 8.8

func (g *gen) schedule(at time.Time, run func() error) {
	g.seq++
	heap.Push(&g.queue, &action{at: at, seq: g.seq, run: run})
}

// later returns now plus a random duration in [lo, hi).
func (g *gen) later(lo, hi time.Duration) time.Time {
	return g.clock.Now().Add(lo + time.Duration(g.rng.Int64N(int64(hi-lo))))
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

func pick[T any](g *gen, list []T) T { return list[g.rng.IntN(len(list))] }

func days(n float64) time.Duration { return time.Duration(n * float64(domain.Day)) }

// run plays the program until the ledger holds target events or nothing is
// left to do; tick reports progress after each step.
func (g *gen) run(tick func(head uint64, now time.Time)) error {
	g.setup()
	for g.queue.Len() > 0 && g.store.Head() < g.target {
		if err := g.ctx.Err(); err != nil {
			return err
		}
		a := heap.Pop(&g.queue).(*action)
		if a.at.After(g.clock.Now()) {
			g.clock.Set(a.at)
		}
		if err := a.run(); err != nil {
			return fmt.Errorf("generate at %s: %w", g.clock.Now().Format(time.RFC3339), err)
		}
		tick(g.store.Head(), g.clock.Now())
	}
	return nil
}

func staffCall(role domain.Role, first, last, what string) app.Call {
	return app.Call{Caller: app.Caller{
		Actor: domain.Actor{ID: "gen:" + slug(first+"."+last), Role: role},
		Name:  first + " " + last + " (" + what + ")",
	}}
}

// setup enrols the partners and the vendor's staff, grants territories and
// starts the daily routine.
func (g *gen) setup() {
	g.admin = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "gen:admin", Role: domain.RoleAdmin}, Name: "Programme admin"}}
	for i := range 6 {
		g.managers = append(g.managers, staffCall(domain.RoleChannelManager, genFirstNames["en"][i], genSurnames["es"][i], "channel manager"))
	}
	for i := range 2 {
		g.directors = append(g.directors, staffCall(domain.RoleChannelDirector, genFirstNames["es"][i+6], genSurnames["en"][i+6], "channel director"))
	}
	g.executives = append(g.executives, staffCall(domain.RoleExecutive, "Helen", "Okafor", "VP partner sales"))
	for i := range 4 {
		g.sales = append(g.sales, staffCall(domain.RoleDirectSales, genFirstNames["de"][i], genSurnames["fr"][i], "direct sales"))
	}

	// Partners grow with the square root of the ledger: ~300 at a
	// million events, ~100 at 100,000, 16 at 3,000.
	n := max(12, int(math.Round(300*math.Sqrt(float64(g.target)/1e6))))
	countryTotal := 0
	for _, c := range genCountries {
		countryTotal += c.weight
	}
	g.byCountry = map[string][]*genPartner{}
	at := g.start.Add(7 * time.Hour)
	ids := map[string]bool{}
	for range n {
		var c *genCountry
		for k, i := g.rng.IntN(countryTotal), 0; ; i++ {
			if k -= genCountries[i].weight; k < 0 {
				c = &genCountries[i]
				break
			}
		}
		tier, weight := domain.TierRegistered, 1
		switch k := g.rng.IntN(100); {
		case k < 6:
			tier, weight = domain.TierPlatinum, 8
		case k < 22:
			tier, weight = domain.TierGold, 4
		case k < 55:
			tier, weight = domain.TierSilver, 2
		}
		name := g.names.partnerName(c)
		id := slug(name)
		if len(id) > 40 {
			id = id[:40]
		}
		id = strings.Trim(id, "-") + "-" + strings.ToLower(c.code)
		for ids[id] {
			id += "x"
		}
		ids[id] = true
		regions := slices.Clone(c.regions)
		g.rng.Shuffle(len(regions), func(i, j int) { regions[i], regions[j] = regions[j], regions[i] })
		p := &genPartner{p: domain.Partner{ID: id, Name: name, Tier: tier, Regions: regions[:1+g.rng.IntN(3)]}, country: c, weight: weight}
		for range 1 + g.rng.IntN(3) {
			person, _ := g.names.person(c.lang, "")
			p.users = append(p.users, app.Call{Caller: app.Caller{
				Actor: domain.Actor{ID: "gen:" + id + ":" + slug(person), Role: domain.RolePartner, PartnerID: id},
				Name:  person + " (" + name + ")",
			}})
		}
		g.partners = append(g.partners, p)
		g.weightTotal += weight
		g.byCountry[c.code] = append(g.byCountry[c.code], p)
		g.schedule(at, func() error {
			_, err := g.svc.AddPartner(g.ctx, g.admin, p.p)
			return err
		})
		at = at.Add(10 * time.Second) // every partner enrolled before the first registrations (an unknown partner may register nothing)
	}
	// A few exclusive territories for the top tiers, renewed each year.
	for _, p := range g.partners {
		if len(g.grants) >= max(2, n/30) {
			break
		}
		if p.p.Tier != domain.TierPlatinum && p.p.Tier != domain.TierGold {
			continue
		}
		gr := genGrant{partner: p, region: p.p.Regions[0], industry: g.rng.IntN(len(genIndustries))}
		g.grants = append(g.grants, gr)
		for year := 0; year*365 < g.days+365; year++ {
			from := g.start.Add(days(float64(year * 365)))
			g.schedule(from.Add(7*time.Hour+time.Duration(len(g.grants))*time.Minute+time.Hour), func() error {
				_, err := g.svc.GrantTerritory(g.ctx, g.directors[0], domain.TerritoryGrant{
					PartnerID: p.p.ID, Country: p.country.code, Region: gr.region, Vertical: genIndustries[gr.industry].name,
					ValidFrom: from, ValidTo: from.Add(365 * domain.Day),
				})
				return err
			})
		}
	}
	g.schedule(g.start.Add(domain.Day+time.Hour), g.daily)
	g.schedule(g.start.Add(9*time.Hour), g.arrivals)
}

// daily runs the expiry scheduler once a simulated night.
func (g *gen) daily() error {
	if _, err := g.svc.RunDue(g.ctx, g.clock.Now()); err != nil {
		return err
	}
	g.schedule(g.clock.Now().Add(domain.Day), g.daily)
	return nil
}

// arrivals starts the day's new stories, fewer at weekends.
func (g *gen) arrivals() error {
	rate := float64(g.target) / storyEvents / float64(g.days)
	switch g.clock.Now().Weekday() {
	case time.Saturday, time.Sunday:
		rate *= 0.25
	default:
		rate *= 7.0 / (5 + 2*0.25)
	}
	// A whole number of stories per day, the fraction by chance.
	k := int(rate)
	if g.chance(rate - float64(k)) {
		k++
	}
	day := g.clock.Now()
	for range k {
		g.schedule(day.Add(time.Duration(g.rng.Int64N(int64(10*time.Hour)))), g.begin)
	}
	g.schedule(day.Add(domain.Day), g.arrivals)
	return nil
}

func (g *gen) pickPartner() *genPartner {
	k := g.rng.IntN(g.weightTotal)
	for _, p := range g.partners {
		if k -= p.weight; k < 0 {
			return p
		}
	}
	return g.partners[len(g.partners)-1]
}

// begin starts one new story: mostly a registration of a new account,
// some of an account someone already claims (a duplicate or a conflict),
// of a former customer, a subsidiary, inside a territory, or a deal of
// the direct-sales team.
func (g *gen) begin() error {
	g.started++
	p := g.pickPartner()
	st := &story{partner: p, user: pick(g, p.users), typ: domain.TypeOpportunity, pool: -1}
	if (p.p.Tier == domain.TierGold || p.p.Tier == domain.TierPlatinum) && g.chance(0.12) {
		st.typ = domain.TypeNamedAccount
	}
	var name, site, tax string
	switch k := g.rng.IntN(1000); {
	case k < 20:
		return g.beginDirect()
	case k < 90 && len(g.alive) > 0: // someone else's (or our own) live claim
		other := g.alive[g.rng.IntN(len(g.alive))]
		p = other.partner
		if ps := g.byCountry[other.acct.country.code]; g.chance(0.7) && len(ps) > 1 {
			for p == other.partner {
				p = pick(g, ps)
			}
		}
		st.partner, st.user = p, pick(g, p.users)
		st.acct = other.acct
		name, site, tax = g.names.variant(other.acct)
		st.typ = domain.TypeOpportunity
		st.det = g.details(st, name, site, tax)
		st.det.Opportunity.ProductLines = slices.Clone(other.det.Opportunity.ProductLines)
		if len(st.det.Opportunity.ProductLines) == 0 {
			st.det.Opportunity.ProductLines = []string{pick(g, genProducts)}
		}
	case k < 115 && len(g.openDeal) > 0: // in the direct team's pipeline
		d := g.openDeal[g.rng.IntN(len(g.openDeal))]
		if ps := g.byCountry[d.acct.country.code]; len(ps) > 0 {
			p = pick(g, ps)
			st.partner, st.user = p, pick(g, p.users)
		}
		st.acct = d.acct
		name, site, tax = g.names.variant(d.acct)
		st.typ = domain.TypeOpportunity
		st.det = g.details(st, name, site, tax)
		st.det.Opportunity.ProductLines = slices.Clone(d.opp.ProductLines)
	case k < 135 && len(g.subs) > 0: // a subsidiary of someone's named account
		st.acct = g.subs[g.rng.IntN(len(g.subs))]
		st.typ = domain.TypeOpportunity
		st.det = g.details(st, st.acct.name, st.acct.domain, st.acct.taxID)
	case k < 185 && len(g.closed) > 0: // a former customer, registered again
		st.acct = g.closed[g.rng.IntN(len(g.closed))]
		st.det = g.details(st, st.acct.name, st.acct.domain, st.acct.taxID)
	case k < 200 && len(g.grants) > 0: // inside another partner's territory
		gr := g.grants[g.rng.IntN(len(g.grants))]
		if ps := g.byCountry[gr.partner.country.code]; len(ps) > 1 {
			p = gr.partner
			for p == gr.partner {
				p = pick(g, ps)
			}
			st.partner, st.user = p, pick(g, p.users)
		}
		st.acct = g.names.account(gr.partner.country, gr.region)
		st.acct.industry = gr.industry
		st.plan.territory = true
		st.det = g.details(st, st.acct.name, st.acct.domain, st.acct.taxID)
	default:
		region := pick(g, p.p.Regions)
		if g.chance(0.2) {
			region = pick(g, p.country.regions)
		}
		st.acct = g.names.account(p.country, region)
		st.det = g.details(st, st.acct.name, st.acct.domain, st.acct.taxID)
	}
	if st.typ == domain.TypeNamedAccount && st.det.Account.Domain == "" {
		st.det.Account.Domain = st.acct.domain
	}
	g.drawPlan(st)
	submit := !st.plan.leaveDraft && !st.plan.amendDraft
	id, res, err := g.svc.Create(g.ctx, st.user, st.typ, st.det, submit)
	if err != nil {
		return fmt.Errorf("register %s: %w", st.det.Account.CompanyName, err)
	}
	st.id = id
	g.stories[id] = st
	if submit {
		if err := g.submitted(st, res.Position); err != nil {
			return err
		}
	}
	g.next(st, g.later(2*time.Hour, days(2)))
	return nil
}

// details fills a registration's form at the current time.
func (g *gen) details(st *story, name, site, tax string) domain.Details {
	now := g.clock.Now()
	a := st.acct
	lang := a.country.lang
	first := now.Add(-days(3 + 55*g.rng.Float64())).Truncate(time.Hour)
	amount := math.Exp(math.Log(60000) + g.rng.NormFloat64())
	amount = math.Min(math.Max(math.Round(amount/500)*500, 5000), 5e6)
	d := domain.Details{
		Account: domain.Account{
			CompanyName: name, Domain: site, TaxID: tax, Country: a.country.code, Region: a.region,
			Industry: genIndustries[a.industry].name, EmployeeBand: domain.EmployeeBand(a.band),
			ExistingRelationship: pick(g, []domain.VendorRelationship{domain.RelationshipNone, domain.RelationshipUnknown, domain.RelationshipProspect, domain.RelationshipFormerCustomer}),
		},
		Opportunity: domain.Opportunity{
			ProductLines:      []string{pick(g, genProducts)},
			EstimatedValue:    domain.Money{Amount: decimal.NewFromFloat(amount), Currency: a.country.currency},
			ExpectedCloseDate: now.Add(days(30 + 170*g.rng.Float64())).Truncate(domain.Day),
			BuyingStage:       pick(g, []domain.BuyingStage{domain.StageQualification, domain.StageDiscovery, domain.StageEvaluation}),
		},
		Relationship: domain.Relationship{
			HowFound:         pick(g, []domain.LeadSource{domain.SourceReferral, domain.SourceMarketingCampaign, domain.SourceColdOutreach, domain.SourceInbound, domain.SourceEvent, domain.SourceExistingCustomer}),
			FirstContactDate: first,
			NextSteps:        pick(g, genNextSteps),
		},
	}
	if g.chance(0.4) {
		d.Opportunity.ProductLines = append(d.Opportunity.ProductLines, genProducts[(slices.Index(genProducts, d.Opportunity.ProductLines[0])+1)%len(genProducts)])
	}
	if g.chance(0.5) {
		d.Opportunity.Competitors = []string{pick(g, genCompetitors)}
	}
	for i := range g.rng.IntN(4) {
		at := first.Add(time.Duration(i+1) * now.Sub(first) / 5).Truncate(time.Hour)
		d.Relationship.Activities = append(d.Relationship.Activities, domain.Activity{Kind: []domain.ActivityKind{domain.ActivityDiscoveryCall, domain.ActivityDemo, domain.ActivityWorkshop, domain.ActivityPOC}[i], Date: at})
	}
	if g.chance(0.6) {
		g.addProof(&d)
	}
	for range g.rng.IntN(3) {
		person, email := g.names.person(lang, site)
		d.Personal.DecisionMakers = append(d.Personal.DecisionMakers, domain.Contact{Name: person, Title: pick(g, genTitles[lang]), Email: email})
	}
	return d
}

func (g *gen) addProof(d *domain.Details) {
	if g.chance(0.5) {
		d.Proof = append(d.Proof, domain.ProofItem{Kind: domain.ProofBANT, Answers: []domain.Answer{
			{Question: "Budget", Answer: pick(g, []string{"Approved for this fiscal year", "Requested in next year's budget", "Funded by the digital programme"})},
			{Question: "Authority", Answer: pick(g, []string{"CFO signs; CIO recommends", "The board approves above 100k", "Head of operations decides"})},
			{Question: "Need", Answer: pick(g, []string{"Replace spreadsheets and a legacy on-prem tool", "Consolidate three regional systems", "Meet new reporting regulation"})},
			{Question: "Timeline", Answer: pick(g, []string{"Decision within the quarter", "Go-live before year end", "Pilot next month"})},
		}})
		return
	}
	d.Proof = append(d.Proof, domain.ProofItem{Kind: domain.ProofMeetingConfirmation, Answers: []domain.Answer{
		{Question: "Meeting", Answer: "Discovery meeting with the buyer and two key users"},
	}})
}

func (g *gen) drawPlan(st *story) {
	p := &st.plan
	switch k := g.rng.IntN(100); {
	case k < 5:
		p.leaveDraft = true
	case k < 9:
		p.amendDraft = true
	}
	p.review = g.chance(0.4)
	switch k := g.rng.IntN(100); {
	case k < 72:
		p.decision = decApprove
	case k < 83:
		p.decision = decReject
	case k < 95:
		p.decision = decReturn
	default:
		p.decision = decWithdraw
	}
	switch k := g.rng.IntN(100); {
	case k < 80:
		p.afterReturn = 0
	case k < 90:
		p.afterReturn = 1
	default:
		p.afterReturn = 2
	}
	switch k := g.rng.IntN(100); {
	case k < 38:
		p.outcome = outWon
	case k < 62:
		p.outcome = outLost
	case k < 94:
		p.outcome = outExpire
	default:
		p.outcome = outWithdraw
	}
	p.closeAfter = days(10 + 140*g.rng.Float64())
	p.progress = g.rng.IntN(4)
	p.extension = g.chance(0.6)
	p.grantExtension = g.chance(0.75)
	if st.typ == domain.TypeNamedAccount {
		p.outcome = outExpire
		if g.chance(0.6) {
			p.renewals = 1 + g.rng.IntN(2)
		} else {
			p.renewLate = g.chance(0.4)
		}
	}
}

// next schedules the story's next step at at, replacing any queued one.
func (g *gen) next(st *story, at time.Time) {
	st.gen++
	gen := st.gen
	g.schedule(at, func() error {
		if st.gen != gen {
			return nil
		}
		return g.advance(st)
	})
}

// submitted handles what the duplicate check left after a submission at
// pos: a conflict case opened on it.
func (g *gen) submitted(st *story, pos uint64) error {
	recs, err := g.store.ReadAll(g.ctx, domain.ReadAllOptions{From: pos + 1, Count: 4})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec.Type != (domain.ConflictOpened{}).EventType() {
			continue
		}
		ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return err
		}
		g.opened(ev.(domain.ConflictOpened))
	}
	return nil
}

func (g *gen) registration(st *story) (*domain.Registration, error) {
	recs, err := g.store.ReadStream(g.ctx, domain.RegistrationStream(st.id), domain.ReadStreamOptions{})
	if err != nil {
		return nil, err
	}
	events, err := domain.DecodeRecorded(recs)
	if err != nil {
		return nil, err
	}
	return domain.Rebuild(events...)
}

func (g *gen) manager() app.Call { return pick(g, g.managers) }

// claimed keeps the live claims to re-register: in when submitted, out
// when final.
func (g *gen) claimed(st *story, alive bool) {
	switch {
	case alive && st.pool < 0:
		st.pool = len(g.alive)
		g.alive = append(g.alive, st)
	case !alive && st.pool >= 0:
		last := g.alive[len(g.alive)-1]
		g.alive[st.pool], last.pool = last, st.pool
		g.alive = g.alive[:len(g.alive)-1]
		st.pool = -1
	}
}

// finish ends a story whose registration is final.
func (g *gen) finish(st *story, status domain.Status) {
	g.claimed(st, false)
	delete(g.stories, st.id)
	if status == domain.StatusClosedWon || status == domain.StatusClosedLost || status == domain.StatusExpired {
		if len(g.closed) < 5000 {
			g.closed = append(g.closed, st.acct)
		} else {
			g.closed[g.rng.IntN(len(g.closed))] = st.acct
		}
	}
}

// advance runs the story's next step from the registration's state.
func (g *gen) advance(st *story) error {
	r, err := g.registration(st)
	if err != nil {
		return err
	}
	now := g.clock.Now()
	s, p := g.svc, &st.plan
	check := func(_ app.Result, err error) error { return err }
	switch r.Status() {
	case domain.StatusDraft:
		if !st.amended && (p.amendDraft || (p.leaveDraft && g.chance(0.4))) {
			st.amended = true
			d := g.details(st, st.det.Account.CompanyName, st.det.Account.Domain, st.det.Account.TaxID)
			d.Opportunity.ProductLines = st.det.Opportunity.ProductLines
			st.det = d
			at := g.later(time.Hour, days(4))
			if p.leaveDraft {
				at = g.later(days(1), days(20)) // then left as it is
			}
			return g.then(st, check(s.Amend(g.ctx, st.user, st.id, d)), at)
		}
		if p.leaveDraft {
			g.finish(st, domain.StatusDraft)
			return nil
		}
		return g.submit(st)
	case domain.StatusSubmitted:
		g.next(st, now.Add(time.Hour)) // no verdict yet
	case domain.StatusCleared, domain.StatusPossibleDuplicate, domain.StatusUnderReview:
		g.claimed(st, true)
		if st.conflict != nil && st.conflict.open {
			return nil // the conflict's decision wakes the story
		}
		return g.decide(st, r)
	case domain.StatusReturned:
		if !st.amended {
			switch p.afterReturn {
			case 1:
				return g.then(st, check(s.Withdraw(g.ctx, st.user, st.id, pick(g, genWithdrawReasons))), g.later(time.Hour, days(1)))
			case 2:
				g.finish(st, domain.StatusReturned)
				return nil
			}
			st.amended = true
			d := st.det
			d.Relationship.Activities = append(slices.Clone(d.Relationship.Activities), domain.Activity{Kind: domain.ActivityWorkshop, Date: now.Add(-2 * time.Hour).Truncate(time.Hour)})
			if len(d.Personal.DecisionMakers) == 0 {
				person, email := g.names.person(st.acct.country.lang, d.Account.Domain)
				d.Personal.DecisionMakers = []domain.Contact{{Name: person, Title: pick(g, genTitles[st.acct.country.lang]), Email: email}}
			}
			if len(d.Proof) == 0 {
				g.addProof(&d)
			}
			st.det = d
			return g.then(st, check(s.Amend(g.ctx, st.user, st.id, d)), g.later(10*time.Minute, days(1)))
		}
		return g.submit(st)
	case domain.StatusActive:
		g.claimed(st, true)
		return g.activeStep(st, r)
	case domain.StatusExtensionRequested:
		n := r.ExtensionsGranted() + 1
		if p.grantExtension {
			return g.then(st, check(s.GrantExtension(g.ctx, st.reviewerOr(g), st.id, n)), g.later(time.Hour, days(2)))
		}
		p.extension = false // asked once, denied: the partner does not ask again
		return g.then(st, check(s.DenyExtension(g.ctx, st.reviewerOr(g), st.id, n, pick(g, genDenyReasons))), g.later(time.Hour, days(2)))
	case domain.StatusExpired:
		if st.typ == domain.TypeNamedAccount && p.renewLate && now.Before(r.ProtectionEnd().Add(s.Policy().RenewalGrace)) {
			p.renewLate = false
			return g.then(st, check(s.Renew(g.ctx, st.reviewerOr(g), st.id)), g.later(time.Hour, days(3)))
		}
		g.finish(st, r.Status())
	default:
		g.finish(st, r.Status())
	}
	return nil
}

// then schedules the story's next step at at after a command ran. A
// command the domain refused as out of turn (ECONFLICT: the scheduler or a
// conflict decision moved the registration first) is counted, not fatal:
// the next step looks at the state again.
func (g *gen) then(st *story, err error, at time.Time) error {
	if err := g.tolerate(err); err != nil {
		return err
	}
	g.next(st, at)
	return nil
}

func (g *gen) tolerate(err error) error {
	if err != nil && domain.ErrorCode(err) == domain.ECONFLICT {
		g.refused++
		return nil
	}
	return err
}

func (st *story) reviewerOr(g *gen) app.Call {
	if st.reviewer.Actor.ID == "" {
		st.reviewer = g.manager()
	}
	return st.reviewer
}

func (g *gen) submit(st *story) error {
	st.amended = false
	res, err := g.svc.Submit(g.ctx, st.user, st.id)
	if err != nil {
		return fmt.Errorf("submit %s: %w", st.id, err)
	}
	if err := g.submitted(st, res.Position); err != nil {
		return err
	}
	g.next(st, g.later(2*time.Hour, days(2)))
	return nil
}

// decide is the reviewer's step on a registration awaiting a decision.
func (g *gen) decide(st *story, r *domain.Registration) error {
	s, p := g.svc, &st.plan
	reviewer := st.reviewerOr(g)
	possible := r.Status() == domain.StatusPossibleDuplicate
	if (p.review || possible) && r.Status() != domain.StatusUnderReview {
		_, err := s.StartReview(g.ctx, reviewer, st.id)
		return g.then(st, err, g.later(time.Hour, days(2)))
	}
	decision := p.decision
	if r.Attempt() > 1 || st.returned {
		decision = decApprove // a resubmission is mostly approved
		if g.chance(0.15) {
			decision = decReject
		}
	}
	if p.territory || (possible && r.Verdict() == domain.VerdictPossibleDuplicate && st.conflict == nil) {
		decision = decApprove
		if g.chance(0.45) {
			_, err := s.Reject(g.ctx, reviewer, st.id, genTerritoryRejection.reason, genTerritoryRejection.explanation, genTerritoryRejection.guidance)
			return g.then(st, err, g.clock.Now().Add(time.Hour))
		}
	}
	switch decision {
	case decReject:
		t := pick(g, genRejections)
		_, err := s.Reject(g.ctx, reviewer, st.id, t.reason, t.explanation, t.guidance)
		return g.then(st, err, g.clock.Now().Add(time.Hour))
	case decReturn:
		st.returned = true
		t := pick(g, genReturns)
		_, err := s.Return(g.ctx, reviewer, st.id, t.message, t.fields)
		return g.then(st, err, g.later(days(1), days(6)))
	case decWithdraw:
		_, err := s.Withdraw(g.ctx, st.user, st.id, pick(g, genWithdrawReasons))
		return g.then(st, err, g.clock.Now().Add(time.Hour))
	}
	if _, err := s.Approve(g.ctx, reviewer, st.id); err != nil {
		return g.then(st, err, g.clock.Now().Add(time.Hour))
	}
	if st.typ == domain.TypeNamedAccount && g.chance(0.3) {
		g.subsidiaries(st)
	}
	g.next(st, g.later(time.Hour, days(1)))
	return nil
}

// subsidiaries has a reviewer link one or two subsidiaries to a named
// account's headquarters, which later registrations may name.
func (g *gen) subsidiaries(st *story) {
	for range 1 + g.rng.IntN(2) {
		sub := g.names.subsidiary(st.acct)
		parent := st.det.Account.CompanyName
		if strings.EqualFold(strings.TrimSpace(sub.name), strings.TrimSpace(parent)) {
			continue // a name the parent was registered under
		}
		g.schedule(g.later(days(1), days(10)), func() error {
			if err := g.svc.LinkSubsidiary(g.ctx, g.manager(), parent, sub.name, "Subsidiary listed in the customer's annual report"); err != nil {
				return err
			}
			g.subs = append(g.subs, sub)
			return nil
		})
	}
}

// activeStep lays out an approved registration's timeline the first time
// (progress updates, a close, extension requests, renewals) and runs the
// step that is due.
func (g *gen) activeStep(st *story, r *domain.Registration) error {
	now := g.clock.Now()
	s, p := g.svc, &st.plan
	end := r.ProtectionEnd()
	if !st.active {
		st.active = true
		horizon := end
		if p.outcome != outExpire {
			st.closeAt = now.Add(p.closeAfter)
			horizon = st.closeAt
			if horizon.After(end) {
				horizon = end
			}
		}
		for i := range p.progress {
			st.progress = append(st.progress, now.Add(time.Duration(i+1)*horizon.Sub(now)/time.Duration(p.progress+1)))
		}
		st.extLead = days(2 + 8*g.rng.Float64())
		if st.typ == domain.TypeNamedAccount && p.renewals > 0 {
			st.renewAt = end.Add(-days(5 + 45*g.rng.Float64()))
		}
	}
	var due []time.Time
	if len(st.progress) > 0 {
		due = append(due, st.progress[0])
	}
	if !st.closeAt.IsZero() {
		due = append(due, st.closeAt)
	}
	var extAt time.Time
	if st.typ == domain.TypeOpportunity && p.extension && r.ExtensionsLeft() > 0 && (st.closeAt.IsZero() || st.closeAt.After(end.Add(-2*domain.Day))) {
		extAt = end.Add(-st.extLead)
		due = append(due, extAt)
	}
	if !st.renewAt.IsZero() {
		due = append(due, st.renewAt)
	}
	if len(due) == 0 {
		g.next(st, r.ProtectionLapsesAt().Add(domain.Day+time.Hour)) // expires; look again then
		return nil
	}
	at := slices.MinFunc(due, func(a, b time.Time) int { return a.Compare(b) })
	if at.After(now) {
		g.next(st, at)
		return nil
	}
	var err error
	switch {
	case len(st.progress) > 0 && !st.progress[0].After(now):
		st.progress = st.progress[1:]
		stages := []domain.BuyingStage{domain.StageEvaluation, domain.StageProposal, domain.StageNegotiation, domain.StageCommit}
		u := domain.ProgressUpdate{BuyingStage: stages[min(len(stages)-1, p.progress-len(st.progress)-1+g.rng.IntN(2))], NextSteps: pick(g, genNextSteps)}
		if g.chance(0.4) {
			u.Note = pick(g, genProgressNotes)
		}
		_, err = s.Progress(g.ctx, st.user, st.id, u)
	case !extAt.IsZero() && !extAt.After(now):
		_, err = s.RequestExtension(g.ctx, st.user, st.id, pick(g, genExtensionReasons))
		st.extLead = days(2 + 6*g.rng.Float64())
	case !st.renewAt.IsZero() && !st.renewAt.After(now):
		if p.renewals--; p.renewals > 0 {
			st.renewAt = end.Add(s.Policy().AccountProtection).Add(-days(5 + 45*g.rng.Float64()))
		} else {
			st.renewAt = time.Time{}
		}
		_, err = s.Renew(g.ctx, st.reviewerOr(g), st.id)
	default: // the close
		st.closeAt = time.Time{}
		switch p.outcome {
		case outWon:
			v := st.det.Opportunity.EstimatedValue
			v.Amount = v.Amount.Mul(decimal.NewFromFloat(0.8 + 0.3*g.rng.Float64())).Round(0)
			_, err = s.CloseWon(g.ctx, st.user, st.id, v, pick(g, genWonNotes))
		case outLost:
			_, err = s.CloseLost(g.ctx, st.user, st.id, pick(g, genLostReasons))
		default:
			_, err = s.Withdraw(g.ctx, st.user, st.id, pick(g, genWithdrawReasons))
		}
	}
	return g.then(st, err, g.clock.Now().Add(time.Minute))
}

// opened starts the story of a conflict case the checker opened.
func (g *gen) opened(ev domain.ConflictOpened) {
	cs := &conflictStory{id: ev.ConflictID, kind: ev.Kind, parties: ev.Parties, open: true}
	for _, p := range ev.Parties {
		st := g.stories[p.RegistrationID]
		if p.Kind != domain.PartyPartner {
			st = nil
		}
		cs.stories = append(cs.stories, st)
		if st != nil && st.conflict == nil {
			st.conflict = cs // hold its review until the case is decided
		}
	}
	// The first cases go through every outcome; then by chance.
	cs.outcome = cAward
	if g.conflicts < 4 {
		cs.outcome = g.conflicts
	} else {
		switch k := g.rng.IntN(100); {
		case k < 20:
			cs.outcome = cCoRegister
		case k < 32:
			cs.outcome = cRejectAll
		case k < 45:
			cs.outcome = cOverride
		}
	}
	cs.escalate = g.chance(0.08)
	g.conflicts++
	if g.chance(0.3) {
		party := pick(g, ev.Parties)
		g.schedule(g.later(time.Hour, days(1)), func() error {
			return g.tolerate(g.svc.RequestEvidence(g.ctx, g.manager(), cs.id, party.Key, pick(g, genEvidenceRequests)))
		})
	}
	for i, party := range ev.Parties {
		if !g.chance(0.7) {
			continue
		}
		var call app.Call
		var first time.Time
		switch {
		case party.Kind == domain.PartyDirect:
			call = pick(g, g.sales)
			first = party.FirstContact
		case cs.stories[i] != nil:
			call = cs.stories[i].user
			first = cs.stories[i].det.Relationship.FirstContactDate
		default:
			continue
		}
		g.schedule(g.later(days(0.5), days(2.5)), func() error {
			ev := domain.Evidence{Statement: pick(g, genEvidence), FirstContact: first}
			if g.chance(0.5) {
				ev.Timeline = []domain.Activity{{Kind: domain.ActivityDiscoveryCall, Date: first.Add(domain.Day)}}
			}
			return g.tolerate(g.svc.SubmitEvidence(g.ctx, call, cs.id, "", ev))
		})
	}
	g.schedule(g.later(days(2.5), days(5)), func() error { return g.decideConflict(cs) })
}

func (g *gen) conflict(id uuid.UUID) (*domain.Conflict, error) {
	recs, err := g.store.ReadStream(g.ctx, domain.ConflictStream(id), domain.ReadStreamOptions{})
	if err != nil {
		return nil, err
	}
	events, err := domain.DecodeRecorded(recs)
	if err != nil {
		return nil, err
	}
	return domain.RebuildConflict(events...)
}

func (g *gen) decider(level int) app.Call {
	switch level {
	case domain.ConflictLevelManager:
		return g.manager()
	case domain.ConflictLevelDirector:
		return pick(g, g.directors)
	}
	return pick(g, g.executives)
}

// decideConflict has the desk decide (or first escalate) a case: award to
// the policy's recommendation, co-register, reject all, or override the
// recommendation, which needs level 2.
func (g *gen) decideConflict(cs *conflictStory) error {
	c, err := g.conflict(cs.id)
	if err != nil {
		return err
	}
	if c.Status() != domain.ConflictStatusOpen {
		return g.conflictDone(cs)
	}
	rec, clause, _ := c.Recommendation()
	var partners []domain.Party
	for _, p := range c.Parties() {
		if p.Kind == domain.PartyPartner {
			partners = append(partners, p)
		}
	}
	d := domain.ConflictDecision{Outcome: domain.OutcomeAward, Winner: rec, PolicyClause: clause, Rationale: genRationales[0]}
	need := domain.ConflictLevelManager
	switch cs.outcome {
	case cCoRegister:
		if len(partners) >= 2 {
			split := pick(g, []int64{50, 60, 70})
			d = domain.ConflictDecision{Outcome: domain.OutcomeCoRegister, PolicyClause: "co-registration", Rationale: genRationales[1], Shares: []domain.Share{
				{PartyKey: partners[0].Key, Percent: decimal.NewFromInt(split), Responsibilities: "Licences and first-line support"},
				{PartyKey: partners[1].Key, Percent: decimal.NewFromInt(100 - split), Responsibilities: "Implementation and training"},
			}}
		}
	case cRejectAll:
		d = domain.ConflictDecision{Outcome: domain.OutcomeRejectAll, PolicyClause: "insufficient-proof", Rationale: genRationales[2]}
	case cOverride:
		for _, p := range c.Parties() {
			if p.Key != rec {
				d.Winner, d.PolicyClause, d.Rationale = p.Key, "desk-discretion", pick(g, genRationales[3:])
				break
			}
		}
	}
	if (d.Outcome == domain.OutcomeAward && d.Winner != rec) || (d.Outcome != domain.OutcomeAward && c.Kind() == domain.ConflictPartnerVsDirect) {
		need = domain.ConflictLevelDirector
	}
	if cs.escalate && c.Level() < domain.ConflictLevels {
		need = c.Level() + 1
		cs.escalate = false
	}
	if c.Level() < need {
		if err := g.svc.EscalateConflict(g.ctx, g.decider(c.Level()), cs.id, pick(g, genEscalations)); err != nil {
			return g.tolerate(err)
		}
		g.schedule(g.later(days(1), days(3)), func() error { return g.decideConflict(cs) })
		return nil
	}
	// Reviewers teach the matcher what the case showed: two spellings of
	// one customer, or two customers with similar names.
	if self := cs.stories[0]; self != nil && g.chance(0.4) {
		for i, p := range c.Parties()[1:] {
			other := cs.stories[i+1]
			if p.Kind != domain.PartyPartner || other == nil ||
				strings.EqualFold(strings.TrimSpace(other.det.Account.CompanyName), strings.TrimSpace(self.det.Account.CompanyName)) {
				continue
			}
			same := other.acct == self.acct
			note := "Same customer, registered under two spellings"
			if !same {
				note = "Different companies with similar names"
			}
			if err := g.svc.DecideAccountMatch(g.ctx, g.manager(), other.det.Account.CompanyName, self.det.Account.CompanyName, same, note); err != nil {
				return err
			}
			break
		}
	}
	if err := g.tolerate(g.svc.DecideConflict(g.ctx, g.decider(c.Level()), cs.id, d)); err != nil {
		return fmt.Errorf("decide conflict %s: %w", cs.id, err)
	}
	return g.conflictDone(cs)
}

// conflictDone wakes the parties' stories after a decision.
func (g *gen) conflictDone(cs *conflictStory) error {
	cs.open = false
	for _, st := range cs.stories {
		if st != nil && st.conflict == cs {
			st.conflict = nil
			g.next(st, g.later(time.Hour, days(1)))
		}
	}
	return nil
}

// beginDirect records a deal of the direct-sales team, which later updates
// and closes it unless a partner's conflict takes it.
func (g *gen) beginDirect() error {
	c := &genCountries[g.rng.IntN(len(genCountries))]
	if ps := g.byCountry[c.code]; len(ps) == 0 {
		c = g.partners[0].country
	}
	acct := g.names.account(c, pick(g, c.regions))
	owner := pick(g, g.sales)
	amount := math.Round(math.Exp(math.Log(150000)+0.8*g.rng.NormFloat64())/1000) * 1000
	d := &directStory{acct: acct, owner: owner, pool: -1, opp: domain.DirectOpportunity{
		Account:          domain.Account{CompanyName: acct.name, Domain: acct.domain, Country: c.code, Region: acct.region, Industry: genIndustries[acct.industry].name},
		ProductLines:     []string{pick(g, genProducts)},
		EstimatedValue:   domain.Money{Amount: decimal.NewFromFloat(max(amount, 10000)), Currency: c.currency},
		BuyingStage:      domain.StageDiscovery,
		FirstContactDate: g.clock.Now().Add(-days(10 + 60*g.rng.Float64())).Truncate(domain.Day),
		Owner:            slug(strings.Fields(owner.Name)[0]) + "@vendor.example",
		CRMID:            fmt.Sprintf("OPP-%06d", 100000+g.rng.IntN(900000)),
	}}
	id, err := g.svc.RecordDirect(g.ctx, owner, d.opp)
	if err != nil {
		return err
	}
	d.id = id
	d.pool = len(g.openDeal)
	g.openDeal = append(g.openDeal, d)
	if g.chance(0.5) {
		g.schedule(g.later(days(5), days(30)), func() error {
			if open, err := g.directOpen(d); err != nil || !open {
				return err
			}
			o := d.opp
			o.BuyingStage = domain.StageProposal
			o.EstimatedValue.Amount = o.EstimatedValue.Amount.Mul(decimal.NewFromFloat(1.1)).Round(0)
			d.opp = o
			return g.tolerate(g.svc.UpdateDirect(g.ctx, d.owner, d.id, o))
		})
	}
	g.schedule(g.later(days(30), days(150)), func() error {
		open, err := g.directOpen(d)
		if err == nil && open && g.chance(0.7) {
			outcome, reason := domain.DirectLost, "Customer chose a competitor"
			if g.chance(0.45) {
				outcome, reason = domain.DirectWon, "Contract signed"
			}
			err = g.tolerate(g.svc.CloseDirect(g.ctx, d.owner, d.id, outcome, reason))
		}
		last := g.openDeal[len(g.openDeal)-1]
		g.openDeal[d.pool], last.pool = last, d.pool
		g.openDeal = g.openDeal[:len(g.openDeal)-1]
		return err
	})
	return nil
}

func (g *gen) directOpen(d *directStory) (bool, error) {
	recs, err := g.store.ReadStream(g.ctx, domain.DirectStream(d.id), domain.ReadStreamOptions{})
	if err != nil {
		return false, err
	}
	events := make([]domain.Event, len(recs))
	for i, r := range recs {
		if events[i], err = domain.DecodeEvent(r.Type, r.SchemaVersion, r.Data); err != nil {
			return false, err
		}
	}
	dd, err := domain.RebuildDirect(events...)
	if err != nil {
		return false, err
	}
	return dd.Status() == domain.DirectOpen, nil
}
