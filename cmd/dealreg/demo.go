package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/projections"
)

func newDemoCommand() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Fill an empty ledger with a small, realistic partner program",
		Long: `demo enrols a few partners and registers deals in every state of the
lifecycle (draft, cleared, duplicate, under review, returned, active,
extended, rejected, expired, closed won and lost, withdrawn, revoked for a
violation, its partner suspended), under two policy versions (the second,
published with notice, approves proven partners automatically and routes
the other reviews by value and region), through the
same commands the HTTP API runs. Its story starts 200 days ago and ends now,
so protection periods have run and expired on the way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demo(cmd.Context(), cmd, dataDir)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory; the ledger in it must be empty or absent")
	return cmd
}

func demo(ctx context.Context, cmd *cobra.Command, dataDir string) error {
	logger := newLogger(cmd.ErrOrStderr())
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	end := time.Now().UTC()
	clock := domain.NewManualClock(end.Add(-200 * domain.Day))
	store, err := eventstore.OpenSQLite(ledgerPath(dataDir), eventstore.Options{Clock: clock, Logger: logger})
	if err != nil {
		return err
	}
	defer store.Close()
	if store.Head() != 0 {
		return fmt.Errorf("the ledger in %s already holds %d events; demo fills only an empty one", dataDir, store.Head())
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := app.New(app.Config{Store: store, Clock: clock, Logger: quiet})
	if err := svc.Start(ctx, false); err != nil {
		return err
	}
	defer svc.Stop()
	d := &demoRun{ctx: ctx, svc: svc, clock: clock, dataDir: dataDir}
	d.script()
	if d.err != nil {
		return d.err
	}
	clock.Set(end)
	if _, err := svc.RunDue(ctx, end); err != nil {
		return err
	}
	if err := d.summary(cmd.OutOrStdout(), dataDir); err != nil {
		return err
	}
	return d.portalUsers(cmd.OutOrStdout()) // demo_users.go
}

// demoRun plays the demo's story; the first error stops it.
type demoRun struct {
	ctx   context.Context
	svc   *app.Service
	clock *domain.ManualClock
	err   error
	// dataDir holds the attachment store the MDF receipts go to.
	dataDir string
}

var (
	demoAdmin    = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "demo:admin", Role: domain.RoleAdmin}, Name: "Demo admin"}}
	demoManager  = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "demo:maria", Role: domain.RoleChannelManager}, Name: "María (channel manager)"}}
	demoDirector = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "demo:jorge", Role: domain.RoleChannelDirector}, Name: "Jorge (channel director)"}}
)

func partnerCall(id, person string) app.Call {
	return app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "demo:" + person, Role: domain.RolePartner, PartnerID: id}, Name: person + " (" + id + ")"}}
}

func (d *demoRun) days(n int) { d.clock.Advance(time.Duration(n) * domain.Day) }

func (d *demoRun) check(_ app.Result, err error) {
	if d.err == nil && err != nil {
		d.err = err
	}
}

// deal returns realistic details of an opportunity at the current clock.
func (d *demoRun) deal(company, site, country, region, industry, product, value string) domain.Details {
	now := d.clock.Now()
	return domain.Details{
		Account: domain.Account{CompanyName: company, Domain: site, Country: country, Region: region, Industry: industry, EmployeeBand: domain.Employees1001To5000},
		Opportunity: domain.Opportunity{
			ProductLines:      []string{product},
			EstimatedValue:    domain.Money{Amount: decimal.RequireFromString(value), Currency: "USD"},
			ExpectedCloseDate: now.Add(75 * domain.Day),
			BuyingStage:       domain.StageEvaluation,
		},
		Relationship: domain.Relationship{
			HowFound:         domain.SourceReferral,
			FirstContactDate: now.Add(-20 * domain.Day),
			Activities: []domain.Activity{
				{Kind: domain.ActivityDiscoveryCall, Date: now.Add(-14 * domain.Day)},
				{Kind: domain.ActivityDemo, Date: now.Add(-3 * domain.Day)},
			},
			NextSteps: "Technical workshop with the IT team",
		},
		Proof: []domain.ProofItem{{Kind: domain.ProofBANT, Answers: []domain.Answer{
			{Question: "Budget", Answer: "Approved for this fiscal year"},
			{Question: "Authority", Answer: "CFO signs; CIO recommends"},
			{Question: "Need", Answer: "Replace spreadsheets and a legacy on-prem tool"},
			{Question: "Timeline", Answer: "Decision within the quarter"},
		}}},
		Personal: domain.Personal{DecisionMakers: []domain.Contact{{Name: "Ana Pérez", Title: "CFO"}}},
	}
}

// register creates (and with submit, submits) a registration.
func (d *demoRun) register(call app.Call, typ domain.RegistrationType, det domain.Details, submit bool) uuid.UUID {
	if d.err != nil {
		return uuid.Nil
	}
	id, _, err := d.svc.Create(d.ctx, call, typ, det, submit)
	if err != nil {
		d.err = fmt.Errorf("demo: register %s: %w", det.Account.CompanyName, err)
	}
	return id
}

func (d *demoRun) script() {
	for _, p := range []domain.Partner{
		{ID: "acme", Name: "Acme Integradores", Tier: domain.TierGold, Regions: []string{"Northeast", "Bajío"}},
		{ID: "globex", Name: "Globex Partners", Tier: domain.TierSilver, Regions: []string{"Centro"}},
		{ID: "initech", Name: "Initech Health Solutions", Tier: domain.TierPlatinum, Regions: []string{"Northeast"}},
		{ID: "umbrella", Name: "Umbrella Consulting", Tier: domain.TierRegistered},
	} {
		if _, err := d.svc.AddPartner(d.ctx, demoAdmin, p); err != nil && d.err == nil {
			d.err = err
		}
	}
	if _, err := d.svc.GrantTerritory(d.ctx, demoDirector, domain.TerritoryGrant{
		PartnerID: "initech", Country: "MX", Region: "Northeast", Vertical: "Healthcare",
		ValidFrom: d.clock.Now(), ValidTo: d.clock.Now().Add(365 * domain.Day),
	}); err != nil && d.err == nil {
		d.err = err
	}
	acme, globex := partnerCall("acme", "lucia"), partnerCall("globex", "diego")
	initech, umbrella := partnerCall("initech", "sofia"), partnerCall("umbrella", "pablo")
	s := d.svc

	// 200 days ago: an opportunity that ran its course and expired.
	expired := d.register(globex, domain.TypeOpportunity, d.deal("Cervecería del Norte", "cerveceria-norte.example", "MX", "Northeast", "Food & Beverage", "Inventory", "80000"), true)
	d.check(s.Approve(d.ctx, demoManager, expired))

	// The seed's first story: Acme registers Empresa XYZ; Globex, later, is told it is taken.
	d.days(10)
	xyz := d.register(acme, domain.TypeOpportunity, d.deal("Empresa XYZ S.A. de C.V.", "empresaxyz.example", "MX", "Bajío", "Manufacturing", "HR Management", "150000"), true)
	d.days(1)
	d.register(globex, domain.TypeOpportunity, d.deal("EMPRESA XYZ", "www.empresaxyz.example", "MX", "Bajío", "Manufacturing", "HR Management", "140000"), true)
	d.check(s.StartReview(d.ctx, demoManager, xyz))
	d.check(s.Approve(d.ctx, demoManager, xyz))

	// A deal won after an extension.
	d.days(20)
	won := d.register(acme, domain.TypeOpportunity, d.deal("Grupo Aeroportuario Sur", "gasur.example", "MX", "Sureste", "Transportation", "Payroll", "320000"), true)
	d.check(s.Approve(d.ctx, demoManager, won))
	d.mdf(acme, won, d.dataDir) // MDF in every state, and presales (demo_benefits.go)
	d.presales(won)
	d.days(80)
	d.check(s.RequestExtension(d.ctx, acme, won, "The board postponed the decision by a month"))
	d.check(s.GrantExtension(d.ctx, demoManager, won, 1))
	d.days(15)
	d.check(s.Progress(d.ctx, acme, won, domain.ProgressUpdate{BuyingStage: domain.StageCommit, NextSteps: "Contract signature"}))
	d.days(5)
	d.check(s.CloseWon(d.ctx, acme, won, domain.Money{Amount: decimal.RequireFromString("305000"), Currency: "USD"}, "Signed a 3-year subscription"))
	d.check(s.UnassignPresales(d.ctx, demoManager, won, "luis.gomez", "Deal signed; the architect stays for the hand-over"))

	// A named account of a platinum partner, and its territory grant at work.
	d.register(initech, domain.TypeNamedAccount, d.deal("Hospital Universitario de Monterrey", "hum.example", "MX", "Northeast", "Healthcare", "HR Management", "500000"), true)
	named, _, _ := s.Registrations.List(projections.ListFilter{PartnerID: "initech"}, "", 1)
	if len(named) == 1 {
		d.check(s.Approve(d.ctx, demoDirector, named[0].ID))
	}

	// A rejection with its reason and guidance.
	d.days(10)
	rejected := d.register(umbrella, domain.TypeOpportunity, d.deal("Farmacias Benavides", "benavides.example", "MX", "Northeast", "Retail", "Analytics", "45000"), true)
	d.check(s.Reject(d.ctx, demoManager, rejected, domain.RejectRelationshipNotProven,
		"The registration shows no meeting with the buyer yet.",
		"Attach the meeting confirmation or the e-mail introduction and register again."))

	// The channel leader publishes version 2 with 30 days' notice
	// (demo_policy.go): what is decided from its effective date on is
	// decided under it; what was approved before keeps version 1's terms.
	d.publishPolicyV2()

	// A lost deal, and a withdrawn one.
	lost := d.register(globex, domain.TypeOpportunity, d.deal("Textiles Puebla", "textilespuebla.example", "MX", "Centro", "Textiles", "Inventory", "60000"), true)
	d.check(s.Approve(d.ctx, demoManager, lost))
	d.days(20)
	d.check(s.CloseLost(d.ctx, globex, lost, "The customer chose the incumbent vendor"))
	withdrawn := d.register(umbrella, domain.TypeOpportunity, d.deal("Constructora Del Valle", "delvalle.example", "MX", "Centro", "Construction", "Payroll", "90000"), true)
	d.check(s.Withdraw(d.ctx, umbrella, withdrawn, "The project was cancelled by the customer"))

	// The direct-sales team was already talking to Cementos del Bajío: a
	// partner registering it opens a partner-vs-direct case, left open.
	sales := app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "demo:carlos", Role: domain.RoleDirectSales}, Name: "Carlos (direct sales)"}}
	cem := d.deal("Cementos del Bajío", "cementosbajio.example", "MX", "Bajío", "Construction", "Payroll", "260000")
	if _, err := s.RecordDirect(d.ctx, sales, domain.DirectOpportunity{
		Account: cem.Account, ProductLines: cem.Opportunity.ProductLines, EstimatedValue: cem.Opportunity.EstimatedValue,
		BuyingStage: domain.StageDiscovery, FirstContactDate: d.clock.Now().Add(-45 * domain.Day), Owner: "carlos@vendor.example", CRMID: "OPP-20417",
	}); err != nil && d.err == nil {
		d.err = err
	}
	d.days(3)
	d.register(globex, domain.TypeOpportunity, cem, true)

	// Two partners worked the same customer under slightly different
	// names: the desk co-registers them 60/40.
	d.days(2)
	aw := d.register(acme, domain.TypeOpportunity, d.deal("Adventure Works Cycles", "", "MX", "Centro", "Retail", "Analytics", "180000"), true)
	d.days(1)
	aw2 := d.register(umbrella, domain.TypeOpportunity, d.deal("Adventure Works", "", "MX", "Centro", "Retail", "Analytics", "175000"), true)
	if cases := s.Conflicts.Queue(projections.QueueFilter{Status: "open"}); d.err == nil && len(cases) > 0 {
		for _, c := range cases {
			if c.Kind != domain.ConflictPartnerVsPartner {
				continue
			}
			d.check(app.Result{}, s.SubmitEvidence(d.ctx, umbrella, c.ID, "", domain.Evidence{
				Statement: "We delivered the analytics workshop for their stores team.", FirstContact: d.clock.Now().Add(-30 * domain.Day),
			}))
			d.check(app.Result{}, s.DecideConflict(d.ctx, demoManager, c.ID, domain.ConflictDecision{
				Outcome: domain.OutcomeCoRegister,
				Shares: []domain.Share{
					{PartyKey: domain.PartyKeyRegistration(aw), Percent: decimal.RequireFromString("60"), Responsibilities: "Licences and first-line support"},
					{PartyKey: domain.PartyKeyRegistration(aw2), Percent: decimal.RequireFromString("40"), Responsibilities: "Store analytics implementation"},
				},
				Rationale:    "Both partners show documented work with different buying centres.",
				PolicyClause: "co-registration",
			}))
		}
	}

	// The partner program: records, and a violation (demo_program.go).
	d.program()

	// Recent activity: a deal back with the partner, one under review,
	// one cleared and waiting, an active one with an extension pending,
	// a possible conflict with another partner's territory, and a draft.
	d.days(22)
	returned := d.register(globex, domain.TypeOpportunity, d.deal("Minera Sierra Alta", "sierraalta.example", "MX", "Norte", "Mining", "Payroll", "210000"), true)
	d.check(s.Return(d.ctx, demoManager, returned, "Please name the economic buyer and attach the discovery deliverable.", []string{"personal.decision_makers", "proof"}))
	pending := d.register(acme, domain.TypeOpportunity, d.deal("Logística Express", "logiexpress.example", "MX", "Northeast", "Logistics", "Fleet", "120000"), true)
	d.check(s.Approve(d.ctx, demoManager, pending))
	d.check(s.AssignPresales(d.ctx, demoManager, pending, "marta.diaz", 6))
	// A clean deal below 100,000 from Acme, whose record is proven:
	// approved at once by version 2's automation, the rule named.
	d.register(acme, domain.TypeOpportunity, d.deal("Hotel Fiesta Monterrey", "fiestamty.example", "MX", "Northeast", "Hospitality", "Payroll", "85000"), true)
	d.days(6)
	review := d.register(acme, domain.TypeOpportunity, d.deal("Banco Regional del Norte", "banregio-demo.example", "MX", "Northeast", "Banking", "Analytics", "410000"), true)
	d.check(s.StartReview(d.ctx, demoManager, review))
	d.register(umbrella, domain.TypeOpportunity, d.deal("Clínica San José", "clinicasanjose.example", "MX", "Northeast", "Healthcare", "HR Management", "70000"), true)
	d.days(1)
	d.register(globex, domain.TypeOpportunity, d.deal("Universidad del Centro", "udc.example", "MX", "Centro", "Education", "Analytics", "95000"), true)
	d.register(acme, domain.TypeOpportunity, d.deal("Aceros Laguna", "aceroslaguna.example", "MX", "Norte", "Steel", "Inventory", "0.01"), false)
	// The active deal nears its end: the partner asks for more time.
	d.clock.Set(time.Now().UTC().Add(-domain.Day))
	d.check(s.RequestExtension(d.ctx, acme, pending, "Security review by the customer takes three more weeks"))
}

// summary prints what the demo made and how to look at it.
func (d *demoRun) summary(w io.Writer, dataDir string) error {
	views, _, err := d.svc.Registrations.List(projections.ListFilter{}, "", projections.MaxListLimit)
	if err != nil {
		return err
	}
	count := map[domain.Status]int{}
	for _, v := range views {
		count[v.Status]++
	}
	statuses := make([]string, 0, len(count))
	for s := range count {
		statuses = append(statuses, string(s))
	}
	sort.Strings(statuses)
	fmt.Fprintf(w, "demo: %d partners, %d registrations in %s\n", len(d.svc.Directory.Partners()), len(views), dataDir)
	for _, s := range statuses {
		fmt.Fprintf(w, "  %-20s %d\n", s, count[domain.Status(s)])
	}
	d.policySummary(w, views)
	d.programSummary(w)
	d.benefitsSummary(w)
	fmt.Fprintf(w, "\nNext:\n  dealreg token create --data %s --role channel_manager --name you\n  dealreg serve --data %s\n", dataDir, dataDir)
	return nil
}
